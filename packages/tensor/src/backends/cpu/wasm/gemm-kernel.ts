/**
 * Generates the float32 GEMM module for WebAssembly SIMD (assembled by {@link emitModule}).
 * The JS driver (`../matmul-wasm.ts`) copies A and B into the module's memory, packs them into
 * panels with the module's `pack_*` functions (see {@link packFunc}), and then calls the
 * macro-kernel, which multiplies one packed A block by one packed B block:
 *
 * ```wat
 * (func $block (param $ap $bp $c $ldc $kc $mp $np $acc i32)
 *   ;; for j in np B panels (NR columns each):       the B panel (kc×NR) stays in L1
 *   ;;   for i in mp A panels (MR rows each):        the A block (mp·MR×kc) stays in L2
 *   ;;     MR×NR/4 v128 accumulators := 0
 *   ;;     for k in kc (unrolled ×U, then a remainder loop):
 *   ;;       b[h] := v128.load pb+k·NR·4+16h                 (h < NR/4)
 *   ;;       for r < MR: a := v128.load32_splat pa+(k·MR+r)·4
 *   ;;                   acc[r][h] := f32x4.add acc[r][h] (f32x4.mul a b[h])
 *   ;;     C tile (row stride $ldc bytes) := ($acc ? C tile : 0) + accumulators
 * )
 * ```
 *
 * Multiply then add (no FMA: relaxed-simd is not baseline), so every product is rounded to
 * float32 before it is summed, as a non-FMA BLAS would.
 */
import { Code, type FuncDef, type SharedMemoryImport, ValType, emitModule } from './emit.js';

/** Register-tile and unroll choices for {@link buildGemmModule}. */
export interface GemmKernelShape {
  /** Rows of the register tile (A panel height). */
  mr: number;
  /** Columns of the register tile (B panel width); a multiple of 4 (one v128 holds 4 lanes). */
  nr: number;
  /** k-steps per iteration of the main loop. */
  unroll: number;
}

/** Export names of the generated module. */
export const GEMM_EXPORTS = {
  memory: 'mem',
  block: 'gemm_block',
  /** Packs full `mr`-wide A panels; `_unit` when the panel direction is contiguous. */
  packA: 'pack_a',
  packAUnit: 'pack_a_unit',
  /** Packs full `nr`-wide B panels; `_unit` when the panel direction is contiguous. */
  packB: 'pack_b',
  packBUnit: 'pack_b_unit',
} as const;

/** Parameter indices of `gemm_block`; all i32, addresses and strides in bytes. */
const P = { ap: 0, bp: 1, c: 2, ldc: 3, kc: 4, mp: 5, np: 6, acc: 7 } as const;

/**
 * Builds the module bytes for a register tile of `mr × nr` floats. x86-64 has 16 vector
 * registers: the tile takes mr·nr/4 of them, plus nr/4 for B and one for the broadcast A value,
 * so 4×8 (11 registers) leaves the compiler room; bigger tiles spill in V8. `unroll` > 1 adds
 * a remainder loop for kc mod unroll. With `shared`, the module imports a shared memory
 * instead of defining one (for the multi-threaded driver in `../matmul-threads.ts`); the code is
 * byte-for-byte the same otherwise, so results are identical.
 */
export function buildGemmModule(shape: GemmKernelShape, shared?: SharedMemoryImport): Uint8Array<ArrayBuffer> {
  const { mr, nr, unroll } = shape;
  if (nr % 4 !== 0 || mr < 1 || unroll < 1) throw new RangeError(`bad GEMM kernel shape ${JSON.stringify(shape)}`);
  const nv = nr / 4; // v128 columns per tile row
  const locals: ValType[] = [];
  const local = (t: ValType): number => {
    locals.push(t);
    return 8 + locals.length - 1; // 8 params come first
  };
  const j = local(ValType.i32); // B panels left
  const i = local(ValType.i32); // A panels left
  const pa = local(ValType.i32); // current A panel pointer (advances by MR·4 per k)
  const pb = local(ValType.i32); // current B panel pointer (advances by NR·4 per k)
  const bpan = local(ValType.i32); // start of the current B panel
  const cj = local(ValType.i32); // C column of the current B panel
  const pc = local(ValType.i32); // C tile pointer
  const cr = local(ValType.i32); // C row pointer while storing
  const k = local(ValType.i32); // k-steps left
  const acc: number[][] = [];
  for (let r = 0; r < mr; r++) acc.push(Array.from({ length: nv }, () => local(ValType.v128)));
  const bv = Array.from({ length: nv }, () => local(ValType.v128));
  const av = local(ValType.v128);

  const c = new Code();
  /** One k-step at byte offsets `aOff`/`bOff` from pa/pb (constant offsets avoid pointer math). */
  const step = (s: number): void => {
    const aOff = s * mr * 4;
    const bOff = s * nr * 4;
    for (let h = 0; h < nv; h++) c.local_get(pb).v128_load(bOff + 16 * h).local_set(bv[h]!);
    for (let r = 0; r < mr; r++) {
      c.local_get(pa).v128_load32_splat(aOff + 4 * r).local_set(av);
      for (let h = 0; h < nv; h++) {
        c.local_get(acc[r]![h]!).local_get(av).local_get(bv[h]!).f32x4_mul().f32x4_add().local_set(acc[r]![h]!);
      }
    }
  };
  const addTo = (x: number, n: number): void => {
    c.local_get(x).i32_const(n).i32_add().local_set(x);
  };

  c.local_get(P.bp).local_set(bpan);
  c.local_get(P.c).local_set(cj);
  c.local_get(P.np).local_set(j);
  c.loop(); // $J: over B panels
  {
    c.local_get(P.ap).local_set(pa);
    c.local_get(cj).local_set(pc);
    c.local_get(P.mp).local_set(i);
    c.loop(); // $I: over A panels
    {
      c.local_get(bpan).local_set(pb);
      for (const row of acc) for (const x of row) c.v128_const().local_set(x);
      c.local_get(P.kc).local_set(k);
      // Main loop, `unroll` k-steps per trip; skipped entirely when kc < unroll.
      c.block();
      c.local_get(k).i32_const(unroll).i32_lt_u().br_if(0);
      c.loop();
      for (let s = 0; s < unroll; s++) step(s);
      addTo(pa, unroll * mr * 4);
      addTo(pb, unroll * nr * 4);
      c.local_get(k).i32_const(unroll).i32_sub().local_tee(k).i32_const(unroll).i32_ge_u().br_if(0);
      c.end();
      c.end();
      // Remainder, one k-step per trip (dead code when unroll is 1).
      if (unroll > 1) {
        c.block();
        c.local_get(k).i32_eqz().br_if(0);
        c.loop();
        step(0);
        addTo(pa, mr * 4);
        addTo(pb, nr * 4);
        c.local_get(k).i32_const(1).i32_sub().local_tee(k).br_if(0);
        c.end();
        c.end();
      }
      // pa now points at the next A panel, pb at the next B panel.
      // Write the tile: C += acc when accumulating over k-blocks, C = acc for the first one.
      const storeTile = (accumulate: boolean): void => {
        c.local_get(pc).local_set(cr);
        for (let r = 0; r < mr; r++) {
          for (let h = 0; h < nv; h++) {
            c.local_get(cr);
            if (accumulate) c.local_get(cr).v128_load(16 * h).local_get(acc[r]![h]!).f32x4_add();
            else c.local_get(acc[r]![h]!);
            c.v128_store(16 * h);
          }
          if (r + 1 < mr) c.local_get(cr).local_get(P.ldc).i32_add().local_set(cr);
        }
      };
      c.local_get(P.acc).if();
      storeTile(true);
      c.else();
      storeTile(false);
      c.end();
      // Next A panel: C moves down mr rows.
      c.local_get(pc).local_get(P.ldc).i32_const(mr).i32_mul().i32_add().local_set(pc);
      c.local_get(i).i32_const(1).i32_sub().local_tee(i).br_if(0);
    }
    c.end();
    // Next B panel: it starts where pb stopped; C moves right nr columns.
    c.local_get(pb).local_set(bpan);
    addTo(cj, nr * 4);
    c.local_get(j).i32_const(1).i32_sub().local_tee(j).br_if(0);
  }
  c.end();

  const block: FuncDef = {
    name: GEMM_EXPORTS.block,
    params: Array.from({ length: 8 }, () => ValType.i32),
    results: [],
    locals,
    body: c,
  };
  return emitModule({
    memory: { exportName: GEMM_EXPORTS.memory, minPages: 16, ...(shared ? { shared } : {}) },
    funcs: [
      block,
      packFunc(GEMM_EXPORTS.packA, mr, false),
      packFunc(GEMM_EXPORTS.packAUnit, mr, true),
      packFunc(GEMM_EXPORTS.packB, nr, false),
      packFunc(GEMM_EXPORTS.packBUnit, nr, true),
    ],
  });
}

/**
 * A packing routine for `w`-wide panels: JS first copies the operand's span into wasm memory
 * with one `TypedArray.set` (a memcpy), then this rearranges it at a fraction of the cost of
 * a JS element loop (which pays a float32→float64→float32 round trip and bounds checks on
 * every element; measured ~1.4 ns/element against ~0.3 here).
 *
 * ```wat
 * (func $pack (param $dst $src $kc $panels $ks $js i32)
 *   ;; for p < panels: for k < kc: for c < w:
 *   ;;   f32[dst + ((p·kc + k)·w + c)·4] := f32[src + p·w·js + k·ks + c·js]
 * )
 * ```
 *
 * Strides are in bytes (`ks` along k, `js` along the panel); only full panels are packed (JS
 * pads the ragged last one). With `unit` the caller guarantees js = 4, so each k-row of a panel
 * is w contiguous floats moved with v128 loads and stores (w must then be a multiple of 4).
 */
function packFunc(name: string, w: number, unit: boolean): FuncDef {
  const P2 = { dst: 0, src: 1, kc: 2, panels: 3, ks: 4, js: 5 } as const;
  const p = 6; // panels left
  const k = 7; // k-rows left in this panel
  const s = 8; // source of the current panel's first element
  const t = 9; // source of the current k-row
  const d = 10; // destination pointer (advances sequentially)
  const u = 11; // source of the current element (strided case)
  const c = new Code();
  c.local_get(P2.dst).local_set(d);
  c.local_get(P2.src).local_set(s);
  c.local_get(P2.panels).local_set(p);
  c.block();
  c.local_get(p).i32_eqz().br_if(0);
  c.local_get(P2.kc).i32_eqz().br_if(0);
  c.loop(); // over panels
  {
    c.local_get(s).local_set(t);
    c.local_get(P2.kc).local_set(k);
    c.loop(); // over k
    {
      if (unit && w % 4 === 0) {
        for (let h = 0; h < w / 4; h++) c.local_get(d).local_get(t).v128_load(16 * h).v128_store(16 * h);
      } else {
        c.local_get(t).local_set(u);
        for (let q = 0; q < w; q++) {
          c.local_get(d).local_get(u).f32_load().f32_store(4 * q);
          if (q + 1 < w) c.local_get(u).local_get(P2.js).i32_add().local_set(u);
        }
      }
      c.local_get(d).i32_const(4 * w).i32_add().local_set(d);
      c.local_get(t).local_get(P2.ks).i32_add().local_set(t);
      c.local_get(k).i32_const(1).i32_sub().local_tee(k).br_if(0);
    }
    c.end();
    c.local_get(s).local_get(P2.js).i32_const(w).i32_mul().i32_add().local_set(s);
    c.local_get(p).i32_const(1).i32_sub().local_tee(p).br_if(0);
  }
  c.end();
  c.end();
  return { name, params: Array.from({ length: 6 }, () => ValType.i32), results: [], locals: Array.from({ length: 6 }, () => ValType.i32), body: c };
}
