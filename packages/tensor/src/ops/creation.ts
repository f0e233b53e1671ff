import { type DType, type TypedArray, allocArray, dtypeOfArray, isFloat } from '../core/dtype.js';
import { engine, findBackend } from '../core/engine.js';
import { TensorError } from '../core/errors.js';
import { type Shape, checkShape, sizeOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { type Generator, defaultGenerator } from '../random/generator.js';
import { record } from '../core/autograd.js';
import { ref, wrap } from './util.js';

/** Nested arrays of numbers or booleans, e.g. `[[1, 2], [3, 4]]`. */
export type NestedArray = number | boolean | readonly NestedArray[];

/** Options for {@link tensor}. */
export interface TensorOptions {
  /** Shape; required for flat arrays that are not 1-D. */
  shape?: readonly number[];
  /** Element type; inferred from typed arrays, else float32. */
  dtype?: DType;
  /** Track gradients for this leaf. */
  requiresGrad?: boolean;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = (cur as readonly NestedArray[])[0] as NestedArray;
    if (cur === undefined) break;
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new TensorError('SHAPE', 'ragged nested array: nesting depth differs between elements');
    if (typeof data !== 'number' && typeof data !== 'boolean') throw new TensorError('ARGUMENT', `tensor data must be numbers, got ${typeof data}`);
    out.push(Number(data));
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new TensorError('SHAPE', `ragged nested array: expected ${shape[depth]} elements at depth ${depth}`);
  }
  for (const d of data as readonly NestedArray[]) flatten(d, shape, depth + 1, out);
}

/**
 * Creates a tensor on the current backend from nested arrays, a typed array or a flat array.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 */
export function tensor(data: NestedArray | TypedArray | readonly number[], options: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    shape = options.shape ? [...options.shape] : [flat.length];
    dtype = options.dtype ?? dtypeOfArray(data as TypedArray);
  } else {
    const inferred = inferShape(data as NestedArray);
    const out: number[] = [];
    flatten(data as NestedArray, inferred, 0, out);
    flat = out;
    shape = options.shape ? [...options.shape] : inferred;
    dtype = options.dtype ?? (typeof data === 'boolean' ? 'bool' : 'float32');
  }
  checkShape(shape);
  if (sizeOf(shape) !== flat.length) {
    throw new TensorError('SHAPE', `shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${flat.length}`);
  }
  const backend = engine.backend();
  const arr = allocArray(dtype, flat.length);
  arr.set(flat as ArrayLike<number>);
  const t = wrap(backend, backend.upload(arr, dtype), shape, dtype);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, options: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  checkShape(shape);
  const dtype = options.dtype ?? 'float32';
  const b = engine.backend();
  const t = wrap(b, b.fill(sizeOf(shape), dtype, value), shape, dtype);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  return full(shape, 1, options);
}

/** `full` with the shape, dtype and backend of `like`. */
export function fullLike(like: Tensor, value: number, dtype: DType = like.dtype): Tensor {
  const b = like.backend;
  return wrap(b, b.fill(like.size, dtype, value), like.shape, dtype);
}

/** Zeros shaped like `like` (same backend). */
export function zerosLike(like: Tensor): Tensor {
  return fullLike(like, 0);
}

/** Ones shaped like `like` (same backend). */
export function onesLike(like: Tensor): Tensor {
  return fullLike(like, 1);
}

/** Values `start, start+step, …` below `end`, like `torch.arange`. */
export function arange(start: number, end?: number, step = 1, options: { dtype?: DType } = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new TensorError('ARGUMENT', 'arange step must be nonzero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? 'int32' : 'float32');
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  const b = engine.backend();
  return wrap(b, b.upload(arr, dtype), [n], dtype);
}

/** Options for random tensors. */
export interface RandomOptions {
  /** Float dtype (default float32). */
  dtype?: DType;
  /** Generator to draw from (default: the global one, see `manualSeed`). */
  generator?: Generator;
  /** Track gradients for this leaf. */
  requiresGrad?: boolean;
}

function random(kind: 'uniform' | 'normal', shape: readonly number[], options: RandomOptions): Tensor {
  checkShape(shape);
  const dtype = options.dtype ?? 'float32';
  if (!isFloat(dtype)) throw new TensorError('DTYPE', `random tensors must be float, got ${dtype}`);
  const gen = options.generator ?? defaultGenerator();
  const b = engine.backend();
  const t = wrap(b, b.random(kind, sizeOf(shape), dtype, gen.next()), shape, dtype);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Standard normal samples from a seeded counter-based stream (same on every backend). */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return random('normal', shape, options);
}

/** Uniform samples in [0, 1) from a seeded counter-based stream. */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return random('uniform', shape, options);
}

/** A copy with its own buffer; gradients flow through it. */
export function clone(x: Tensor): Tensor {
  const b = x.backend;
  const out = wrap(b, b.stridedCopy(ref(x), x.shape, stridesFor(x.shape), 0), x.shape, x.dtype);
  return record(out, 'clone', [x], (g) => [g]);
}

function stridesFor(shape: Shape): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Converts the element type; gradients flow between float types. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return clone(x);
  const b = x.backend;
  const out = wrap(b, b.cast(ref(x), dtype), x.shape, dtype);
  if (isFloat(dtype) && isFloat(x.dtype)) return record(out, 'cast', [x], (g) => [cast(g, x.dtype)]);
  return out;
}

/** Copies a tensor to another backend (not differentiable). */
export async function toBackend(x: Tensor, name: string): Promise<Tensor> {
  const target = findBackend(name);
  if (!target) throw new TensorError('BACKEND', `backend '${name}' is not initialised; call setBackend('${name}') first`);
  const data = await x.data();
  return wrap(target, target.upload(data, x.dtype), x.shape, x.dtype);
}

/** @internal allocates a host array for a dtype. */
export { allocArray };
