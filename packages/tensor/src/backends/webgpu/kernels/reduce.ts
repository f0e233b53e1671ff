/**
 * Reductions (sum, max, min, argmax) over any set of axes. Kept and reduced dims are coalesced
 * separately, so a last-axis reduction reads rows with stride 1 and a bias-gradient column sum
 * reads with stride D. Two variants:
 *  - `thread`: one thread per output looping over the reduced extent (best when neighbouring
 *    outputs are neighbours in memory, e.g. column sums, or when the extent is short);
 *  - `group`: one workgroup per output, threads stride over a contiguous row, then a tree in
 *    workgroup memory (best for long contiguous rows with few outputs on a GPU).
 * argmax keeps the first maximal index and treats NaN as maximal, like the CPU reference.
 */
import { sizeOf, stridesOf } from '../../../core/shape.js';
import type { ReduceOp } from '../../backend.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { coalesce, grid2d } from '../layout.js';
import { CONVERT_HELPERS, flatIndex, gpuDType, shader, stridedOffsets, wgslType } from './wgsl.js';

/** WGSL for one reduction: accumulator type, initial value, lift of element `x` at index `r`, combine. */
function algebra(op: ReduceOp, inType: string): { acc: string; init: string; load: string; combine: string } {
  const t = inType === 'f32' ? 'f32' : 'i32';
  const load = inType === 'f32' ? 'x' : 'i32(x)';
  if (op === 'argmax') {
    // (value, index) pairs; value compared as f32.
    return {
      acc: 'vec2<f32>',
      init: 'vec2<f32>(0.0, -1.0)',
      load: `vec2<f32>(f32(${load}), f32(r))`,
      combine: `fn comb(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  if (a.y < 0.0) { return b; }
  if (b.y < 0.0) { return a; }
  let an = is_nan(a.x); let bn = is_nan(b.x);
  if (an != bn) { return select(b, a, an); }
  if (!an && a.x != b.x) { return select(b, a, a.x > b.x); }
  return select(b, a, a.y < b.y);
}`,
    };
  }
  if (op === 'sum') return { acc: t, init: `${t}(0)`, load, combine: `fn comb(a: ${t}, b: ${t}) -> ${t} { return a + b; }` };
  const better = op === 'max' ? '>' : '<';
  if (t === 'i32') {
    const init = op === 'max' ? 'i32(-2147483647 - 1)' : 'i32(2147483647)';
    return { acc: t, init, load, combine: `fn comb(a: i32, b: i32) -> i32 { return select(b, a, a ${better} b); }` };
  }
  const init = op === 'max' ? '-inf_f32()' : 'inf_f32()';
  return {
    acc: t,
    init,
    load,
    combine: `fn inf_f32() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn comb(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return select(b, a, a ${better} b); }`,
  };
}

/** Reduces `x` over `axes` (sorted); output keeps the reduced dims as size 1. */
export function reduce(ctx: KernelContext, op: ReduceOp, x: GpuRef, axes: readonly number[]): GpuStorage {
  const inT = gpuDType(x.dtype);
  const inType = wgslType(inT);
  const shape = x.shape;
  const strides = stridesOf(shape);
  const keptIdx = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const redIdx = [...axes];
  const kept = coalesce(keptIdx.map((i) => shape[i]!), [keptIdx.map((i) => strides[i]!)]);
  const red = coalesce(redIdx.map((i) => shape[i]!), [redIdx.map((i) => strides[i]!)]);
  const outSize = sizeOf(keptIdx.map((i) => shape[i]!));
  const R = sizeOf(redIdx.map((i) => shape[i]!));
  const out = ctx.alloc(outSize);
  if (outSize === 0) return out;
  const outType = op === 'argmax' ? 'i32' : inType === 'f32' ? 'f32' : 'i32';
  const alg = algebra(op, inType);
  const rk = kept.shape.length;
  const rr = red.shape.length;
  const u = new Uniforms().u32(outSize, R, ...kept.shape, ...kept.strides[0]!, ...red.shape, ...red.strides[0]!);
  const keptCode = stridedOffsets('o', rk, 2, [2 + rk], ['base']);
  const redCode = stridedOffsets('r', rr, 2 + 2 * rk, [2 + 2 * rk + rr], ['ro']).replace(/\bvar rem\b/, 'var rem');
  const finish = op === 'argmax' ? 'i32(acc.y)' : 'acc';
  const rowContiguous = rr === 1 && red.strides[0]![0] === 1;
  // On a CPU emulation every barrier is a coroutine switch per SIMD group: a thread per output
  // was 3× faster for 4096 rows of 768 on lavapipe, so workgroups only help with very few outputs.
  const useGroup = ctx.facts.software ? outSize < 16 && R >= 1024 : R >= 32 && (rowContiguous || (outSize < 256 && R >= 1024));
  const helpers = `${CONVERT_HELPERS}\n${alg.combine}
fn lift(x: ${inType}, r: u32) -> ${alg.acc} { return ${alg.load}; }
fn load_at(k: u32, r: u32) -> ${alg.acc} { return lift(X[k], r); }
fn red_offset(r: u32) -> u32 {
  ${redCode}
  return ro;
}`;
  const bindings = [
    { name: 'X', type: inType },
    { name: 'out', type: outType, write: true },
  ];
  if (!useGroup) {
    const WG = 64;
    // Contiguous rows of a multiple of 4 (with 4-aligned row starts) are read as vec4, in order.
    const vec = rowContiguous && R % 4 === 0 && kept.strides[0]!.every((st) => st % 4 === 0);
    const loop = vec
      ? `for (var r = 0u; r < P(1u); r = r + 4u) {
    let v = X[(base + r) >> 2u];
    acc = comb(acc, lift(v.x, r)); acc = comb(acc, lift(v.y, r + 1u)); acc = comb(acc, lift(v.z, r + 2u)); acc = comb(acc, lift(v.w, r + 3u));
  }`
      : 'for (var r = 0u; r < P(1u); r = r + 1u) { acc = comb(acc, load_at(base + red_offset(r), r)); }';
    const src = shader({
      bindings: vec ? [{ name: 'X', type: `vec4<${inType}>` }, bindings[1]!] : bindings,
      params: u.length,
      workgroupSize: [WG],
      helpers: vec ? helpers.replace(/fn load_at[^\n]*\n/, '') : helpers,
      body: `let o = ${flatIndex(WG)}; if (o >= P(0u)) { return; }
  ${keptCode}
  var acc = ${alg.init};
  ${loop}
  out[o] = ${finish};`,
    });
    ctx.run({ name: `reduce_${op}_thread${vec ? '_v4' : ''}`, shader: src, buffers: [x.storage.buffer, out.buffer], uniforms: u.build(), workgroups: grid2d(Math.ceil(outSize / WG)) });
    return out;
  }
  const WG = ctx.facts.software ? 64 : 256;
  const src = shader({
    bindings,
    params: u.length,
    workgroupSize: [WG],
    helpers: `${helpers}\nvar<workgroup> sv: array<${alg.acc}, ${WG}>;`,
    body: `let o = wid.x + wid.y * nwg.x;
  if (o >= P(0u)) { return; }
  ${keptCode}
  var acc = ${alg.init};
  for (var r = lidx; r < P(1u); r = r + ${WG}u) { acc = comb(acc, load_at(base + red_offset(r), r)); }
  sv[lidx] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lidx < s) { sv[lidx] = comb(sv[lidx], sv[lidx + s]); }
    workgroupBarrier();
  }
  if (lidx == 0u) { let acc = sv[0]; out[o] = ${finish}; }`,
  });
  ctx.run({ name: `reduce_${op}_group`, shader: src, buffers: [x.storage.buffer, out.buffer], uniforms: u.build(), workgroups: grid2d(outSize) });
  return out;
}
