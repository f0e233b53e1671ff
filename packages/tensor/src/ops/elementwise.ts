import type { BinaryOp, UnaryOp } from '../backends/backend.js';
import { record } from '../core/autograd.js';
import { type DType, isFloat, promoteTypes } from '../core/dtype.js';
import { TensorError } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { backendOf, ref, scalarLike, wrap } from './util.js';

// ---------------------------------------------------------------------------------------------
// Primitive launchers (no autograd)
// ---------------------------------------------------------------------------------------------

/** @internal runs a unary kernel. */
export function unaryRaw(op: UnaryOp, x: Tensor, outDtype: DType = x.dtype): Tensor {
  const b = x.backend;
  return wrap(b, b.unary(op, ref(x), outDtype), x.shape, outDtype);
}

/** @internal runs a binary kernel with broadcasting. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, outDtype?: DType): Tensor {
  const be = backendOf(a, b);
  const shape = broadcastShapes(a.shape, b.shape);
  const dt = outDtype ?? promoteTypes(a.dtype, b.dtype);
  return wrap(be, be.binary(op, ref(a), ref(b), shape, dt), shape, dt);
}

function lift(x: Tensor | number, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  // A Python-style scalar keeps the tensor's float dtype (x * 0.5 stays float32).
  const dt: DType = isFloat(like.dtype) ? like.dtype : Number.isInteger(x) ? like.dtype === 'bool' ? 'int32' : like.dtype : 'float32';
  return scalarLike(x, like, dt);
}

/**
 * Reduces a broadcast gradient back to `shape` by summing over the broadcast axes. Returns
 * `g` itself when no reduction is needed.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const be = g.backend;
  const reduced = axes.length ? wrap(be, be.reduce('sum', ref(g), axes), g.shape.map((d, i) => (axes.includes(i) ? 1 : d)), g.dtype) : g;
  const out = reduced._view(shape);
  if (reduced !== g) reduced.dispose();
  return out;
}

function floatInputs(op: string, a: Tensor, b: Tensor): void {
  if (!isFloat(a.dtype) && a.requiresGrad) throw new TensorError('DTYPE', `${op}: integer tensors cannot require grad`);
  if (!isFloat(b.dtype) && b.requiresGrad) throw new TensorError('DTYPE', `${op}: integer tensors cannot require grad`);
}

// ---------------------------------------------------------------------------------------------
// Binary arithmetic: forward and backward side by side
// ---------------------------------------------------------------------------------------------

/** Elementwise a + b with broadcasting. */
export function add(a: Tensor, b: Tensor | number): Tensor {
  const bt = lift(b, a);
  floatInputs('add', a, bt);
  const out = binaryRaw('add', a, bt);
  if (!(b instanceof Tensor)) {
    bt.dispose();
    return record(out, 'add', [a], (g) => [g]);
  }
  return record(out, 'add', [a, b], (g) => [
    a.requiresGrad ? sumToShape(g, a.shape) : null,
    b.requiresGrad ? sumToShape(g, b.shape) : null,
  ]);
}

/** Elementwise a − b with broadcasting. */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  const bt = lift(b, a);
  const out = binaryRaw('sub', a, bt);
  if (bt !== b) bt.dispose();
  if (!(b instanceof Tensor)) return record(out, 'sub', [a], (g) => [sumToShape(g, a.shape)]);
  return record(out, 'sub', [a, b], (g) => {
    const ng = b.requiresGrad ? unaryRaw('neg', g) : null;
    const gb = ng ? sumToShape(ng, b.shape) : null;
    if (ng && gb !== ng) ng.dispose();
    return [a.requiresGrad ? sumToShape(g, a.shape) : null, gb];
  });
}

/** Elementwise a · b with broadcasting. */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  const bt = lift(b, a);
  const out = binaryRaw('mul', a, bt);
  if (!(b instanceof Tensor)) {
    bt.dispose();
    return record(out, 'mul', [a], (g) => [scalarOp('mul', g, b)]);
  }
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceOwned(binaryRaw('mul', g, b), a.shape) : null,
    b.requiresGrad ? reduceOwned(binaryRaw('mul', g, a), b.shape) : null,
  ]);
}

/** Elementwise a / b with broadcasting (integers promote to float32, like PyTorch). */
export function div(a: Tensor, b: Tensor | number): Tensor {
  let bt = lift(b, a);
  let at = a;
  if (!isFloat(a.dtype) && !isFloat(bt.dtype)) {
    at = unaryCast(a);
    const old = bt;
    bt = unaryCast(bt);
    if (old !== b) old.dispose();
  }
  const out = binaryRaw('div', at, bt);
  if (at !== a) at.dispose();
  if (!(b instanceof Tensor)) {
    bt.dispose();
    return record(out, 'div', [a], (g) => [scalarOp('div', g, b)]);
  }
  if (bt !== b) bt.dispose();
  return record(out, 'div', [a, b], (g) => {
    const ga = a.requiresGrad ? reduceOwned(binaryRaw('div', g, b), a.shape) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -a/b² = -out/b
      const t = binaryRaw('div', out, b);
      const t2 = binaryRaw('mul', g, t);
      t.dispose();
      const t3 = unaryRaw('neg', t2);
      t2.dispose();
      gb = reduceOwned(t3, b.shape);
    }
    return [ga, gb];
  });
}

/** @internal `x op scalar` without autograd. */
export function scalarOp(op: BinaryOp, x: Tensor, v: number): Tensor {
  const s = scalarLike(v, x);
  const r = binaryRaw(op, x, s);
  s.dispose();
  return r;
}

function unaryCast(x: Tensor): Tensor {
  const be = x.backend;
  return wrap(be, be.cast(ref(x), 'float32'), x.shape, 'float32');
}

/** @internal sums a freshly made gradient to `shape`, disposing the unreduced one. */
export function reduceOwned(g: Tensor, shape: readonly number[]): Tensor {
  const r = sumToShape(g, shape);
  if (r !== g) g.dispose();
  return r;
}

/** Elementwise a ** e; `e` may be a number or a broadcastable tensor. */
export function pow(a: Tensor, e: Tensor | number): Tensor {
  const et = lift(e, a);
  const out = binaryRaw('pow', a, et);
  if (!(e instanceof Tensor)) {
    return record(out, 'pow', [a], (g) => {
      // d/da a^k = k a^(k-1)
      const k1 = scalarLike(e - 1, a);
      const p = binaryRaw('pow', a, k1);
      k1.dispose();
      const kk = scalarLike(e, a);
      const d = binaryRaw('mul', p, kk);
      p.dispose();
      kk.dispose();
      const r = binaryRaw('mul', g, d);
      d.dispose();
      return [r];
    });
  }
  return record(out, 'pow', [a, e], (g) => {
    let ga: Tensor | null = null;
    let ge: Tensor | null = null;
    if (a.requiresGrad) {
      const one = scalarLike(1, e);
      const k1 = binaryRaw('sub', e, one);
      one.dispose();
      const p = binaryRaw('pow', a, k1);
      k1.dispose();
      const d = binaryRaw('mul', p, e);
      p.dispose();
      ga = reduceOwned(binaryRaw('mul', g, d), a.shape);
      d.dispose();
    }
    if (e.requiresGrad) {
      const la = unaryRaw('log', a);
      const d = binaryRaw('mul', out, la);
      la.dispose();
      ge = reduceOwned(binaryRaw('mul', g, d), e.shape);
      d.dispose();
    }
    return [ga, ge];
  });
}

function minmax(op: 'max' | 'min', a: Tensor, b: Tensor | number): Tensor {
  const bt = lift(b, a);
  const out = binaryRaw(op, a, bt);
  if (bt !== b) bt.dispose();
  const inputs = b instanceof Tensor ? [a, b] : [a];
  return record(out, op === 'max' ? 'maximum' : 'minimum', inputs, (g) => {
    // The gradient goes to the input that was selected (to a on ties, like torch.clamp).
    const sel = b instanceof Tensor ? binaryRaw(op === 'max' ? 'ge' : 'le', a, b, 'bool') : scalarCmp(op === 'max' ? 'ge' : 'le', a, b);
    const zero = scalarLike(0, g);
    const ga = a.requiresGrad ? reduceOwned(whereRaw(sel, g, zero), a.shape) : null;
    const gb = b instanceof Tensor && b.requiresGrad ? reduceOwned(whereRaw(sel, zero, g), b.shape) : null;
    sel.dispose();
    zero.dispose();
    return [ga, gb];
  });
}

/** Elementwise maximum (`torch.maximum`). */
export function maximum(a: Tensor, b: Tensor | number): Tensor {
  return minmax('max', a, b);
}

/** Elementwise minimum (`torch.minimum`). */
export function minimum(a: Tensor, b: Tensor | number): Tensor {
  return minmax('min', a, b);
}

function scalarCmp(op: BinaryOp, x: Tensor, v: number): Tensor {
  const s = scalarLike(v, x);
  const r = binaryRaw(op, x, s, 'bool');
  s.dispose();
  return r;
}

/** @internal `cond ? a : b` without autograd. */
export function whereRaw(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const be = backendOf(cond, a, b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  const dt = promoteTypes(a.dtype, b.dtype);
  return wrap(be, be.where(ref(cond), ref(a), ref(b), shape, dt), shape, dt);
}

function compare(op: BinaryOp) {
  return (a: Tensor, b: Tensor | number): Tensor => {
    const bt = lift(b, a);
    const out = binaryRaw(op, a, bt, 'bool');
    if (bt !== b) bt.dispose();
    return out;
  };
}

/** Elementwise a == b (bool). */
export const eq = compare('eq');
/** Elementwise a != b (bool). */
export const ne = compare('ne');
/** Elementwise a < b (bool). */
export const lt = compare('lt');
/** Elementwise a <= b (bool). */
export const le = compare('le');
/** Elementwise a > b (bool). */
export const gt = compare('gt');
/** Elementwise a >= b (bool). */
export const ge = compare('ge');
/** Elementwise logical and (bool). */
export const logicalAnd = compare('and');
/** Elementwise logical or (bool). */
export const logicalOr = compare('or');

/** Elementwise logical not (bool). */
export function logicalNot(x: Tensor): Tensor {
  return unaryRaw('not', x, 'bool');
}

// ---------------------------------------------------------------------------------------------
// Unary math: forward and backward side by side
// ---------------------------------------------------------------------------------------------

function unaryOp(op: UnaryOp, name: string, grad: (x: Tensor, y: Tensor, g: Tensor) => Tensor) {
  return (x: Tensor): Tensor => {
    if (!isFloat(x.dtype) && op !== 'neg' && op !== 'abs' && op !== 'relu' && op !== 'square' && op !== 'sign') {
      x = unaryCast(x);
    }
    const y = unaryRaw(op, x);
    return record(y, name, [x], (g) => [grad(x, y, g)]);
  };
}

function mulRaw(a: Tensor, b: Tensor): Tensor {
  return binaryRaw('mul', a, b);
}

function mulDerivative(g: Tensor, op: UnaryOp, x: Tensor): Tensor {
  const d = unaryRaw(op, x);
  const r = mulRaw(g, d);
  d.dispose();
  return r;
}

/** Elementwise −x. */
export const neg = unaryOp('neg', 'neg', (_x, _y, g) => unaryRaw('neg', g));
/** Elementwise eˣ. */
export const exp = unaryOp('exp', 'exp', (_x, y, g) => mulRaw(g, y));
/** Elementwise natural log. */
export const log = unaryOp('log', 'log', (x, _y, g) => binaryRaw('div', g, x));
/** Elementwise √x. */
export const sqrt = unaryOp('sqrt', 'sqrt', (_x, y, g) => {
  const t = binaryRaw('div', g, y);
  const h = scalarLike(0.5, t);
  const r = mulRaw(t, h);
  t.dispose();
  h.dispose();
  return r;
});
/** Elementwise 1/√x. */
export const rsqrt = unaryOp('rsqrt', 'rsqrt', (_x, y, g) => {
  // d/dx x^-1/2 = -1/2 · y³
  const y3 = binaryRaw('mul', unaryRawOwned('square', y), y);
  const h = scalarLike(-0.5, y);
  const d = mulRaw(y3, h);
  y3.dispose();
  h.dispose();
  const r = mulRaw(g, d);
  d.dispose();
  return r;
});

function unaryRawOwned(op: UnaryOp, x: Tensor): Tensor {
  return unaryRaw(op, x);
}

/** Elementwise tanh. */
export const tanh = unaryOp('tanh', 'tanh', (_x, y, g) => {
  // 1 − y²
  const y2 = unaryRaw('square', y);
  const one = scalarLike(1, y);
  const d = binaryRaw('sub', one, y2);
  y2.dispose();
  one.dispose();
  const r = mulRaw(g, d);
  d.dispose();
  return r;
});
/** Elementwise logistic sigmoid. */
export const sigmoid = unaryOp('sigmoid', 'sigmoid', (_x, y, g) => {
  const one = scalarLike(1, y);
  const t = binaryRaw('sub', one, y);
  one.dispose();
  const d = mulRaw(y, t);
  t.dispose();
  const r = mulRaw(g, d);
  d.dispose();
  return r;
});
/** Elementwise max(x, 0); the gradient at 0 is 0, like PyTorch. */
export const relu = unaryOp('relu', 'relu', (x, _y, g) => mulDerivative(g, 'step', x));
/** Elementwise SiLU, x·σ(x). */
export const silu = unaryOp('silu', 'silu', (x, _y, g) => mulDerivative(g, 'siluGrad', x));
/** Elementwise |x| (gradient sign(x), 0 at 0). */
export const abs = unaryOp('abs', 'abs', (x, _y, g) => mulDerivative(g, 'sign', x));
/** Elementwise x². */
export const square = unaryOp('square', 'square', (x, _y, g) => {
  const two = scalarLike(2, x);
  const d = mulRaw(x, two);
  two.dispose();
  const r = mulRaw(g, d);
  d.dispose();
  return r;
});

const geluExact = unaryOp('gelu', 'gelu', (x, _y, g) => mulDerivative(g, 'geluGrad', x));
const geluTanh = unaryOp('geluTanh', 'gelu_tanh', (x, _y, g) => mulDerivative(g, 'geluTanhGrad', x));

/**
 * GELU. `approximate: 'none'` is x·Φ(x) with the exact erf; `'tanh'` is the tanh approximation
 * (HF's `gelu_new`, used by T5 v1.1's gated feed-forward).
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return approximate === 'tanh' ? geluTanh(x) : geluExact(x);
}

/** Clamps to [min, max] (either may be null); gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  let lo: Tensor | null = null;
  let hi: Tensor | null = null;
  let y = x;
  if (min !== null) {
    lo = scalarLike(min, x);
    y = binaryRaw('max', y, lo);
  }
  if (max !== null) {
    hi = scalarLike(max, x);
    const y2 = binaryRaw('min', y, hi);
    if (y !== x) y.dispose();
    y = y2;
  }
  if (y === x) y = unaryRawCopy(x);
  return record(y, 'clamp', [x], (g) => {
    let mask: Tensor | null = null;
    if (lo) mask = binaryRaw('ge', x, lo, 'bool');
    if (hi) {
      const m2 = binaryRaw('le', x, hi, 'bool');
      if (mask) {
        const m3 = binaryRaw('and', mask, m2, 'bool');
        mask.dispose();
        m2.dispose();
        mask = m3;
      } else mask = m2;
    }
    if (!mask) return [g];
    const zero = scalarLike(0, g);
    const r = whereRaw(mask, g, zero);
    mask.dispose();
    zero.dispose();
    return [r];
  });
}

function unaryRawCopy(x: Tensor): Tensor {
  const be = x.backend;
  return wrap(be, be.cast(ref(x), x.dtype), x.shape, x.dtype);
}
