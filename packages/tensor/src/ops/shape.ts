import { record } from '../core/autograd.js';
import { TensorError } from '../core/errors.js';
import { broadcastShapes, broadcastStrides, normDim, shapesEqual, sizeOf, stridesOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { reduceOwned, sumToShape, whereRaw } from './elementwise.js';
import { backendOf, ref, scalarLike, wrap } from './util.js';

/** @internal materialises a strided read of `x`, no autograd. */
export function stridedRaw(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  const be = x.backend;
  return wrap(be, be.stridedCopy(ref(x), shape, strides, offset), shape, x.dtype);
}

/**
 * @internal broadcasts `x` to `shape` by copying; when `ownInput` the input is disposed.
 * Used by reduction backward passes.
 */
export function expandRaw(x: Tensor, shape: readonly number[], ownInput = false): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const out = stridedRaw(x, shape, broadcastStrides(x.shape, shape), 0);
  if (ownInput) x.dispose();
  return out;
}

/** Returns a tensor with the same data and a new shape; one dim may be −1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg !== -1) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new TensorError('SHAPE', `cannot reshape [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
    s[neg] = x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TensorError('SHAPE', `cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${shape.join(', ')}]`);
  }
  const out = x._view(s);
  return record(out, 'reshape', [x], (g) => [g._view(x.shape)]);
}

/** Inserts a size-1 dim at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.rank + 1);
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return reshape(x, s);
}

/** Removes size-1 dims (all, or just `dim`). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normDim(dim, x.rank);
  if (x.shape[d] !== 1) return reshape(x, x.shape);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/** Reorders dims: output dim i is input dim `dims[i]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank) throw new TensorError('SHAPE', `permute needs ${x.rank} dims, got [${dims.join(', ')}]`);
  const p = dims.map((d) => normDim(d, x.rank));
  if (new Set(p).size !== p.length) throw new TensorError('ARGUMENT', `permute dims repeat: [${dims.join(', ')}]`);
  const st = stridesOf(x.shape);
  const out = stridedRaw(x, p.map((d) => x.shape[d]!), p.map((d) => st[d]!), 0);
  const inv = new Array<number>(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return record(out, 'permute', [x], (g) => {
    const gs = stridesOf(g.shape);
    return [stridedRaw(g, inv.map((d) => g.shape[d]!), inv.map((d) => gs[d]!), 0)];
  });
}

/** Swaps two dims. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normDim(d0, x.rank);
  const b = normDim(d1, x.rank);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts to `shape` (−1 keeps a dim), materialised; the gradient sums back. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const off = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - off]! : d));
  const check = broadcastShapes(x.shape, target);
  if (!shapesEqual(check, target)) throw new TensorError('SHAPE', `cannot expand [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
  const out = stridedRaw(x, target, broadcastStrides(x.shape, target), 0);
  return record(out, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

/** The slice `start … start+length−1` of `dim`, like `torch.narrow` (copied). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.rank);
  const n = x.shape[d]!;
  if (start < 0) start += n;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > n) {
    throw new TensorError('ARGUMENT', `narrow: [${start}, ${start + length}) is outside dim ${dim} of size ${n}`);
  }
  const st = stridesOf(x.shape);
  const shape = x.shape.map((s, i) => (i === d ? length : s));
  const out = stridedRaw(x, shape, st, start * st[d]!);
  return record(out, 'narrow', [x], (g) => {
    // Pad the gradient back to full size with zeros on both sides of the slice.
    const parts: Tensor[] = [];
    const be = g.backend;
    const mk = (len: number) => {
      const s = x.shape.map((v, i) => (i === d ? len : v));
      return wrap(be, be.fill(sizeOf(s), g.dtype, 0), s, g.dtype);
    };
    if (start > 0) parts.push(mk(start));
    parts.push(g);
    if (start + length < n) parts.push(mk(n - start - length));
    if (parts.length === 1) return [g];
    const r = catRaw(parts, d);
    for (const p of parts) if (p !== g) p.dispose();
    return [r];
  });
}

/** @internal concatenation without autograd. */
export function catRaw(xs: readonly Tensor[], dim: number): Tensor {
  const be = backendOf(...xs);
  const shape = [...xs[0]!.shape];
  shape[dim] = xs.reduce((s, t) => s + t.shape[dim]!, 0);
  return wrap(be, be.cat(xs.map(ref), dim, shape), shape, xs[0]!.dtype);
}

/** Concatenates tensors along `dim`; all other dims must agree. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new TensorError('ARGUMENT', 'cat needs at least one tensor');
  const first = xs[0]!;
  const d = normDim(dim, first.rank);
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new TensorError('SHAPE', `cat: shapes [${first.shape.join(', ')}] and [${t.shape.join(', ')}] differ outside dim ${d}`);
    }
    if (t.dtype !== first.dtype) throw new TensorError('DTYPE', `cat: dtypes ${first.dtype} and ${t.dtype} differ`);
  }
  const out = catRaw(xs, d);
  return record(out, 'cat', xs, (g) => {
    const st = stridesOf(g.shape);
    let off = 0;
    return xs.map((t) => {
      const len = t.shape[d]!;
      const r = t.requiresGrad ? stridedRaw(g, t.shape, st, off * st[d]!) : null;
      off += len;
      return r;
    });
  });
}

/** `cond ? a : b` elementwise with broadcasting; `cond` is bool (or nonzero numbers). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const like = a instanceof Object ? (a as Tensor) : b instanceof Object ? (b as Tensor) : cond;
  const at = typeof a === 'number' ? scalarLike(a, like, like.dtype === 'bool' ? 'float32' : like.dtype) : a;
  const bt = typeof b === 'number' ? scalarLike(b, like, like.dtype === 'bool' ? 'float32' : like.dtype) : b;
  const out = whereRaw(cond, at, bt);
  if (at !== a) at.dispose();
  if (bt !== b) bt.dispose();
  const inputs = [a, b].filter((t): t is Tensor => typeof t !== 'number');
  return record(out, 'where', inputs, (g) => {
    const zero = scalarLike(0, g);
    const grads: (Tensor | null)[] = [];
    if (typeof a !== 'number') grads.push(a.requiresGrad ? reduceOwned(whereRaw(cond, g, zero), a.shape) : null);
    if (typeof b !== 'number') grads.push(b.requiresGrad ? reduceOwned(whereRaw(cond, zero, g), b.shape) : null);
    zero.dispose();
    return grads;
  });
}

/** Replaces elements where `mask` is true by `value` (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const v = scalarLike(value, x);
  const out = whereRaw(mask, v, x);
  v.dispose();
  if (!shapesEqual(out.shape, x.shape)) {
    out.dispose();
    throw new TensorError('SHAPE', `maskedFill: mask [${mask.shape.join(', ')}] does not broadcast to [${x.shape.join(', ')}]`);
  }
  return record(out, 'maskedFill', [x], (g) => {
    const zero = scalarLike(0, g);
    const r = whereRaw(mask, zero, g);
    zero.dispose();
    return [r];
  });
}
