/**
 * Fused row kernels over the last axis: softmax, log-softmax, cross-entropy loss and its
 * gradient. Each row is read once for an online (max, Σexp) pair (rescaling the sum when the
 * max grows) and once more for the output, instead of the three passes of the naive form.
 * Variants: `group` (a workgroup per row, tree-combined pairs; long rows such as vocabularies)
 * and `thread` (a thread per row; short rows such as small class counts).
 * NaN or +Inf anywhere in a row makes the row NaN, as in the CPU reference.
 *
 * These kernels use the builtin `exp` rather than the library `exp_`: arguments are x − max ≤ 0,
 * where the builtin's error only grows for terms too small to matter in the sum, and on
 * lavapipe it is 1.7× faster (softmax over a 32k vocabulary is exp-bound there).
 */
import { broadcastStrides, sizeOf } from '../../../core/shape.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { grid2d } from '../layout.js';
import { FLAG_TARGET, raiseFlag } from './gather.js';
import { MATH_WGSL } from './math.js';
import { gpuDType, shader, stridedOffsets } from './wgsl.js';
import { TensorError } from '../../../core/errors.js';

type Mode = 'softmax' | 'logsoftmax' | 'ce' | 'ceGrad';

const PAIR_HELPERS = `
// (max, sum of exp(x - max)) accumulators; NaN/+Inf poison the sum like the CPU reference.
fn upd(ms: vec2<f32>, v: f32) -> vec2<f32> {
  if (is_nan(v) || (is_inf(v) && v > 0.0)) { return vec2<f32>(ms.x, nan_f32()); }
  if (is_inf(v)) { return ms; }
  if (v > ms.x) { return vec2<f32>(v, ms.y * exp(ms.x - v) + 1.0); }
  return vec2<f32>(ms.x, ms.y + exp(v - ms.x));
}
fn comb(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  if (is_inf(m)) { return vec2<f32>(m, a.y + b.y); }
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}`;

/** The per-row epilogue: `ms` holds (max, Σexp); `first`/`stride` enumerate this thread's columns. */
function epilogue(mode: Mode, first: string, stride: string, single: string): string {
  switch (mode) {
    case 'softmax':
      return `for (var c = ${first}; c < C; c = c + ${stride}) { out[base + c] = exp(X[base + c] - ms.x) / ms.y; }`;
    case 'logsoftmax':
      return `let ls = log_(ms.y) + ms.x;
  for (var c = ${first}; c < C; c = c + ${stride}) { out[base + c] = X[base + c] - ls; }`;
    case 'ce':
      return `if (${single}) {
    let t = T[row];
    if (t == PI(2u)) { out[row] = 0.0; }
    else if (t < 0 || u32(t) >= C) { ${raiseFlag(FLAG_TARGET, 't', 'C')} out[row] = nan_f32(); }
    else { out[row] = log_(ms.y) + ms.x - X[base + u32(t)]; }
  }`;
    case 'ceGrad':
      return `let t = T[row];
  let ignored = t == PI(2u);
  for (var c = ${first}; c < C; c = c + ${stride}) {
    let p = exp(X[base + c] - ms.x) / ms.y - select(0.0, 1.0, i32(c) == t);
    out[base + c] = select(p, 0.0, ignored);
  }`;
  }
}

/** The thread-per-row epilogue with vec4 rows (C % 4 == 0). */
function epilogueVec4(mode: Mode): string {
  const rowLoop = (body: string) => `for (var c = 0u; c < C; c = c + 4u) { let v = X[(base + c) >> 2u]; ${body} }`;
  switch (mode) {
    case 'softmax':
      return rowLoop('out[(base + c) >> 2u] = exp(v - vec4<f32>(ms.x)) / ms.y;');
    case 'logsoftmax':
      return `let ls = log_(ms.y) + ms.x;\n  ${rowLoop('out[(base + c) >> 2u] = v - vec4<f32>(ls);')}`;
    case 'ce':
      return `let t = T[row];
  if (t == PI(2u)) { out[row] = 0.0; }
  else if (t < 0 || u32(t) >= C) { ${raiseFlag(FLAG_TARGET, 't', 'C')} out[row] = nan_f32(); }
  else { let k = base + u32(t); out[row] = log_(ms.y) + ms.x - X[k >> 2u][k & 3u]; }`;
    case 'ceGrad':
      return `let t = T[row];
  let ignored = t == PI(2u);
  ${rowLoop(`let ic = i32(c);
    let hot = vec4<f32>(select(0.0, 1.0, ic == t), select(0.0, 1.0, ic + 1 == t), select(0.0, 1.0, ic + 2 == t), select(0.0, 1.0, ic + 3 == t));
    out[(base + c) >> 2u] = select(exp(v - vec4<f32>(ms.x)) / ms.y - hot, vec4<f32>(0.0), ignored);`)}`;
  }
}

/**
 * The bias operand of a biased softmax: its binding, the uniforms locating it (last-axis stride
 * at word 3, then the leading dims of `x` and the bias strides over them) and the WGSL that
 * computes `boff`, the bias offset of the row's first column.
 */
function biasLayout(x: GpuRef, bias: GpuRef, u: Uniforms): { rowOffset: string; load: string; tag: string } {
  if (gpuDType(bias.dtype) !== 'float32') throw new TensorError('DTYPE', `softmax bias on WebGPU must be float32, got ${bias.dtype}`);
  const r = x.shape.length;
  const sb = broadcastStrides(bias.shape, x.shape);
  const lead = r - 1;
  u.u32(r === 0 ? 0 : sb[r - 1]!);
  u.u32(...x.shape.slice(0, lead), ...sb.slice(0, lead));
  return {
    rowOffset: lead > 0 ? stridedOffsets('row', lead, 4, [4 + lead], ['boff']) : 'let boff = 0u;',
    load: '(X[base + c] + B[boff + c * P(3u)])',
    tag: `_bias${lead}`,
  };
}

function rowKernel(ctx: KernelContext, mode: Mode, x: GpuRef, rows: number, C: number, outElems: number, targets?: GpuRef, ignoreIndex = 0, bias?: GpuRef): GpuStorage {
  if (gpuDType(x.dtype) !== 'float32') throw new TensorError('DTYPE', `${mode} on WebGPU needs float32 logits, got ${x.dtype}`);
  const out = ctx.alloc(outElems);
  if (rows === 0 || outElems === 0) return out;
  const withTargets = mode === 'ce' || mode === 'ceGrad';
  const bindings = [
    { name: 'X', type: 'f32' },
    ...(bias ? [{ name: 'B', type: 'f32' }] : []),
    ...(withTargets ? [{ name: 'T', type: 'i32' }] : []),
    { name: 'out', type: 'f32', write: true },
    ...(mode === 'ce' ? [{ name: 'flag', type: 'atomic<u32>', write: true }] : []),
  ];
  const buffers = [
    x.storage.buffer,
    ...(bias ? [bias.storage.buffer] : []),
    ...(targets ? [targets.storage.buffer] : []),
    out.buffer,
    ...(mode === 'ce' ? [ctx.errorFlag] : []),
  ];
  const u = new Uniforms().u32(rows, C).i32(ignoreIndex);
  const bl = bias ? biasLayout(x, bias, u) : null;
  // Without a bias, logits are read straight from X; with one, every read adds the bias element.
  const fix = (code: string) => (bl ? code.split('X[base + c]').join(bl.load) : code);
  const prelude = bl ? bl.rowOffset : '';
  const params = u.length;
  // lavapipe: barriers are costly and 2 cores need only a few workgroups (thread per row was
  // 1.4× faster on 256 rows of 32128); GPUs: a workgroup per long row for parallelism.
  const useGroup = ctx.facts.software ? rows < 16 && C >= 256 : C >= 128 || rows < 64;
  const name = `${mode}_${useGroup ? 'group' : 'thread'}${bl ? bl.tag : ''}`;
  if (!useGroup) {
    const WG = 64;
    // Rows of a multiple of 4 are read (and written) as vec4, elements still combined in order.
    const vec = C % 4 === 0 && !bl;
    const vecBindings = bindings.map((b) => (b.name === 'X' || (b.name === 'out' && mode !== 'ce') ? { ...b, type: 'vec4<f32>' } : b));
    const src = shader({
      bindings: vec ? vecBindings : bindings,
      params,
      workgroupSize: [WG],
      helpers: MATH_WGSL + PAIR_HELPERS,
      body: `let row = gid.x + gid.y * nwg.x * ${WG}u;
  if (row >= P(0u)) { return; }
  let C = P(1u);
  let base = row * C;
  ${prelude}
  var ms = vec2<f32>(-inf_f32(), 0.0);
  ${
    vec
      ? 'for (var c = 0u; c < C; c = c + 4u) { let v = X[(base + c) >> 2u]; ms = upd(upd(upd(upd(ms, v.x), v.y), v.z), v.w); }'
      : fix('for (var c = 0u; c < C; c = c + 1u) { ms = upd(ms, X[base + c]); }')
  }
  ${vec ? epilogueVec4(mode) : fix(epilogue(mode, '0u', '1u', 'true'))}`,
    });
    return run(ctx, `${name}${vec ? '_v4' : ''}`, src, buffers, u, grid2d(Math.ceil(rows / WG)), out);
  }
  const WG = ctx.facts.software ? 64 : 256;
  const src = shader({
    bindings,
    params,
    workgroupSize: [WG],
    helpers: `${MATH_WGSL}${PAIR_HELPERS}\nvar<workgroup> sp: array<vec2<f32>, ${WG}>;`,
    body: `let row = wid.x + wid.y * nwg.x;
  if (row >= P(0u)) { return; }
  let C = P(1u);
  let base = row * C;
  ${prelude}
  var acc = vec2<f32>(-inf_f32(), 0.0);
  ${fix(`for (var c = lidx; c < C; c = c + ${WG}u) { acc = upd(acc, X[base + c]); }`)}
  sp[lidx] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lidx < s) { sp[lidx] = comb(sp[lidx], sp[lidx + s]); }
    workgroupBarrier();
  }
  let ms = sp[0];
  ${fix(epilogue(mode, 'lidx', `${WG}u`, 'lidx == 0u'))}`,
  });
  return run(ctx, name, src, buffers, u, grid2d(rows), out);
}

function run(ctx: KernelContext, name: string, src: ReturnType<typeof shader>, buffers: GPUBuffer[], u: Uniforms, workgroups: [number, number], out: GpuStorage): GpuStorage {
  ctx.run({ name, shader: src, buffers, uniforms: u.build(), workgroups });
  return out;
}

/**
 * (Log-)softmax over the last axis of `x`, or of `x + bias` with `bias` broadcast to `x` through
 * strides in uniforms (the sum is formed on every read, never stored).
 */
export function softmax(ctx: KernelContext, x: GpuRef, log: boolean, bias?: GpuRef): GpuStorage {
  const C = x.shape[x.shape.length - 1] ?? 1;
  const n = sizeOf(x.shape);
  return rowKernel(ctx, log ? 'logsoftmax' : 'softmax', x, C === 0 ? 0 : n / C, C, n, undefined, 0, bias);
}

/** Per-row cross-entropy `logsumexp(x) − x[t]` for logits [N, C]; 0 where t is ignored. */
export function crossEntropy(ctx: KernelContext, logits: GpuRef, targets: GpuRef, ignoreIndex: number): GpuStorage {
  return rowCE(ctx, 'ce', logits, targets, ignoreIndex);
}

/** `softmax(x) − onehot(t)` for logits [N, C]; zero rows where t is ignored. */
export function crossEntropyGrad(ctx: KernelContext, logits: GpuRef, targets: GpuRef, ignoreIndex: number): GpuStorage {
  return rowCE(ctx, 'ceGrad', logits, targets, ignoreIndex);
}

function rowCE(ctx: KernelContext, mode: 'ce' | 'ceGrad', logits: GpuRef, targets: GpuRef, ignoreIndex: number): GpuStorage {
  if (gpuDType(targets.dtype) !== 'int32') throw new TensorError('DTYPE', `cross-entropy targets must be int32, got ${targets.dtype}`);
  const N = logits.shape[0]!;
  const C = logits.shape[1]!;
  return rowKernel(ctx, mode, logits, N, C, mode === 'ce' ? N : N * C, targets, ignoreIndex);
}
