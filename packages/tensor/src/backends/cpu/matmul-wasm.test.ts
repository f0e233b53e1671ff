import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from './cpu-backend.js';
import { type MatView, gemm } from './matmul.js';
import { DEFAULT_WASM_GEMM, WasmGemm, chooseCpuMatmul, sharedWasmGemm } from './matmul-wasm.js';
import { Code, ValType, emitModule, sleb, uleb } from './wasm/emit.js';
import { buildGemmModule } from './wasm/gemm-kernel.js';

/** Sizes around the register tile (4×8), the unroll and the blocks, where edge bugs live. */
const EDGE = [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 31, 33];
const dim = (max: number) => fc.oneof(fc.constantFrom(...EDGE), fc.integer({ min: 1, max }));

/**
 * How an operand sits in its array: `row` (dense row-major), `col` (dense transposed, as the
 * backend passes transA/transB), `padded` (row-major with a longer row stride), `sparse` (both
 * strides > 1 and far apart: too spread out to stage, so JS packs it), `reversed` (negative row
 * stride).
 */
type Layout = 'row' | 'col' | 'padded' | 'sparse' | 'reversed';
const layoutArb = fc.constantFrom<Layout>('row', 'row', 'col', 'col', 'padded', 'sparse', 'reversed');
type Store = 'f32' | 'i32' | 'array';

interface Operand {
  view: MatView;
  /** Element (r, c) as a number, for building references. */
  at: (r: number, c: number) => number;
}

/** A rows×cols operand with the given layout, random values in [-1, 1] (or small ints). */
function makeOperand(rows: number, cols: number, layout: Layout, offset: number, store: Store, seed: number): Operand {
  let rs: number;
  let cs: number;
  let base = offset;
  switch (layout) {
    case 'row':
      [rs, cs] = [cols, 1];
      break;
    case 'col':
      [rs, cs] = [1, rows];
      break;
    case 'padded':
      [rs, cs] = [cols + 3, 1];
      break;
    case 'sparse':
      [rs, cs] = [5 * cols + 1, 5];
      break;
    case 'reversed':
      [rs, cs] = [-cols, 1];
      base = offset + (rows - 1) * cols;
      break;
  }
  const size = base + Math.max(0, (rows - 1) * rs) + (cols - 1) * cs + 1 + 2;
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const values = Array.from({ length: size }, () => (store === 'i32' ? Math.floor(rnd() * 7) - 3 : rnd() * 2 - 1));
  const data = store === 'f32' ? Float32Array.from(values) : store === 'i32' ? Int32Array.from(values) : values;
  const view: MatView = { data, offset: base, rs, cs };
  return { view, at: (r, c) => data[base + r * rs + c * cs]! };
}

/** The JS kernel with float64 output: float64 accumulation, the reference for float32 wasm. */
function reference(M: number, N: number, K: number, a: MatView, b: MatView): Float64Array {
  const out = new Float64Array(M * N);
  gemm(M, N, K, a, b, out, 0);
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>, from = 0, n = x.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[from + i]! - y[i]!));
  return m;
}

/** float32 accumulation error: per-product rounding plus K sums of values ≤ K in size. */
const tol = (K: number) => 1e-6 * K + 1e-6;

interface Problem {
  M: number;
  N: number;
  K: number;
  la: Layout;
  lb: Layout;
  offA: number;
  offB: number;
  store: Store;
  seed: number;
}

const problemArb = (maxM: number, maxN: number, maxK: number): fc.Arbitrary<Problem> =>
  fc.record({
    M: dim(maxM),
    N: dim(maxN),
    K: dim(maxK),
    la: layoutArb,
    lb: layoutArb,
    offA: fc.integer({ min: 0, max: 7 }),
    offB: fc.integer({ min: 0, max: 7 }),
    store: fc.constantFrom<Store>('f32', 'f32', 'f32', 'i32', 'array'),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });

function checkAgainstReference(kernel: WasmGemm, p: Problem): void {
  const { M, N, K, la, lb, offA, offB, store, seed } = p;
  const a = makeOperand(M, K, la, offA, store, seed);
  const b = makeOperand(K, N, lb, offB, store, seed ^ 0x5bd1e995);
  const ref = reference(M, N, K, a.view, b.view);
  // Output at an offset inside a larger, poisoned array: the kernel must write exactly M·N
  // elements there and nothing around them.
  const cOff = 3;
  const c = new Float32Array(M * N + 6).fill(Number.NaN);
  kernel.gemm(M, N, K, a.view, b.view, c, cOff);
  expect(Number.isNaN(c[cOff - 1]!) && Number.isNaN(c[cOff + M * N]!), 'wrote outside C').toBe(true);
  const err = maxAbsDiff(c, ref, cOff, M * N);
  expect(err, `M=${M} N=${N} K=${K} A:${la}+${offA} B:${lb}+${offB} ${store}`).toBeLessThanOrEqual(tol(K));
}

describe('wasm binary emitter', () => {
  it('encodes LEB128 like the spec examples', () => {
    const u: number[] = [];
    uleb(u, 624485);
    expect(u).toEqual([0xe5, 0x8e, 0x26]);
    const big: number[] = [];
    uleb(big, 0xffffffff);
    expect(big).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    const s: number[] = [];
    sleb(s, -123456);
    expect(s).toEqual([0xc0, 0xbb, 0x78]);
    const edges: number[][] = [];
    for (const n of [0, 63, 64, -64, -65, 0x7fffffff, -0x80000000]) {
      const o: number[] = [];
      sleb(o, n);
      edges.push(o);
    }
    expect(edges).toEqual([[0x00], [0x3f], [0xc0, 0x00], [0x40], [0xbf, 0x7f], [0xff, 0xff, 0xff, 0xff, 0x07], [0x80, 0x80, 0x80, 0x80, 0x78]]);
  });

  it('assembles a module that validates and runs (f32x4 splat/mul/add, v128 load/store)', () => {
    // (func (param $p i32) (param $x f32)  ;; mem[p..p+16) = mem[p..p+16) * splat(x) + splat(x)
    const body = new Code()
      .local_get(0)
      .local_get(0)
      .v128_load(0)
      .local_get(1)
      .f32x4_splat()
      .f32x4_mul()
      .local_get(1)
      .f32x4_splat()
      .f32x4_add()
      .v128_store(0);
    const bytes = emitModule({ memory: { exportName: 'm', minPages: 1 }, funcs: [{ name: 'f', params: [ValType.i32, ValType.f32], results: [], locals: [], body }] });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    const mem = new Float32Array((ex.m as WebAssembly.Memory).buffer);
    mem.set([1, 2, 3, 4], 4);
    (ex.f as (p: number, x: number) => void)(16, 0.5);
    expect(Array.from(mem.subarray(4, 8))).toEqual([1, 1.5, 2, 2.5]);
  });

  it('builds GEMM modules that validate for several tile shapes', () => {
    for (const shape of [
      { mr: 4, nr: 8, unroll: 1 },
      { mr: 4, nr: 8, unroll: 4 },
      { mr: 6, nr: 8, unroll: 2 },
      { mr: 3, nr: 4, unroll: 3 },
    ]) {
      expect(WebAssembly.validate(buildGemmModule(shape)), JSON.stringify(shape)).toBe(true);
    }
  });
});

describe('wasm SIMD GEMM vs the float64 JS kernel', () => {
  const kernel = sharedWasmGemm();
  it('is available on this engine (Node ≥ 16 has SIMD)', () => {
    expect(kernel).not.toBeNull();
  });

  it('matches on random shapes, layouts, offsets and element types', () => {
    fc.assert(
      fc.property(problemArb(70, 70, 70), (p) => checkAgainstReference(kernel!, p)),
      { numRuns: 300 },
    );
  });

  it('matches across k-blocks, row blocks and column chunks (tiny blocking parameters)', () => {
    // kc/mc/nc this small make every problem span many blocks: the accumulate-into-C path,
    // multiple A blocks, and several B column chunks with ragged last panels.
    const tiny = new WasmGemm({ ...DEFAULT_WASM_GEMM, kc: 5, mc: 8, nc: 16 });
    fc.assert(
      fc.property(problemArb(40, 50, 40), (p) => checkAgainstReference(tiny, p)),
      { numRuns: 200 },
    );
  });

  it('matches for other register tiles and an unrolled k-loop with a remainder', () => {
    for (const shape of [
      { mr: 6, nr: 8, unroll: 4, mc: 12 },
      { mr: 3, nr: 4, unroll: 3, mc: 9 },
      { mr: 5, nr: 12, unroll: 2, mc: 10 },
    ]) {
      const k = new WasmGemm({ ...DEFAULT_WASM_GEMM, ...shape, kc: 7, nc: 24 });
      fc.assert(
        fc.property(problemArb(30, 30, 30), (p) => checkAgainstReference(k, p)),
        { numRuns: 40 },
      );
    }
  });

  it('matches on sizes larger than the default blocks (K > kc, M > mc)', () => {
    for (const [M, N, K] of [
      [130, 37, 300],
      [257, 9, 513],
      [5, 200, 260],
    ] as const) {
      checkAgainstReference(kernel!, { M, N, K, la: 'row', lb: 'col', offA: 1, offB: 2, store: 'f32', seed: M * N + K });
      checkAgainstReference(kernel!, { M, N, K, la: 'col', lb: 'row', offA: 0, offB: 5, store: 'f32', seed: M + N * K });
    }
  });

  it('handles empty products: K = 0 writes zeros, M or N = 0 writes nothing', () => {
    const c = new Float32Array(8).fill(7);
    const empty = { data: new Float32Array(0), offset: 0, rs: 0, cs: 1 };
    kernel!.gemm(2, 3, 0, empty, empty, c, 1);
    expect(Array.from(c)).toEqual([7, 0, 0, 0, 0, 0, 0, 7]);
    kernel!.gemm(0, 3, 4, empty, empty, c, 0);
    kernel!.gemm(3, 0, 4, empty, empty, c, 0);
    expect(Array.from(c)).toEqual([7, 0, 0, 0, 0, 0, 0, 7]);
  });

  it('propagates NaN and ±Infinity like the JS kernel', () => {
    fc.assert(
      fc.property(dim(20), dim(20), dim(20), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(Number.NaN, Infinity, -Infinity), (M, N, K, seed, special) => {
        const a = makeOperand(M, K, 'row', 0, 'f32', seed);
        const b = makeOperand(K, N, 'col', 0, 'f32', seed + 1);
        (a.view.data as Float32Array)[seed % (M * K)] = special;
        (b.view.data as Float32Array)[(seed >> 3) % (K * N)] = 0; // so Inf·0 = NaN can arise
        const ref = reference(M, N, K, a.view, b.view);
        const c = new Float32Array(M * N);
        kernel!.gemm(M, N, K, a.view, b.view, c, 0);
        for (let i = 0; i < M * N; i++) {
          if (Number.isFinite(ref[i]!)) expect(Math.abs(c[i]! - ref[i]!)).toBeLessThanOrEqual(tol(K));
          else expect(c[i]).toBe(ref[i]); // toBe uses Object.is: NaN matches NaN, signs of Inf must agree
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a second instance of the same compiled module (used for very large problems) computes the same', () => {
    const fresh = new WasmGemm(kernel!.config, kernel!.module);
    checkAgainstReference(fresh, { M: 33, N: 17, K: 65, la: 'row', lb: 'row', offA: 0, offB: 0, store: 'f32', seed: 42 });
  });
});

describe('CPU backend dispatch', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses wasm for float32, JS for float64 and trivial sizes, and honours TPV_CPU_MATMUL', () => {
    vi.stubEnv('TPV_CPU_MATMUL', '');
    expect(chooseCpuMatmul(64, 64, 64, 'float32')).toBe('wasm');
    expect(chooseCpuMatmul(1, 768, 768, 'float32')).toBe('wasm');
    expect(chooseCpuMatmul(64, 64, 64, 'float64')).toBe('js');
    expect(chooseCpuMatmul(2, 2, 2, 'float32')).toBe('js');
    vi.stubEnv('TPV_CPU_MATMUL', 'js');
    expect(chooseCpuMatmul(64, 64, 64, 'float32')).toBe('js');
    vi.stubEnv('TPV_CPU_MATMUL', 'wasm');
    expect(chooseCpuMatmul(2, 2, 2, 'float32')).toBe('wasm');
    expect(chooseCpuMatmul(64, 64, 64, 'float64')).toBe('js');
    vi.stubEnv('TPV_CPU_MATMUL', 'blas');
    expect(() => chooseCpuMatmul(64, 64, 64, 'float32')).toThrow(/TPV_CPU_MATMUL=blas/);
  });

  it('batched, broadcast and transposed backend matmuls agree between the wasm and JS kernels', () => {
    const be = new CpuBackend();
    const batchArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 });
    fc.assert(
      fc.property(
        dim(20),
        dim(20),
        dim(40),
        batchArb,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        (M, N, K, batch, transA, transB, broadcastB, seed) => {
          const aShape = [...batch, ...(transA ? [K, M] : [M, K])];
          const bBatch = broadcastB ? batch.map(() => 1) : batch;
          const bShape = [...bBatch, ...(transB ? [N, K] : [K, N])];
          const fill = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s * 78.233));
          const a = { storage: fill(aShape.reduce((x, y) => x * y, 1), seed), shape: aShape, dtype: 'float32' as const };
          const b = { storage: fill(bShape.reduce((x, y) => x * y, 1), seed + 1), shape: bShape, dtype: 'float32' as const };
          const outShape = [...batch, M, N];
          vi.stubEnv('TPV_CPU_MATMUL', 'js');
          const js = be.matmul(a, b, transA, transB, outShape);
          vi.stubEnv('TPV_CPU_MATMUL', 'wasm');
          const wasm = be.matmul(a, b, transA, transB, outShape);
          expect(wasm).toBeInstanceOf(Float32Array);
          expect(wasm.length).toBe(js.length);
          expect(maxAbsDiff(wasm, js)).toBeLessThanOrEqual(tol(K));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps float64 matmuls on the float64-accumulating JS kernel', () => {
    const be = new CpuBackend();
    // 1 + 2⁻³⁰ survives float64 accumulation but not float32.
    const a = { storage: Float64Array.from([1, 2 ** -30, 1, 1]), shape: [2, 2], dtype: 'float64' as const };
    const b = { storage: Float64Array.from([1, 0, 1, 0]), shape: [2, 2], dtype: 'float64' as const };
    vi.stubEnv('TPV_CPU_MATMUL', 'wasm');
    const out = be.matmul(a, b, false, false, [2, 2]);
    expect(out).toBeInstanceOf(Float64Array);
    expect(out[0]).toBe(1 + 2 ** -30);
  });
});
