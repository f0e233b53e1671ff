/**
 * Fused in-place AdamW (PyTorch `_single_tensor_adamw` order: decoupled decay, moments,
 * bias-corrected step), one thread per element. Scalar factors are folded on the host in
 * float64, as the CPU reference does, and passed as f32 uniforms.
 */
import { sizeOf } from '../../../core/shape.js';
import type { AdamWHyper } from '../../backend.js';
import { type GpuRef, type KernelContext, Uniforms } from '../context.js';
import { grid2d } from '../layout.js';
import { gpuDType, shader } from './wgsl.js';
import { TensorError } from '../../../core/errors.js';

const WG = 64;

const ADAMW = shader({
  bindings: [
    { name: 'p', type: 'f32', write: true },
    { name: 'g', type: 'f32' },
    { name: 'm', type: 'f32', write: true },
    { name: 'v', type: 'f32', write: true },
  ],
  params: 8,
  workgroupSize: [WG],
  body: `let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= P(0u)) { return; }
  let decay = PF(1u); let omb1 = PF(2u); let b2 = PF(3u); let omb2 = PF(4u);
  let bc2Sqrt = PF(5u); let eps = PF(6u); let stepSize = PF(7u);
  let gi = g[i];
  let mi0 = m[i];
  let pi = p[i] * decay;
  let mi = mi0 + (gi - mi0) * omb1;
  let vi = v[i] * b2 + (gi * gi) * omb2;
  let denom = sqrt(vi) / bc2Sqrt + eps;
  p[i] = pi - stepSize * (mi / denom);
  m[i] = mi;
  v[i] = vi;`,
});

/** Updates `p`, `m`, `v` in place from gradient `g`. */
export function adamw(ctx: KernelContext, p: GpuRef, g: GpuRef, m: GpuRef, v: GpuRef, h: AdamWHyper): void {
  for (const t of [p, g, m, v]) {
    if (gpuDType(t.dtype) !== 'float32') throw new TensorError('DTYPE', `AdamW on WebGPU needs float32 tensors, got ${t.dtype}`);
  }
  const n = sizeOf(p.shape);
  if (n === 0) return;
  const bc1 = 1 - Math.pow(h.beta1, h.step);
  const bc2 = 1 - Math.pow(h.beta2, h.step);
  const u = new Uniforms()
    .u32(n)
    .f32(1 - h.lr * h.weightDecay, 1 - h.beta1, h.beta2, 1 - h.beta2, Math.sqrt(bc2), h.eps, h.lr / bc1);
  ctx.run({
    name: 'adamw',
    shader: ADAMW,
    buffers: [p.storage.buffer, g.storage.buffer, m.storage.buffer, v.storage.buffer],
    uniforms: u.build(),
    workgroups: grid2d(Math.ceil(n / WG)),
  });
}
