import type { Backend } from '../backends/backend.js';
import * as F from '../ops/index.js';
import { backward as runBackward } from './autograd.js';
import { type DType, type TypedArray, isFloat } from './dtype.js';
import { Storage, engine } from './engine.js';
import { TensorError } from './errors.js';
import { type Shape, sizeOf } from './shape.js';

/**
 * The autograd record of how a tensor was made: its inputs and a function mapping the
 * gradient of the output to one gradient per input (`null` where an input needs none).
 */
export interface GradNode {
  /** Op name, for error messages and debugging. */
  readonly name: string;
  /** The op's tensor inputs, in order. */
  readonly inputs: readonly Tensor[];
  /** Gradient of each input given the output gradient; only called under no-grad. */
  backward(grad: Tensor): (Tensor | null | undefined)[];
}

/**
 * An n-dimensional array on a backend, with optional gradient tracking. Tensors are values:
 * ops return new tensors and never modify their inputs (the optimiser is the one exception,
 * updating parameters in place).
 */
export class Tensor {
  /** Unique id, in creation order. */
  readonly id: number;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to (or through) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after {@link Tensor.backward}. */
  grad: Tensor | null = null;
  /** @internal autograd node; null for leaves. */
  _node: GradNode | null = null;
  /** @internal the buffer. */
  _storage: Storage;
  private _disposed = false;

  /** @internal use {@link tensor} and the other factories. */
  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.id = engine.nextId++;
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    engine.onTensorCreated(this);
  }

  /** @internal wraps a freshly allocated backend buffer. */
  static _fromHandle(backend: Backend, handle: unknown, shape: Shape, dtype: DType): Tensor {
    const bytes = sizeOf(shape) * (dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4);
    return new Tensor(new Storage(backend, handle, bytes), shape, dtype);
  }

  /** The backend that owns this tensor's buffer. */
  get backend(): Backend {
    return this._storage.backend;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether {@link Tensor.dispose} has been called. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /** @internal throws if disposed; returns the buffer handle. */
  _handle(): unknown {
    if (this._disposed) throw new TensorError('DISPOSED', `tensor #${this.id} [${this.shape.join(', ')}] was disposed`);
    return this._storage.handle;
  }

  /** @internal a view of this tensor with a new shape sharing the buffer. */
  _view(shape: Shape): Tensor {
    this._handle();
    this._storage.refs++;
    return new Tensor(this._storage, shape, this.dtype);
  }

  /**
   * @internal replaces the buffer in place (used by optimisers and `assign`); the old buffer
   * is released. The new storage must have the same shape and dtype.
   */
  _setStorage(storage: Storage): void {
    this._handle();
    const old = this._storage;
    this._storage = storage;
    if (--old.refs === 0) engine.onFree(old);
  }

  /** Reads the values back to the host (works on every backend). */
  async data(): Promise<TypedArray> {
    return this.backend.read(this._handle(), this.dtype, this.size);
  }

  /** Synchronous read; only backends that can do it cheaply (CPU) support it. */
  dataSync(): TypedArray {
    const b = this.backend;
    if (!b.readSync) {
      throw new TensorError('BACKEND', `dataSync() is not available on '${b.name}'; use await t.data()`);
    }
    return b.readSync(this._handle(), this.dtype, this.size);
  }

  /** The values as a (nested) JavaScript array. */
  async array(): Promise<unknown> {
    return nest(Array.from(await this.data()), this.shape);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new TensorError('SHAPE', `item() needs one element, tensor has ${this.size}`);
    return (await this.data())[0]!;
  }

  /** Frees the buffer (once no other view uses it) and this tensor's gradient. Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._node = null;
    engine.onTensorDisposed(this);
    const s = this._storage;
    if (--s.refs === 0) engine.onFree(s);
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /**
   * Marks this leaf as trainable: later ops record a graph through it and
   * {@link Tensor.backward} fills {@link Tensor.grad}.
   */
  requiresGrad_(flag = true): this {
    if (flag && !isFloat(this.dtype)) throw new TensorError('DTYPE', `only float tensors can require grad, got ${this.dtype}`);
    if (this._node) throw new TensorError('AUTOGRAD', 'requiresGrad_ can only be set on leaf tensors');
    this.requiresGrad = flag;
    return this;
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad and adds
   * them to the leaves' `.grad`. Without an argument the tensor must have one element.
   */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, options.retainGraph ?? false);
  }

  /** A tensor sharing this data but cut from the graph. */
  detach(): Tensor {
    return this._view(this.shape);
  }

  /** A copy with its own buffer. */
  clone(): Tensor {
    return F.clone(this);
  }

  /** Moves/copies the tensor to another backend (a new tensor; this one is untouched). */
  async to(backendName: string): Promise<Tensor> {
    return F.toBackend(this, backendName);
  }

  /** Converts the element type. */
  cast(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }

  /** Sets zero gradient (disposes `.grad`). */
  zeroGrad(): void {
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** @see {@link F.add} */ add(o: Tensor | number): Tensor { return F.add(this, o); }
  /** @see {@link F.sub} */ sub(o: Tensor | number): Tensor { return F.sub(this, o); }
  /** @see {@link F.mul} */ mul(o: Tensor | number): Tensor { return F.mul(this, o); }
  /** @see {@link F.div} */ div(o: Tensor | number): Tensor { return F.div(this, o); }
  /** @see {@link F.pow} */ pow(e: Tensor | number): Tensor { return F.pow(this, e); }
  /** @see {@link F.maximum} */ maximum(o: Tensor | number): Tensor { return F.maximum(this, o); }
  /** @see {@link F.minimum} */ minimum(o: Tensor | number): Tensor { return F.minimum(this, o); }
  /** @see {@link F.neg} */ neg(): Tensor { return F.neg(this); }
  /** @see {@link F.exp} */ exp(): Tensor { return F.exp(this); }
  /** @see {@link F.log} */ log(): Tensor { return F.log(this); }
  /** @see {@link F.sqrt} */ sqrt(): Tensor { return F.sqrt(this); }
  /** @see {@link F.rsqrt} */ rsqrt(): Tensor { return F.rsqrt(this); }
  /** @see {@link F.tanh} */ tanh(): Tensor { return F.tanh(this); }
  /** @see {@link F.sigmoid} */ sigmoid(): Tensor { return F.sigmoid(this); }
  /** @see {@link F.relu} */ relu(): Tensor { return F.relu(this); }
  /** @see {@link F.gelu} */ gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return F.gelu(this, approximate); }
  /** @see {@link F.silu} */ silu(): Tensor { return F.silu(this); }
  /** @see {@link F.abs} */ abs(): Tensor { return F.abs(this); }
  /** @see {@link F.square} */ square(): Tensor { return F.square(this); }
  /** @see {@link F.clamp} */ clamp(min: number | null, max: number | null): Tensor { return F.clamp(this, min, max); }
  /** @see {@link F.eq} */ eq(o: Tensor | number): Tensor { return F.eq(this, o); }
  /** @see {@link F.ne} */ ne(o: Tensor | number): Tensor { return F.ne(this, o); }
  /** @see {@link F.lt} */ lt(o: Tensor | number): Tensor { return F.lt(this, o); }
  /** @see {@link F.le} */ le(o: Tensor | number): Tensor { return F.le(this, o); }
  /** @see {@link F.gt} */ gt(o: Tensor | number): Tensor { return F.gt(this, o); }
  /** @see {@link F.ge} */ ge(o: Tensor | number): Tensor { return F.ge(this, o); }
  /** @see {@link F.sum} */ sum(dim?: number | number[], keepdim = false): Tensor { return F.sum(this, dim, keepdim); }
  /** @see {@link F.mean} */ mean(dim?: number | number[], keepdim = false): Tensor { return F.mean(this, dim, keepdim); }
  /** @see {@link F.max} */ max(dim?: number, keepdim = false): Tensor { return F.max(this, dim, keepdim); }
  /** @see {@link F.argmax} */ argmax(dim?: number, keepdim = false): Tensor { return F.argmax(this, dim, keepdim); }
  /** @see {@link F.matmul} */ matmul(o: Tensor): Tensor { return F.matmul(this, o); }
  /** @see {@link F.softmax} */ softmax(dim: number): Tensor { return F.softmax(this, dim); }
  /** @see {@link F.logSoftmax} */ logSoftmax(dim: number): Tensor { return F.logSoftmax(this, dim); }
  /** @see {@link F.reshape} */ reshape(shape: readonly number[]): Tensor { return F.reshape(this, shape); }
  /** Alias of {@link Tensor.reshape}. */ view(shape: readonly number[]): Tensor { return F.reshape(this, shape); }
  /** Reshapes to one dimension. */ flatten(): Tensor { return F.reshape(this, [this.size]); }
  /** @see {@link F.unsqueeze} */ unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  /** @see {@link F.squeeze} */ squeeze(dim?: number): Tensor { return F.squeeze(this, dim); }
  /** @see {@link F.transpose} */ transpose(d0: number, d1: number): Tensor { return F.transpose(this, d0, d1); }
  /** @see {@link F.permute} */ permute(dims: readonly number[]): Tensor { return F.permute(this, dims); }
  /** @see {@link F.expand} */ expand(shape: readonly number[]): Tensor { return F.expand(this, shape); }
  /** @see {@link F.narrow} */ narrow(dim: number, start: number, length: number): Tensor { return F.narrow(this, dim, start, length); }
  /** @see {@link F.maskedFill} */ maskedFill(mask: Tensor, value: number): Tensor { return F.maskedFill(this, mask, value); }

  /** Short description for debugging. */
  toString(): string {
    return `Tensor(#${this.id}, [${this.shape.join(', ')}], ${this.dtype}, ${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function nest(flat: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const step = sizeOf(rest);
  const out: unknown[] = [];
  for (let i = 0; i < d!; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest));
  return out;
}
