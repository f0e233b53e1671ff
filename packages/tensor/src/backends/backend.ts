import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import type { RandomStream } from '../random/philox.js';

/**
 * A contiguous, row-major view of a backend buffer as handed to a kernel. Every op in
 * `ops/` is written against these primitives, so a new backend is a new implementation of
 * {@link Backend} and nothing else.
 */
export interface TensorRef<S = unknown> {
  /** The backend-owned buffer. */
  readonly storage: S;
  /** Logical shape; the buffer holds `prod(shape)` elements in row-major order. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
}

/** Elementwise functions of one argument. `*Grad` variants give the derivative f'(x). */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'tanh'
  | 'relu'
  | 'step'
  | 'gelu'
  | 'geluGrad'
  | 'geluTanh'
  | 'geluTanhGrad'
  | 'silu'
  | 'siluGrad'
  | 'sigmoid'
  | 'abs'
  | 'sign'
  | 'recip'
  | 'square'
  | 'not';

/** Elementwise functions of two broadcast arguments. Comparisons produce `bool`. */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'max'
  | 'min'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or';

/** Reductions over a set of axes (kept as size-1 dims in the output). */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax';

/** Hyperparameters of one fused AdamW update (PyTorch `_single_tensor_adamw`). */
export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Step number, counting from 1. */
  step: number;
}

/** Per-backend memory figures beyond what the engine counts itself. */
export interface BackendMemory {
  /** Bytes held in a reuse pool (allocated but not backing a live tensor). */
  pooledBytes: number;
}

/**
 * The small set of primitive kernels a backend implements. All returned storages are new
 * buffers owned by the caller (the engine frees them through {@link Backend.free}).
 */
export interface Backend<S = unknown> {
  /** Backend name, e.g. `cpu` or `webgpu`. */
  readonly name: string;
  /** Copies host data into a new buffer. */
  upload(data: TypedArray, dtype: DType): S;
  /** A new buffer of `size` elements all equal to `value`. */
  fill(size: number, dtype: DType, value: number): S;
  /** Reads a buffer back to the host. */
  read(storage: S, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read, only where it is cheap (CPU). */
  readSync?(storage: S, dtype: DType, size: number): TypedArray;
  /** Releases a buffer. */
  free(storage: S): void;
  /** Converts element type. */
  cast(x: TensorRef<S>, to: DType): S;
  /** Elementwise unary op; output has `x.shape` and dtype `outDtype`. */
  unary(op: UnaryOp, x: TensorRef<S>, outDtype: DType): S;
  /** Elementwise binary op with NumPy broadcasting to `outShape`. */
  binary(op: BinaryOp, a: TensorRef<S>, b: TensorRef<S>, outShape: Shape, outDtype: DType): S;
  /** `cond ? a : b` with broadcasting (cond is any dtype; nonzero means true). */
  where(cond: TensorRef<S>, a: TensorRef<S>, b: TensorRef<S>, outShape: Shape, outDtype: DType): S;
  /** Reduces over `axes` (sorted, unique); output shape is `x.shape` with those axes set to 1. */
  reduce(op: ReduceOp, x: TensorRef<S>, axes: number[]): S;
  /**
   * Batched matmul: a `[...Ba, M, K]` (or `[..., K, M]` when transA), b `[...Bb, K, N]` (or
   * `[..., N, K]` when transB); batch dims broadcast to those of `outShape` = `[...B, M, N]`.
   */
  matmul(a: TensorRef<S>, b: TensorRef<S>, transA: boolean, transB: boolean, outShape: Shape): S;
  /** Gathers `x[offset + Σ idx_i·strides_i]` into a new contiguous tensor of `outShape`. */
  stridedCopy(x: TensorRef<S>, outShape: Shape, strides: readonly number[], offset: number): S;
  /** Concatenates along `dim`. */
  cat(xs: TensorRef<S>[], dim: number, outShape: Shape): S;
  /** Rows of a 2-D `weight` [V, D] picked by integer `ids` (any shape): output `[...ids, D]`. */
  gather(weight: TensorRef<S>, ids: TensorRef<S>): S;
  /** Sums rows of `src` [N, D] into a zero `[numRows, D]` at the rows named by `ids` [N]. */
  scatterAddRows(ids: TensorRef<S>, src: TensorRef<S>, numRows: number): S;
  /**
   * (Log-)softmax over the last axis of `x + bias`. `bias`, when given, has `x`'s dtype and a
   * shape that broadcasts to `x.shape` (NumPy rules, no larger than `x`); the sum is formed per
   * element inside the kernel and never materialised.
   */
  softmax(x: TensorRef<S>, log: boolean, bias?: TensorRef<S>): S;
  /**
   * Fused RMSNorm forward over the last axis of `x` [..., D] with `w` [D]:
   * `y = w · (x · r)` where `r = rsqrt(mean(x², −1) + eps)` per row (statistics in float32 or
   * wider). Returns `y` (shape of `x`) and `r` [rows] saved for {@link Backend.rmsNormGrad}.
   */
  rmsNorm(x: TensorRef<S>, w: TensorRef<S>, eps: number): { y: S; r: S };
  /**
   * Fused RMSNorm backward for upstream `g` (shape of `x`): `dx = r·(w·g) − x·r³·mean((w·g)·x)`
   * per row, and when `needW` the weight gradient `dw[c] = Σ_rows g·x·r` [D] (else `null`).
   */
  rmsNormGrad(x: TensorRef<S>, w: TensorRef<S>, r: TensorRef<S>, g: TensorRef<S>, needW: boolean): { dx: S; dw: S | null };
  /** Per-row `-log softmax(logits)[target]` for logits [N, C]; 0 where the target is ignored. */
  crossEntropy(logits: TensorRef<S>, targets: TensorRef<S>, ignoreIndex: number): S;
  /** `softmax(logits) - onehot(target)` for logits [N, C]; zero rows where ignored. */
  crossEntropyGrad(logits: TensorRef<S>, targets: TensorRef<S>, ignoreIndex: number): S;
  /** A buffer of random numbers from a counter-based stream (see `random/philox.ts`). */
  random(kind: 'uniform' | 'normal', size: number, dtype: DType, stream: RandomStream): S;
  /** In-place fused AdamW update of `p`, `m` and `v` given gradient `g`. */
  adamw(p: TensorRef<S>, g: TensorRef<S>, m: TensorRef<S>, v: TensorRef<S>, h: AdamWHyper): void;
  /** Waits until all queued work has finished (no-op on CPU). */
  sync(): Promise<void>;
  /** Backend-specific memory figures. */
  memory(): BackendMemory;
}
