import type { TensorRef } from '../backends/backend.js';
import { TensorError } from '../core/errors.js';
import { zerosLike } from '../ops/creation.js';
import { Tensor } from '../core/tensor.js';
import { keep } from '../core/tidy.js';

/** Options for {@link AdamW}; defaults are PyTorch's except `weightDecay` (PyTorch: 0.01). */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Moment decay rates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Denominator epsilon (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default 0.01, like `torch.optim.AdamW`). */
  weightDecay?: number;
}

/** Serializable optimiser state (moments are read back to the host). */
export interface AdamWState {
  step: number;
  lr: number;
  m: Float32Array[];
  v: Float32Array[];
}

function refOf(t: Tensor): TensorRef {
  return { storage: t._handle(), shape: t.shape, dtype: t.dtype };
}

/**
 * AdamW with PyTorch's exact update order (`torch.optim.AdamW`, single-tensor path):
 * decoupled decay `p ← p·(1 − lr·wd)` first, then the moments, then the bias-corrected step.
 * The update is one fused kernel per parameter and runs in place on the parameter's buffer.
 */
export class AdamW {
  /** Parameters being optimised. */
  readonly params: Tensor[];
  /** Current learning rate (schedulers write it before each step). */
  lr: number;
  /** Moment decay rates. */
  readonly betas: [number, number];
  /** Denominator epsilon. */
  readonly eps: number;
  /** Decoupled weight decay. */
  readonly weightDecay: number;
  /** Number of steps taken. */
  stepCount = 0;
  private m: Tensor[] = [];
  private v: Tensor[] = [];

  constructor(params: Tensor[], options: AdamWOptions = {}) {
    if (params.length === 0) throw new TensorError('ARGUMENT', 'AdamW needs at least one parameter');
    for (const p of params) {
      if (!p.requiresGrad) throw new TensorError('ARGUMENT', `AdamW parameter ${p.toString()} does not require grad`);
    }
    this.params = params;
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    if (this.m.length === 0) {
      this.m = this.params.map((p) => keep(zerosLike(p)));
      this.v = this.params.map((p) => keep(zerosLike(p)));
    }
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      p.backend.adamw(refOf(p), refOf(p.grad), refOf(this.m[i]!), refOf(this.v[i]!), {
        lr: this.lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: this.stepCount,
      });
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The optimiser state, for checkpoints. */
  async state(): Promise<AdamWState> {
    const read = async (ts: Tensor[]) => Promise.all(ts.map(async (t) => Float32Array.from(await t.data())));
    return { step: this.stepCount, lr: this.lr, m: await read(this.m), v: await read(this.v) };
  }

  /** Restores a state saved with {@link AdamW.state}. */
  loadState(s: AdamWState): void {
    if (s.m.length && s.m.length !== this.params.length) {
      throw new TensorError('ARGUMENT', `optimiser state has ${s.m.length} parameters, expected ${this.params.length}`);
    }
    this.dispose();
    this.stepCount = s.step;
    this.lr = s.lr;
    if (!s.m.length) return;
    this.m = this.params.map((p, i) => keep(upload(p, s.m[i]!)));
    this.v = this.params.map((p, i) => keep(upload(p, s.v[i]!)));
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
    this.m = [];
    this.v = [];
  }
}

function upload(like: Tensor, data: Float32Array): Tensor {
  if (data.length !== like.size) throw new TensorError('SHAPE', `optimiser state has ${data.length} values, parameter has ${like.size}`);
  const be = like.backend;
  const h = be.upload(like.dtype === 'float64' ? Float64Array.from(data) : data, like.dtype);
  return Tensor._fromHandle(be, h, like.shape, like.dtype);
}
