import { record } from '../core/autograd.js';
import { isFloat } from '../core/dtype.js';
import { TensorError } from '../core/errors.js';
import { normDim, sizeOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { binaryRaw, scalarOp, whereRaw } from './elementwise.js';
import { expandRaw, reshape } from './shape.js';
import { ref, scalarLike, wrap } from './util.js';

function normAxes(x: Tensor, dim: number | number[] | undefined): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const dims = Array.isArray(dim) ? dim : [dim];
  const axes = [...new Set(dims.map((d) => normDim(d, x.rank)))].sort((a, b) => a - b);
  return x.rank === 0 ? [] : axes;
}

function keptShape(x: Tensor, axes: number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outShape(x: Tensor, axes: number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(x, axes) : x.shape.filter((_, i) => !axes.includes(i));
}

/** @internal sum over axes (kept as size-1 dims), no autograd. */
export function sumRaw(x: Tensor, axes: number[]): Tensor {
  const be = x.backend;
  return wrap(be, be.reduce('sum', ref(x), axes), keptShape(x, axes), x.dtype === 'bool' ? 'int32' : x.dtype);
}

/** Sum over `dim` (one, several or all dims), optionally keeping reduced dims as size 1. */
export function sum(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const axes = normAxes(x, dim);
  const k = sumRaw(x, axes);
  const shape = outShape(x, axes, keepdim);
  const out = k._view(shape);
  k.dispose();
  return record(out, 'sum', [x], (g) => [expandRaw(g._view(keptShape(x, axes)), x.shape, true)]);
}

/** Mean over `dim` (one, several or all dims). */
export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  if (!isFloat(x.dtype)) throw new TensorError('DTYPE', `mean needs a float tensor, got ${x.dtype}`);
  const axes = normAxes(x, dim);
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  const s = sumRaw(x, axes);
  const m = scalarOp('div', s, n);
  s.dispose();
  const out = m._view(outShape(x, axes, keepdim));
  m.dispose();
  return record(out, 'mean', [x], (g) => {
    const gs = scalarOp('div', g, n);
    const gv = gs._view(keptShape(x, axes));
    gs.dispose();
    return [expandRaw(gv, x.shape, true)];
  });
}

/**
 * Maximum over `dim` (values only; see {@link argmax} for indices), or over all elements when
 * `dim` is omitted. The gradient flows to the first maximal element, like PyTorch's indices.
 */
export function max(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [x.size]);
    const r = max(flat, 0, false);
    // The reshape is part of r's graph when x requires grad; tidy/dispose of r's scope frees it.
    if (!r.requiresGrad) flat.dispose();
    return r;
  }
  const axis = normDim(dim, x.rank);
  const be = x.backend;
  const k = wrap(be, be.reduce('max', ref(x), [axis]), keptShape(x, [axis]), x.dtype);
  const out = k._view(outShape(x, [axis], keepdim));
  k.dispose();
  return record(out, 'max', [x], (g) => {
    const idx = wrap(be, be.reduce('argmax', ref(x), [axis]), keptShape(x, [axis]), 'int32');
    const iota = arangeAlong(x, axis);
    const hit = binaryRaw('eq', iota, idx, 'bool');
    iota.dispose();
    idx.dispose();
    const gk = g._view(keptShape(x, [axis]));
    const zero = scalarLike(0, g);
    const r = whereRaw(hit, gk, zero);
    hit.dispose();
    gk.dispose();
    zero.dispose();
    return [r];
  });
}

/** An int32 tensor shaped [1,…,n,…,1] holding 0..n-1 along `axis` (for index masks). */
function arangeAlong(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis]!;
  const arr = new Int32Array(n);
  for (let i = 0; i < n; i++) arr[i] = i;
  const shape = x.shape.map((_, i) => (i === axis ? n : 1));
  return wrap(x.backend, x.backend.upload(arr, 'int32'), shape, 'int32');
}

/** Index of the first maximum along `dim` (int32), or of the flattened tensor. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    const flat = x._view([x.size]);
    const r = argmax(flat, 0, keepdim);
    flat.dispose();
    return keepdim ? r._view(x.shape.map(() => 1)) : r;
  }
  const axis = normDim(dim, x.rank);
  const be = x.backend;
  const k = wrap(be, be.reduce('argmax', ref(x), [axis]), keptShape(x, [axis]), 'int32');
  if (keepdim) return k;
  const out = k._view(outShape(x, [axis], false));
  k.dispose();
  return out;
}
