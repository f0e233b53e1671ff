/**
 * Elementwise kernels: fill, cast, unary, binary and where. One thread per element; operands
 * broadcast through per-operand strides in uniforms after dimension coalescing, so a same-shape
 * op is a rank-1 kernel with no index math and every other layout reuses one pipeline per rank.
 * Semantics follow the CPU reference (`backends/cpu/elementwise.ts`) including NaN handling.
 */
import { broadcastStrides, sizeOf, type Shape } from '../../../core/shape.js';
import type { BinaryOp, UnaryOp } from '../../backend.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { coalesce, grid2d } from '../layout.js';
import { MATH_WGSL } from './math.js';
import { type GpuDType, convert, flatIndex, gpuDType, shader, stridedOffsets, truthy, wgslType } from './wgsl.js';
import type { DType } from '../../../core/dtype.js';

const WG = 64;

function launch1d(n: number): [number, number] {
  return grid2d(Math.ceil(n / WG));
}

/** f32 bodies of the unary ops (argument `x`), mirroring the CPU `UNARY` table. */
const UNARY_F32: Record<Exclude<UnaryOp, 'not'>, string> = {
  neg: 'return -x;',
  exp: 'return exp_(x);',
  log: 'return log_(x);',
  sqrt: 'if (x < 0.0) { return nan_f32(); } return sqrt(x);',
  rsqrt: 'if (x < 0.0) { return nan_f32(); } return 1.0 / sqrt(x);',
  tanh: 'return tanh_(x);',
  relu: 'return select(0.0, x, x > 0.0 && !is_nan(x));',
  step: 'return select(0.0, 1.0, x > 0.0 && !is_nan(x));',
  gelu: 'return 0.5 * x * one_plus_erf(x * 0.707106781186547524);',
  geluGrad: 'return 0.5 * one_plus_erf(x * 0.707106781186547524) + x * 0.398942280401432678 * exp_(-0.5 * x * x);',
  // 0.5·(1 + tanh u) = sigmoid(2u): no cancellation for large negative x.
  geluTanh: 'let u = 0.797884560802865356 * (x + 0.044715 * x * x * x); return x / (1.0 + exp_(-2.0 * u));',
  geluTanhGrad:
    'let u = 0.797884560802865356 * (x + 0.044715 * x * x * x); let s = sigmoid_(2.0 * u);' +
    ' let du = 0.797884560802865356 * (1.0 + 3.0 * 0.044715 * x * x); return s + 2.0 * x * s * (1.0 - s) * du;',
  silu: 'return x / (1.0 + exp_(-x));',
  siluGrad: 'let s = sigmoid_(x); return s * (1.0 + x * (1.0 - s));',
  sigmoid: 'return sigmoid_(x);',
  abs: 'return abs(x);',
  sign: 'return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);',
  recip: 'return 1.0 / x;',
  square: 'return x * x;',
};

/** Ops that keep integer inputs integer (the ops layer only skips the float cast for these). */
const UNARY_I32: Partial<Record<UnaryOp, string>> = {
  neg: 'return -x;',
  abs: 'return abs(x);',
  relu: 'return select(0, x, x > 0);',
  square: 'return x * x;',
  sign: 'return select(select(0, -1, x < 0), 1, x > 0);',
};

/**
 * WGSL body of a contiguous map: `el_(...)` applied per element. With `vec4` each thread does
 * four consecutive elements through vec4 loads and stores (one 16-byte access instead of four
 * 4-byte ones: a single instruction per lane on lavapipe, a wider transaction on GPUs).
 * `args` are the binding names passed to `el_` in order; `P(0)` holds the thread count.
 */
function mapBody(vec: boolean, args: readonly string[], outType: string): string {
  if (!vec) return `let i = ${flatIndex(WG)}; if (i >= P(0u)) { return; } out[i] = el_(${args.map((a) => `${a}[i]`).join(', ')});`;
  const loads = args.map((a) => `let ${a}4 = ${a}[i];`).join(' ');
  const comp = ['x', 'y', 'z', 'w'].map((c) => `el_(${args.map((a) => `${a}4.${c}`).join(', ')})`);
  return `let i = ${flatIndex(WG)}; if (i >= P(0u)) { return; } ${loads} out[i] = vec4<${outType}>(${comp.join(', ')});`;
}

/** Element type of a binding in a (possibly vectorised) map kernel. */
function elem(t: string, vec: boolean): string {
  return vec ? `vec4<${t}>` : t;
}

/** Fills `n` elements of `out` with a 32-bit pattern. */
export function fill(ctx: KernelContext, out: GpuStorage, n: number, bits: number): void {
  const vec = n % 4 === 0;
  const src = shader({
    bindings: [{ name: 'out', type: elem('u32', vec), write: true }],
    params: 2,
    workgroupSize: [WG],
    helpers: 'fn el_() -> u32 { return P(1u); }',
    body: mapBody(vec, [], 'u32'),
  });
  const threads = vec ? n / 4 : n;
  ctx.run({ name: 'fill', shader: src, buffers: [out.buffer], uniforms: new Uniforms().u32(threads, bits).build(), workgroups: launch1d(threads) });
}

/** Converts dtype; `bool` targets use truthiness (NaN is false), like the CPU `cast`. */
export function cast(ctx: KernelContext, x: GpuRef, to: DType): GpuStorage {
  const from = gpuDType(x.dtype);
  const target = gpuDType(to);
  const n = sizeOf(x.shape);
  const out = ctx.alloc(n);
  const expr = target === 'bool' ? `select(0u, 1u, ${truthy('v', from)})` : convert('v', from, target);
  return mapKernel(ctx, `cast_${from}_${target}`, [x], out, n, target, `fn el_(v: ${wgslType(from)}) -> ${wgslType(target)} { return ${expr}; }`);
}

/** Runs a contiguous elementwise map `out[i] = el_(xs[0][i], …)`, vectorised when n % 4 == 0. */
function mapKernel(ctx: KernelContext, name: string, xs: readonly GpuRef[], out: GpuStorage, n: number, target: GpuDType, fn: string): GpuStorage {
  if (n === 0) return out;
  const vec = n % 4 === 0;
  const names = xs.map((_, k) => `X${k}`);
  const src = shader({
    bindings: [
      ...xs.map((x, k) => ({ name: names[k]!, type: elem(wgslType(x.dtype), vec) })),
      { name: 'out', type: elem(wgslType(target), vec), write: true },
    ],
    params: 1,
    workgroupSize: [WG],
    helpers: `${MATH_WGSL}\n${fn}`,
    body: mapBody(vec, names, wgslType(target)),
  });
  const threads = vec ? n / 4 : n;
  ctx.run({ name: `${name}${vec ? '_v4' : ''}`, shader: src, buffers: [...xs.map((x) => x.storage.buffer), out.buffer], uniforms: new Uniforms().u32(threads).build(), workgroups: launch1d(threads) });
  return out;
}

/** Elementwise unary op. */
export function unary(ctx: KernelContext, op: UnaryOp, x: GpuRef, outDtype: DType): GpuStorage {
  const from = gpuDType(x.dtype);
  const target = gpuDType(outDtype);
  const n = sizeOf(x.shape);
  const out = ctx.alloc(n);
  let fn: string;
  let expr: string;
  if (op === 'not') {
    fn = '';
    expr = convert(`select(1, 0, ${truthy('v', from)})`, 'int32', target);
  } else if (from !== 'float32' && UNARY_I32[op]) {
    fn = `fn op_(x: i32) -> i32 { ${UNARY_I32[op]} }`;
    expr = convert(`op_(${convert('v', from, 'int32')})`, 'int32', target);
  } else {
    fn = `fn op_(x: f32) -> f32 { ${UNARY_F32[op]} }`;
    expr = convert(`op_(${convert('v', from, 'float32')})`, 'float32', target);
  }
  return mapKernel(ctx, `unary_${op}`, [x], out, n, target, `${fn}\nfn el_(v: ${wgslType(from)}) -> ${wgslType(target)} { return ${expr}; }`);
}

const NAN_GUARD = '!is_nan(a) && !is_nan(b)';

/** Binary op bodies on f32 (`a`, `b`); comparisons return 0/1. */
const BINARY_F32: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
  max: 'select(b, a, a > b || is_nan(a))',
  min: 'select(b, a, a < b || is_nan(a))',
  eq: `select(0.0, 1.0, a == b && ${NAN_GUARD})`,
  ne: `select(1.0, 0.0, a == b && ${NAN_GUARD})`,
  lt: `select(0.0, 1.0, a < b && ${NAN_GUARD})`,
  le: `select(0.0, 1.0, a <= b && ${NAN_GUARD})`,
  gt: `select(0.0, 1.0, a > b && ${NAN_GUARD})`,
  ge: `select(0.0, 1.0, a >= b && ${NAN_GUARD})`,
  and: `select(0.0, 1.0, ${truthy('a', 'float32')} && ${truthy('b', 'float32')})`,
  or: `select(0.0, 1.0, ${truthy('a', 'float32')} || ${truthy('b', 'float32')})`,
};

/** Binary op bodies on i32. Division by zero gives 0, as ToInt32(±Infinity or NaN) does on the CPU. */
const BINARY_I32: Record<Exclude<BinaryOp, 'pow'>, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'select(a / b, 0, b == 0)',
  max: 'select(b, a, a > b)',
  min: 'select(b, a, a < b)',
  eq: 'select(0, 1, a == b)',
  ne: 'select(0, 1, a != b)',
  lt: 'select(0, 1, a < b)',
  le: 'select(0, 1, a <= b)',
  gt: 'select(0, 1, a > b)',
  ge: 'select(0, 1, a >= b)',
  and: 'select(0, 1, a != 0 && b != 0)',
  or: 'select(0, 1, a != 0 || b != 0)',
};

/**
 * Runs `out[i] = el_(xs…)` over `outShape` with NumPy broadcasting. After coalescing, a plain
 * contiguous map is vectorised; otherwise operand offsets come from per-operand strides in
 * uniforms, and when the innermost dim is a multiple of 4 with each operand either contiguous
 * or broadcast along it (rows × bias, rows × per-row scale) each thread does four elements.
 */
function broadcastKernel(ctx: KernelContext, name: string, xs: readonly GpuRef[], outShape: Shape, out: GpuStorage, target: GpuDType, fn: string): GpuStorage {
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const { shape, strides } = coalesce(outShape, xs.map((x) => broadcastStrides(x.shape, outShape)));
  if (shape.length === 1 && strides.every((s) => s[0] === 1)) return mapKernel(ctx, name, xs, out, n, target, fn);
  const rank = shape.length;
  const vec = shape[rank - 1]! % 4 === 0 && strides.every((s) => s[rank - 1] === 0 || s[rank - 1] === 1);
  const threads = vec ? n / 4 : n;
  const u = new Uniforms().u32(threads, ...shape);
  for (const s of strides) u.u32(...s);
  const names = xs.map((_, k) => `X${k}`);
  const vecIn = strides.map((s) => vec && s[rank - 1] === 1);
  const types = xs.map((x) => wgslType(x.dtype));
  const index = stridedOffsets(vec ? '(i * 4u)' : 'i', rank, 1, strides.map((_, k) => 1 + rank * (k + 1)), names.map((_, k) => `o${k}`));
  let store: string;
  if (vec) {
    const loads = names.map((nm, k) => `let l${k} = ${vecIn[k] ? `${nm}[o${k} >> 2u]` : `vec4<${types[k]}>(${nm}[o${k}])`};`).join(' ');
    const comp = ['x', 'y', 'z', 'w'].map((c) => `el_(${names.map((_, k) => `l${k}.${c}`).join(', ')})`);
    store = `${loads} out[i] = vec4<${wgslType(target)}>(${comp.join(', ')});`;
  } else {
    store = `out[i] = el_(${names.map((nm, k) => `${nm}[o${k}]`).join(', ')});`;
  }
  const src = shader({
    bindings: [
      ...names.map((nm, k) => ({ name: nm, type: vecIn[k] ? `vec4<${types[k]}>` : types[k]! })),
      { name: 'out', type: vec ? `vec4<${wgslType(target)}>` : wgslType(target), write: true },
    ],
    params: u.length,
    workgroupSize: [WG],
    helpers: `${MATH_WGSL}\n${fn}`,
    body: `let i = ${flatIndex(WG)}; if (i >= P(0u)) { return; }
  ${index}
  ${store}`,
  });
  ctx.run({
    name: `${name}_r${rank}${vec ? '_v4' : ''}`,
    shader: src,
    buffers: [...xs.map((x) => x.storage.buffer), out.buffer],
    uniforms: u.build(),
    workgroups: launch1d(threads),
  });
  return out;
}

/** Elementwise binary op with NumPy broadcasting. */
export function binary(ctx: KernelContext, op: BinaryOp, a: GpuRef, b: GpuRef, outShape: Shape, outDtype: DType): GpuStorage {
  const ta = gpuDType(a.dtype);
  const tb = gpuDType(b.dtype);
  const target = gpuDType(outDtype);
  const n = sizeOf(outShape);
  const out = ctx.alloc(n);
  if (n === 0) return out;
  const computeF32 = ta === 'float32' || tb === 'float32' || op === 'pow';
  const ct: GpuDType = computeF32 ? 'float32' : 'int32';
  const body = computeF32 ? BINARY_F32[op] : BINARY_I32[op as Exclude<BinaryOp, 'pow'>];
  const ty = computeF32 ? 'f32' : 'i32';
  const opFn = `fn op_(a: ${ty}, b: ${ty}) -> ${ty} { return ${body}; }`;
  const el = `fn el_(a: ${wgslType(ta)}, b: ${wgslType(tb)}) -> ${wgslType(target)} { return ${convert(`op_(${convert('a', ta, ct)}, ${convert('b', tb, ct)})`, ct, target)}; }`;
  return broadcastKernel(ctx, `binary_${op}`, [a, b], outShape, out, target, `${opFn}\n${el}`);
}

/** `cond ? a : b` with broadcasting; values are stored into `outDtype` like a typed-array write. */
export function where(ctx: KernelContext, cond: GpuRef, a: GpuRef, b: GpuRef, outShape: Shape, outDtype: DType): GpuStorage {
  const tc = gpuDType(cond.dtype);
  const ta = gpuDType(a.dtype);
  const tb = gpuDType(b.dtype);
  const target = gpuDType(outDtype);
  const n = sizeOf(outShape);
  const out = ctx.alloc(n);
  if (n === 0) return out;
  const el = `fn el_(c: ${wgslType(tc)}, a: ${wgslType(ta)}, b: ${wgslType(tb)}) -> ${wgslType(target)} {
  if (${truthy('c', tc)}) { return ${convert('a', ta, target)}; }
  return ${convert('b', tb, target)};
}`;
  return broadcastKernel(ctx, 'where', [cond, a, b], outShape, out, target, el);
}
