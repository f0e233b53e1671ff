/**
 * Float32 GEMM on WebAssembly SIMD: the CPU backend's fast path for float32 matmuls.
 *
 * V8 never auto-vectorises JS, so the packed JS kernel in `matmul.ts` tops out at a few
 * GFLOP/s; a wasm kernel with f32x4 accumulators does 4 lanes per instruction. The structure is
 * the usual GotoBLAS/BLIS one:
 *
 * - Each operand's span is copied into the module's linear memory with one `TypedArray.set`
 *   (a memcpy, converting int32 to float32 on the way), then wasm packs B (all of K, up to
 *   `nc` columns) into `nr`-column panels and, per block of `mc` rows, A into `mr`-row panels,
 *   both interleaved by k. Packing follows the {@link MatView} strides, so transposed operands
 *   cost nothing extra. Ragged edge panels are packed (zero-padded) in JS, so the kernel only
 *   ever computes full tiles; views too spread out to copy whole are packed in JS entirely.
 * - One wasm call per (row block, k-block of `kc`) runs the macro-kernel (see
 *   `wasm/gemm-kernel.ts`): an `mr×nr` register tile of v128 accumulators walks the k-block,
 *   then adds into (or, for the first k-block, stores to) a padded C block in wasm memory.
 * - JS copies the valid part of the C block to the output.
 *
 * Products and sums are float32 (like BLAS and PyTorch), unlike the JS kernel's float64
 * accumulators; the error grows like √K·ε in practice.
 *
 * Large products are shared out across worker threads by `matmul-threads.ts` (the same module
 * on a shared memory, driven through {@link WasmGemm.gemmPasses}); results are bit-identical.
 */
import { TensorError } from '../../core/errors.js';
import type { MatView } from './matmul.js';
import { gemmThreaded } from './matmul-threads.js';
import { GEMM_EXPORTS, type GemmKernelShape, buildGemmModule } from './wasm/gemm-kernel.js';

/** Blocking parameters of a {@link WasmGemm}: register tile plus cache blocks. */
export interface WasmGemmConfig extends GemmKernelShape {
  /** k-block: an `nr×kc` B panel and an `mr×kc` A panel should sit in L1 together. */
  kc: number;
  /** Rows per A block: `mc×kc` floats should sit in L2 (reused against every B panel). */
  mc: number;
  /**
   * Most columns of B packed at once (fewer when K is large, see {@link WasmGemm}); bounds
   * the workspace for very wide B such as an LM head.
   */
  nc: number;
}

/**
 * Defaults, measured on a Sapphire Rapids core (48 KiB L1d, 2 MiB L2) under Node 20: 4×8 beat
 * 5×8 and 6×8 by 10–20% and 3×16 by 5× (17 live v128 values spill); unrolling k ×2/×4/×8
 * made TurboFan's code 15–35% slower, so the loop is not unrolled; kc ∈ [128, 512] and
 * mc ∈ [64, 256] are within noise of each other; nc = 1024 beat 8192 by ~6% on 768×3072
 * (the packed B chunk stays nearer the core) and ties elsewhere.
 */
export const DEFAULT_WASM_GEMM: WasmGemmConfig = { mr: 4, nr: 8, unroll: 1, kc: 256, mc: 128, nc: 1024 };

/**
 * Target size (floats) of a packed B chunk: for K > 4096 the chunk narrows below `nc` (to no
 * less than 256 columns), so the workspace grows like K·256 rather than K·nc.
 */
const B_CHUNK_FLOATS = 1 << 22;

const PAGE = 65536;

type BlockFn = (ap: number, bp: number, c: number, ldc: number, kc: number, mp: number, np: number, acc: number) => void;
type PackFn = (dst: number, src: number, kc: number, panels: number, ks: number, js: number) => void;

/** Whether `TypedArray.set` can copy (and convert) from this array in one native call. */
function copyable(d: ArrayLike<number>): d is Float32Array {
  return ArrayBuffer.isView(d) && !(d instanceof DataView) && !(d instanceof BigInt64Array) && !(d instanceof BigUint64Array);
}

/**
 * Floats to reserve for staging a rows×cols submatrix (see {@link stage}): the submatrix plus
 * a little slack, so a span with a few holes (a view at an odd offset) still copies in one go.
 */
const stageFloats = (rows: number, cols: number): number => rows * cols + 64;

/**
 * Copies the rows×cols submatrix of `v` whose element (0, 0) is at index `origin` into `mem` at
 * `at`, with native `TypedArray.set` copies (memcpy speed, converting int32 to float32 on the
 * way), and returns it as a view of `mem`: one copy of its whole index range when that is
 * compact (the backend's dense operands and their transposes, and column chunks of a
 * transposed B), else one copy per row (or column) when rows (or columns) are contiguous. Returns `null` for
 * anything else (plain arrays, scattered views), which JS then packs element by element.
 */
function stage(v: MatView, origin: number, rows: number, cols: number, mem: Float32Array, at: number): MatView | null {
  const d = v.data;
  if (!copyable(d)) return null;
  const { rs, cs } = v;
  const dr = (rows - 1) * rs;
  const dc = (cols - 1) * cs;
  const lo = origin + Math.min(0, dr) + Math.min(0, dc);
  const len = Math.abs(dr) + Math.abs(dc) + 1;
  if (lo < 0 || lo + len > d.length) return null; // malformed view: let JS read it as it is
  if (len <= stageFloats(rows, cols)) {
    mem.set(d.subarray(lo, lo + len), at);
    return { data: mem, offset: at + origin - lo, rs, cs };
  }
  if (cs === 1) {
    for (let r = 0; r < rows; r++) mem.set(d.subarray(origin + r * rs, origin + r * rs + cols), at + r * cols);
    return { data: mem, offset: at, rs: cols, cs: 1 };
  }
  if (rs === 1) {
    for (let q = 0; q < cols; q++) mem.set(d.subarray(origin + q * cs, origin + q * cs + rows), at + q * rows);
    return { data: mem, offset: at, rs: 1, cs: rows };
  }
  return null;
}

/**
 * One pass of {@link WasmGemm.gemmPasses}: A rows `ic … ic+rows` are packed (all of K) at float
 * `aOff`, B columns of the current chunk (all of K) at `bOff`, and the padded C block
 * (`mp·mr` × `np·nr`, row stride `np·nr` floats) at `cOff`. Running `gemm_block` for every
 * k-block over any partition of the `mp × np` panel grid into rectangles fills the C block, and
 * each element comes out the same whatever the partition (see `runGemmTask`).
 */
export interface GemmPass {
  aOff: number;
  bOff: number;
  cOff: number;
  /** A panels (of `mr` rows) and B panels (of `nr` columns) in this pass. */
  mp: number;
  np: number;
  K: number;
}

/** A compiled kernel with its own memory; not reentrant (JS is single-threaded per isolate). */
export class WasmGemm {
  /** Blocking parameters this instance was built with. */
  readonly config: WasmGemmConfig;
  private readonly memory: WebAssembly.Memory;
  private readonly block: BlockFn;
  private readonly packA: PackFn;
  private readonly packAUnit: PackFn;
  private readonly packB: PackFn;
  private readonly packBUnit: PackFn;
  /** View of the whole memory; recreated after every grow (growing detaches the old buffer). */
  private f32: Float32Array;

  /** The compiled module, shared by instances of the same config (each has its own memory). */
  readonly module: WebAssembly.Module;

  /**
   * Compiles the kernel synchronously (the module is ~2 KB, well under the main-thread limit
   * browsers put on sync compilation), or instantiates an already compiled `module` built with
   * the same `config`. Throws a `WebAssembly.CompileError` where SIMD is unsupported. With
   * `memory` (a shared memory), `module` must be one built to import it as `env.mem` (see
   * `buildGemmModule`'s `shared` argument).
   */
  constructor(config: WasmGemmConfig = DEFAULT_WASM_GEMM, module?: WebAssembly.Module, memory?: WebAssembly.Memory) {
    if (config.nc % config.nr !== 0 || config.mc % config.mr !== 0) {
      throw new RangeError(`WasmGemm: nc must be a multiple of nr and mc of mr (${JSON.stringify(config)})`);
    }
    this.config = config;
    this.module = module ?? new WebAssembly.Module(buildGemmModule(config));
    const ex = new WebAssembly.Instance(this.module, memory ? { env: { mem: memory } } : {}).exports;
    this.memory = ex[GEMM_EXPORTS.memory] as WebAssembly.Memory;
    this.block = ex[GEMM_EXPORTS.block] as unknown as BlockFn;
    this.packA = ex[GEMM_EXPORTS.packA] as unknown as PackFn;
    this.packAUnit = ex[GEMM_EXPORTS.packAUnit] as unknown as PackFn;
    this.packB = ex[GEMM_EXPORTS.packB] as unknown as PackFn;
    this.packBUnit = ex[GEMM_EXPORTS.packBUnit] as unknown as PackFn;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /**
   * Workspace layout for a problem, in floats: packed B chunk (K × ncp), packed A block
   * (mcp × K), C block (mcp × ncp), and room to stage a B chunk and an A block.
   */
  private workspace(M: number, N: number, K: number, mc = this.config.mc): { nc: number; b: number; a: number; c: number; sb: number; sa: number; total: number } {
    const { mr, nr } = this.config;
    const nc = this.chunkWidth(K);
    const ncb = Math.min(nc, N);
    const mcb = Math.min(mc, M);
    const b = K * roundUp(ncb, nr);
    const a = K * roundUp(mcb, mr);
    const c = roundUp(mcb, mr) * roundUp(ncb, nr);
    const sb = stageFloats(K, ncb);
    const sa = stageFloats(mcb, K);
    return { nc, b, a, c, sb, sa, total: b + a + c + sb + sa };
  }

  /** Columns per B chunk: `nc`, narrowed for long K (the A block is re-packed per chunk). */
  private chunkWidth(K: number): number {
    const { nr, nc } = this.config;
    const fit = Math.floor(B_CHUNK_FLOATS / K / nr) * nr;
    return Math.max(Math.min(nc, 256), Math.min(nc, fit));
  }

  /**
   * Bytes of wasm memory a problem needs (they stay allocated: wasm memory never shrinks), with
   * A packed `rows` rows at a time (the `mc` block by default; see {@link gemmPasses}).
   */
  workspaceBytes(M: number, N: number, K: number, rows = this.config.mc): number {
    return this.workspace(M, N, K, rows).total * 4;
  }

  private ensure(floats: number): Float32Array {
    const bytes = floats * 4;
    const have = this.memory.buffer.byteLength;
    if (have < bytes) {
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch (e) {
        throw new TensorError('OUT_OF_MEMORY', `cannot grow the wasm GEMM workspace to ${bytes} bytes: ${(e as Error).message}`);
      }
      this.f32 = new Float32Array(this.memory.buffer);
    }
    return this.f32;
  }

  /**
   * C = A·B with the semantics of `gemm` in `matmul.ts`: A is M×K and B is K×N strided views,
   * C is written row-major (M×N at `cOffset`), overwriting what was there.
   */
  gemm(M: number, N: number, K: number, a: MatView, b: MatView, c: Float32Array, cOffset: number): void {
    const { mr, nr, mc, kc: KC } = this.config;
    // One pass per `mc` rows, all block products on this thread: the threaded path runs the same
    // passes with the products shared out, which is why both give bit-identical results.
    this.gemmPasses(M, N, K, a, b, c, cOffset, mc, (p) => {
      const mcp = p.mp * mr;
      const ncp = p.np * nr;
      for (let pc = 0; pc < K; pc += KC) {
        // Block pc of each pack starts after the previous blocks: pc·(panel width) floats.
        this.block(4 * (p.aOff + pc * mcp), 4 * (p.bOff + pc * ncp), 4 * p.cOff, 4 * ncp, Math.min(KC, K - pc), p.mp, p.np, pc > 0 ? 1 : 0);
      }
      return true;
    });
  }

  /**
   * C = A·B like {@link gemm}, but A is packed `rows` rows at a time (a multiple of `mc`) and
   * each pass's block products are left to `run`, which must call {@link runTask} (here or, on
   * the same shared memory, in another thread) over a partition of the pass's panel grid. This
   * is how `matmul-threads.ts` splits one product across workers: staging and packing stay
   * here, on the calling thread, and only the O(M·N·K) block products are shared out. Returns
   * `false` as soon as `run` does (the pass failed; `c` is then partly written).
   */
  gemmPasses(M: number, N: number, K: number, a: MatView, b: MatView, c: Float32Array, cOffset: number, rows: number, run: (pass: GemmPass) => boolean): boolean {
    if (M === 0 || N === 0) return true;
    if (K === 0) {
      c.fill(0, cOffset, cOffset + M * N);
      return true;
    }
    const { mr, nr, mc, kc: KC } = this.config;
    if (rows % mc !== 0) throw new RangeError(`gemmPasses: rows ${rows} is not a multiple of mc ${mc}`);
    const ws = this.workspace(M, N, K, rows);
    const nc = ws.nc;
    if (ws.total * 4 > 2 ** 31) throw new TensorError('OUT_OF_MEMORY', `wasm GEMM workspace for ${M}×${K}·${K}×${N} exceeds 2 GiB`);
    const mem = this.ensure(ws.total);
    const bOff = 0;
    const aOff = bOff + ws.b;
    const cOff = aOff + ws.a;
    const sbOff = cOff + ws.c;
    const saOff = sbOff + ws.sb;
    for (let jc = 0; jc < N; jc += nc) {
      const ncb = Math.min(nc, N - jc);
      const ncp = roundUp(ncb, nr);
      const sb = stage(b, b.offset + jc * b.cs, K, ncb, mem, sbOff);
      const bv = sb ?? b;
      const bOrigin = sb ? sb.offset : b.offset + jc * b.cs;
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        this.pack(bv, bOrigin + pc * bv.rs, bv.rs, bv.cs, kc, ncb, nr, bOff + pc * ncp, this.packB, this.packBUnit);
      }
      for (let ic = 0; ic < M; ic += rows) {
        const mcb = Math.min(rows, M - ic);
        const mcp = roundUp(mcb, mr);
        const sa = stage(a, a.offset + ic * a.rs, mcb, K, mem, saOff);
        const av = sa ?? a;
        const aOrigin = sa ? sa.offset : a.offset + ic * a.rs;
        for (let pc = 0; pc < K; pc += KC) {
          const kc = Math.min(KC, K - pc);
          this.pack(av, aOrigin + pc * av.cs, av.cs, av.rs, kc, mcb, mr, aOff + pc * mcp, this.packA, this.packAUnit);
        }
        if (!run({ aOff, bOff, cOff, mp: mcp / mr, np: ncp / nr, K })) return false;
        copyOut(mem, cOff, ncp, mcb, ncb, c, cOffset + ic * N + jc, N);
      }
    }
    return true;
  }

  /**
   * Block products of A panels `q0 … q1` by B panels `p0 … p1` of a {@link GemmPass}, over all
   * of K in `kc` steps, exactly as {@link gemm} does them for its row blocks: every C element
   * gets the same k-blocks in the same order whatever rectangle it falls in, so any partition
   * gives bit-identical results. The worker script in `matmul-threads.ts` mirrors this loop.
   */
  runTask(pass: GemmPass, q0: number, q1: number, p0: number, p1: number): void {
    const { mr, nr, kc: KC } = this.config;
    const { aOff, bOff, cOff, mp, np, K } = pass;
    const mcp = mp * mr;
    const ncp = np * nr;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      this.block(4 * (aOff + pc * mcp + q0 * kc * mr), 4 * (bOff + pc * ncp + p0 * kc * nr), 4 * (cOff + q0 * mr * ncp + p0 * nr), 4 * ncp, kc, q1 - q0, p1 - p0, pc > 0 ? 1 : 0);
    }
  }

  /**
   * Packs one k-block of an operand into w-wide panels at `dst` (floats): panel p holds, for
   * each k < kc, elements j = p·w … p·w+w−1 of the panel direction, where element (k, j) is
   * `v.data[origin + k·ks + j·js]`. When `v` is staged in wasm memory, full panels are packed
   * by wasm; the ragged last panel (and everything, for unstaged views) is packed here,
   * zero-padded so padded lanes stay finite and not denormal (which would slow every multiply
   * ~100×). Padded rows and columns of C are never copied out.
   */
  private pack(v: MatView, origin: number, ks: number, js: number, kc: number, n: number, w: number, dst: number, packFn: PackFn, packUnit: PackFn): void {
    const full = Math.floor(n / w);
    let p0 = 0;
    if (v.data === this.f32) {
      (js === 1 ? packUnit : packFn)(4 * dst, 4 * origin, kc, full, 4 * ks, 4 * js);
      p0 = full;
    }
    const panels = Math.ceil(n / w);
    if (p0 === panels) return;
    const mem = this.f32;
    const d = v.data;
    let o = dst + p0 * kc * w;
    for (let p = p0; p < panels; p++) {
      for (let k = 0; k < kc; k++) {
        const row = origin + k * ks;
        for (let q = 0; q < w; q++, o++) {
          const j = p * w + q;
          mem[o] = j < n ? d[row + j * js]! : 0;
        }
      }
    }
  }
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Copies the valid mc×nc corner of the padded C block (row stride ldc) to `c` (row stride N). */
function copyOut(mem: Float32Array, cOff: number, ldc: number, mc: number, nc: number, c: Float32Array, dst: number, N: number): void {
  if (ldc === nc && nc === N) {
    c.set(mem.subarray(cOff, cOff + mc * N), dst);
    return;
  }
  for (let r = 0; r < mc; r++) {
    const src = cOff + r * ldc;
    const o = dst + r * N;
    // subarray+set has a fixed cost of an allocation; short rows are cheaper copied by hand.
    if (nc >= 64) c.set(mem.subarray(src, src + nc), o);
    else for (let q = 0; q < nc; q++) c[o + q] = mem[src + q]!;
  }
}

let shared: WasmGemm | null | undefined;

/**
 * The process-wide kernel, compiled on first use; `null` when WebAssembly SIMD is unavailable
 * (old engines, or wasm disabled), in which case callers stay on the JS kernel.
 */
export function sharedWasmGemm(): WasmGemm | null {
  if (shared === undefined) {
    try {
      shared = typeof WebAssembly === 'object' ? new WasmGemm() : null;
    } catch {
      shared = null; // CompileError: no SIMD support
    }
  }
  return shared;
}

/**
 * Wasm memory can grow but never shrink, so the shared instance only serves problems whose
 * workspace fits in this much (any M and N with K up to ~20k: the workspace is about
 * (2·nc + 2·mc)·K floats, 11 MB for T5-base shapes); bigger ones (weight gradients summed over
 * tens of thousands of tokens) get a throwaway instance of the same compiled module, whose
 * memory the GC reclaims after the call.
 */
const RETAIN_BYTES = 64 << 20;

/** Largest workspace a call may use (K ≈ 300k); beyond it the JS kernel runs. */
const MAX_WORKSPACE_BYTES = 1 << 30;

/** Which CPU GEMM implementation to use. */
export type CpuMatmulImpl = 'js' | 'wasm';

/** `TPV_CPU_MATMUL=js|wasm` forces an implementation (read per call so benchmarks can switch). */
function forcedImpl(): CpuMatmulImpl | null {
  const v = typeof process !== 'undefined' ? process.env?.TPV_CPU_MATMUL : undefined;
  if (v === undefined || v === '') return null;
  if (v !== 'js' && v !== 'wasm') throw new TensorError('ARGUMENT', `TPV_CPU_MATMUL=${v} is not an implementation (js, wasm)`);
  return v;
}

/**
 * Below this many multiply-adds both kernels take well under a microsecond (4×4×4: 0.6 µs in
 * JS, 0.3 µs in wasm), so nothing measurable is gained and tiny products keep the JS kernel's
 * float64 accumulation.
 */
const MIN_WASM_MACS = 256;

/**
 * Picks the GEMM for one (possibly batched) CPU matmul of M×K by K×N. Float64 results always
 * use the JS kernel (it accumulates in float64; wasm would lose precision). Float32 results use
 * wasm SIMD whenever it is available, apart from trivial sizes: measured, it is 3–13× faster
 * from 4×8×8 up, ~10× on large products, and still 1.5–2× at M = 1 (decoding, where copying
 * and packing B dominate).
 * `TPV_CPU_MATMUL=js|wasm` overrides the choice for float32 (forcing `wasm` where SIMD is
 * unavailable throws rather than silently measuring JS).
 */
export function chooseCpuMatmul(M: number, N: number, K: number, outDtype: 'float32' | 'float64'): CpuMatmulImpl {
  const forced = forcedImpl();
  if (outDtype === 'float64' || forced === 'js') return 'js';
  const kernel = sharedWasmGemm();
  if (forced === 'wasm' && !kernel) throw new TensorError('BACKEND', 'TPV_CPU_MATMUL=wasm, but this engine cannot compile WebAssembly SIMD');
  if (!kernel || kernel.workspaceBytes(M, N, K) > MAX_WORKSPACE_BYTES) return 'js';
  return forced === 'wasm' || M * N * K >= MIN_WASM_MACS ? 'wasm' : 'js';
}

/**
 * C = A·B on WebAssembly SIMD, with the semantics of `gemm` in `matmul.ts` but float32
 * accumulation, on several threads when large enough (bit-identical either way; see
 * `matmul-threads.ts`). Call only after {@link chooseCpuMatmul} returned `wasm`.
 */
export function gemmWasm(M: number, N: number, K: number, a: MatView, b: MatView, c: Float32Array, cOffset: number): void {
  // Large products are shared out across worker threads (`TPV_CPU_THREADS`); `false` means
  // below the threshold, one thread configured, or the pool unavailable or broken.
  if (gemmThreaded(M, N, K, a, b, c, cOffset)) return;
  const kernel = sharedWasmGemm()!;
  const big = kernel.workspaceBytes(M, N, K) > RETAIN_BYTES;
  (big ? new WasmGemm(kernel.config, kernel.module) : kernel).gemm(M, N, K, a, b, c, cOffset);
}
