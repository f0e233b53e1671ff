/**
 * Fused RMSNorm (T5LayerNorm) over the last axis, forward and backward side by side.
 *
 * Forward: per row `r = 1/sqrt(mean(x²) + eps)` (f32 accumulation) and `y = w · (x · r)`; `r`
 * is written out [rows] for the backward pass. Backward: per row `s = Σ (w·g)·x`, then
 * `dx = r·(w·g) − x·r³·s/D`; the weight gradient `dw[c] = Σ_rows g·x·r` is a column reduction
 * (a thread per column). Variants as for softmax: `thread` (a thread per row, lavapipe and short
 * rows) and `group` (a workgroup per row, tree-combined sums; long rows on GPUs).
 */
import { sizeOf } from '../../../core/shape.js';
import { TensorError } from '../../../core/errors.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { grid2d } from '../layout.js';
import { gpuDType, shader } from './wgsl.js';

function check(op: string, ...xs: GpuRef[]): void {
  for (const x of xs) if (gpuDType(x.dtype) !== 'float32') throw new TensorError('DTYPE', `${op} on WebGPU needs float32 operands, got ${x.dtype}`);
}

/** Per-row sum of `term(c)` over the row's columns into `name`, thread or workgroup variant. */
function rowSum(group: boolean, WG: number, name: string, term: string): string {
  if (!group) return `var ${name} = 0.0;\n  for (var c = 0u; c < D; c = c + 1u) { ${name} = ${name} + ${term}; }`;
  return `var part = 0.0;
  for (var c = lidx; c < D; c = c + ${WG}u) { part = part + ${term}; }
  sp[lidx] = part;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lidx < s) { sp[lidx] = sp[lidx] + sp[lidx + s]; }
    workgroupBarrier();
  }
  let ${name} = sp[0];`;
}

/** Runs a row kernel: `body(group, WG)` sees `row`, `D`, `base`, and `first`/`step` for its columns. */
function runRows(ctx: KernelContext, name: string, rows: number, D: number, bindings: { name: string; type: string; write?: boolean }[], buffers: GPUBuffer[], u: Uniforms, body: (group: boolean, WG: number) => string): void {
  const group = ctx.facts.software ? rows < 16 && D >= 256 : D >= 128 || rows < 64;
  const WG = group ? (ctx.facts.software ? 64 : 256) : 64;
  const src = shader({
    bindings,
    params: u.length,
    workgroupSize: [WG],
    helpers: group ? `var<workgroup> sp: array<f32, ${WG}>;` : '',
    body: `let row = ${group ? 'wid.x + wid.y * nwg.x' : `gid.x + gid.y * nwg.x * ${WG}u`};
  if (row >= P(0u)) { return; }
  let D = P(1u);
  let base = row * D;
  let first = ${group ? 'lidx' : '0u'};
  let step = ${group ? `${WG}u` : '1u'};
  ${body(group, WG)}`,
  });
  ctx.run({ name: `${name}_${group ? 'group' : 'thread'}`, shader: src, buffers, uniforms: u.build(), workgroups: grid2d(group ? rows : Math.ceil(rows / WG)) });
}

/** Forward: `y = w·(x·r)` and `r` [rows] for `x` [..., D], `w` [D]. */
export function rmsNorm(ctx: KernelContext, x: GpuRef, w: GpuRef, eps: number): { y: GpuStorage; r: GpuStorage } {
  check('rmsNorm', x, w);
  const D = x.shape[x.shape.length - 1] ?? 1;
  const n = sizeOf(x.shape);
  const rows = D === 0 ? 0 : n / D;
  const y = ctx.alloc(n);
  const r = ctx.alloc(rows);
  if (rows === 0 || n === 0) return { y, r };
  const bindings = [{ name: 'X', type: 'f32' }, { name: 'W', type: 'f32' }, { name: 'Y', type: 'f32', write: true }, { name: 'R', type: 'f32', write: true }];
  const u = new Uniforms().u32(rows, D).f32(eps);
  runRows(ctx, 'rmsnorm', rows, D, bindings, [x.storage.buffer, w.storage.buffer, y.buffer, r.buffer], u, (group, WG) => `${rowSum(group, WG, 'ss', 'X[base + c] * X[base + c]')}
  let ri = 1.0 / sqrt(ss / f32(D) + PF(2u));
  if (first == 0u) { R[row] = ri; }
  for (var c = first; c < D; c = c + step) { Y[base + c] = W[c] * (X[base + c] * ri); }`);
  return { y, r };
}

/** Backward: `dx` (shape of `x`) and, when `needW`, `dw` [D]. */
export function rmsNormGrad(ctx: KernelContext, x: GpuRef, w: GpuRef, r: GpuRef, g: GpuRef, needW: boolean): { dx: GpuStorage; dw: GpuStorage | null } {
  check('rmsNormGrad', x, w, r, g);
  const D = x.shape[x.shape.length - 1] ?? 1;
  const n = sizeOf(x.shape);
  const rows = D === 0 ? 0 : n / D;
  const dx = ctx.alloc(n);
  const dw = needW ? ctx.alloc(D) : null;
  if (rows > 0 && n > 0) {
    const bindings = [{ name: 'X', type: 'f32' }, { name: 'W', type: 'f32' }, { name: 'R', type: 'f32' }, { name: 'G', type: 'f32' }, { name: 'DX', type: 'f32', write: true }];
    const u = new Uniforms().u32(rows, D);
    runRows(ctx, 'rmsnorm_grad', rows, D, bindings, [x.storage.buffer, w.storage.buffer, r.storage.buffer, g.storage.buffer, dx.buffer], u, (group, WG) => `${rowSum(group, WG, 'sg', 'W[c] * G[base + c] * X[base + c]')}
  let ri = R[row];
  let k = ri * ri * ri * sg / f32(D);
  for (var c = first; c < D; c = c + step) { DX[base + c] = ri * (W[c] * G[base + c]) - X[base + c] * k; }`);
  }
  if (dw && D > 0) {
    const WG = 64;
    const src = shader({
      bindings: [{ name: 'X', type: 'f32' }, { name: 'R', type: 'f32' }, { name: 'G', type: 'f32' }, { name: 'DW', type: 'f32', write: true }],
      params: 2,
      workgroupSize: [WG],
      body: `let c = gid.x + gid.y * nwg.x * ${WG}u;
  let D = P(1u);
  if (c >= D) { return; }
  var acc = 0.0;
  for (var i = 0u; i < P(0u); i = i + 1u) { acc = acc + G[i * D + c] * X[i * D + c] * R[i]; }
  DW[c] = acc;`,
    });
    ctx.run({ name: 'rmsnorm_grad_w', shader: src, buffers: [x.storage.buffer, r.storage.buffer, g.storage.buffer, dw.buffer], uniforms: new Uniforms().u32(rows, D).build(), workgroups: grid2d(Math.ceil(D / WG)) });
  }
  return { dx, dw };
}
