/**
 * Embedding lookup and its gradient. Bad indices cannot throw from a shader, so kernels raise a
 * device-side flag (`errorFlag`: code, index, limit) that every `read()` copies back alongside
 * its data and turns into a TensorError('ARGUMENT').
 *
 * The scatter-add is deterministic: one thread per column walks the ids in order, so repeated
 * ids accumulate in the same order as on the CPU (float atomics would make the sum order, and
 * therefore the rounding, vary from run to run).
 */
import { sizeOf } from '../../../core/shape.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { grid2d } from '../layout.js';
import { fill } from './elementwise.js';
import { convert, gpuDType, shader, wgslType } from './wgsl.js';
import { CONVERT_HELPERS } from './wgsl.js';

/** Error-flag codes written by kernels (word 0 of the flag buffer). */
export const FLAG_GATHER = 1;
/** Cross-entropy target out of range. */
export const FLAG_TARGET = 2;
/** Scatter-add id out of range. */
export const FLAG_SCATTER = 3;

/** WGSL that records a bad index into the error flag (binding named `flag`). */
export function raiseFlag(code: number, value: string, limit: string): string {
  return `atomicStore(&flag[1], bitcast<u32>(${value})); atomicStore(&flag[2], ${limit}); atomicMax(&flag[0], ${code}u);`;
}

const WG = 64;

/** `out[i, :] = weight[ids[i], :]` for weight [V, D]. */
export function gather(ctx: KernelContext, weight: GpuRef, ids: GpuRef): GpuStorage {
  gpuDType(weight.dtype);
  const it = gpuDType(ids.dtype);
  const V = weight.shape[0]!;
  const D = weight.shape[1]!;
  const n = sizeOf(ids.shape) * D;
  const out = ctx.alloc(n);
  if (n === 0) return out;
  const src = shader({
    bindings: [
      { name: 'W', type: 'u32' },
      { name: 'I', type: wgslType(it) },
      { name: 'out', type: 'u32', write: true },
      { name: 'flag', type: 'atomic<u32>', write: true },
    ],
    params: 3,
    workgroupSize: [WG],
    helpers: CONVERT_HELPERS,
    body: `let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= P(0u)) { return; }
  let D = P(1u);
  let row = i / D;
  let d = i - row * D;
  let r = ${convert('I[row]', it, 'int32')};
  if (r < 0 || u32(r) >= P(2u)) { ${raiseFlag(FLAG_GATHER, 'r', 'P(2u)')} out[i] = 0u; return; }
  out[i] = W[u32(r) * D + d];`,
  });
  ctx.run({
    name: 'gather_rows',
    shader: src,
    buffers: [weight.storage.buffer, ids.storage.buffer, out.buffer, ctx.errorFlag],
    uniforms: new Uniforms().u32(n, D, V).build(),
    workgroups: grid2d(Math.ceil(n / WG)),
  });
  return out;
}

/** `out[ids[i], :] += src[i, :]` into a zero [numRows, D], one thread per column. */
export function scatterAddRows(ctx: KernelContext, ids: GpuRef, src: GpuRef, numRows: number): GpuStorage {
  gpuDType(src.dtype);
  const it = gpuDType(ids.dtype);
  const D = src.shape[src.shape.length - 1]!;
  const N = sizeOf(ids.shape);
  const out = ctx.alloc(numRows * D);
  if (numRows * D === 0) return out;
  fill(ctx, out, numRows * D, 0);
  if (N === 0) return out;
  const code = shader({
    bindings: [
      { name: 'I', type: wgslType(it) },
      { name: 'S', type: 'f32' },
      { name: 'out', type: 'f32', write: true },
      { name: 'flag', type: 'atomic<u32>', write: true },
    ],
    params: 3,
    workgroupSize: [WG],
    helpers: CONVERT_HELPERS,
    body: `let d = gid.x + gid.y * nwg.x * ${WG}u;
  let D = P(0u);
  if (d >= D) { return; }
  for (var i = 0u; i < P(1u); i = i + 1u) {
    let r = ${convert('I[i]', it, 'int32')};
    if (r < 0 || u32(r) >= P(2u)) { ${raiseFlag(FLAG_SCATTER, 'r', 'P(2u)')} continue; }
    let o = u32(r) * D + d;
    out[o] = out[o] + S[i * D + d];
  }`,
  });
  ctx.run({
    name: 'scatter_add_rows',
    shader: code,
    buffers: [ids.storage.buffer, src.storage.buffer, out.buffer, ctx.errorFlag],
    uniforms: new Uniforms().u32(D, N, numRows).build(),
    workgroups: grid2d(Math.ceil(D / WG)),
  });
  return out;
}
