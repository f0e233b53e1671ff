import { TensorError } from './errors.js';

/** A tensor shape: one non-negative integer per dimension. `[]` is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Resolves a possibly negative dimension index against a rank, PyTorch style. */
export function normDim(dim: number, rank: number, what = 'dim'): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new TensorError('ARGUMENT', `${what} ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return dim < 0 ? dim + r : dim;
}

/** NumPy broadcasting of two shapes; throws a SHAPE error naming both when incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError('SHAPE', `shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read a tensor of `shape` as if it had `outShape` (broadcast dims get stride 0).
 * `shape` must broadcast to `outShape`.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const off = outShape.length - shape.length;
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 ? 0 : strides[i]!;
  return out;
}

/** Whether two shapes are identical. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks a shape is a list of non-negative integers. */
export function checkShape(shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new TensorError('SHAPE', `invalid shape [${shape.join(', ')}]`);
  }
}
