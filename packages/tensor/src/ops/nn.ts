import { record } from '../core/autograd.js';
import { isFloat } from '../core/dtype.js';
import { TensorError } from '../core/errors.js';
import { normDim, sizeOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { type Generator, defaultGenerator } from '../random/generator.js';
import { add, binaryRaw, mul, rsqrt, scalarOp, sub, sumToShape, whereRaw } from './elementwise.js';
import { matmul, matmulRaw } from './matmul.js';
import { mean, sum, sumRaw } from './reduce.js';
import { reshape, transpose } from './shape.js';
import { ref, scalarLike, wrap } from './util.js';

function lastDimSoftmax(x: Tensor, log: boolean, bias?: Tensor): Tensor {
  const be = x.backend;
  const y = wrap(be, be.softmax(ref(x), log, bias ? ref(bias) : undefined), x.shape, x.dtype);
  return record(y, log ? 'logSoftmax' : 'softmax', bias ? [x, bias] : [x], (g) => {
    let r: Tensor;
    if (log) {
      // dz = g − softmax(z)·Σg
      const sg = sumRaw(g, [g.rank - 1]);
      const p = wrap(be, be.unary('exp', ref(y), y.dtype), y.shape, y.dtype);
      const t = binaryRaw('mul', p, sg);
      p.dispose();
      sg.dispose();
      r = binaryRaw('sub', g, t);
      t.dispose();
    } else {
      // dz = y·(g − Σ g·y)
      const gy = binaryRaw('mul', g, y);
      const s = sumRaw(gy, [g.rank - 1]);
      gy.dispose();
      const d = binaryRaw('sub', g, s);
      s.dispose();
      r = binaryRaw('mul', y, d);
      d.dispose();
    }
    if (!bias) return [r];
    // z = x + bias: dx = dz, dbias = dz summed over the axes the bias was broadcast along.
    const gb = bias.requiresGrad ? sumToShape(r, bias.shape) : null;
    if (!x.requiresGrad && gb !== r) r.dispose();
    return [x.requiresGrad ? r : null, gb];
  });
}

/** Whether `bias` can be fused into a last-axis softmax of `x` (else it is added first). */
function fusableBias(x: Tensor, bias: Tensor): boolean {
  if (x.rank === 0 || bias.rank > x.rank || bias.dtype !== x.dtype || !isFloat(x.dtype) || bias.backend !== x.backend) return false;
  const lead = x.rank - bias.rank;
  return bias.shape.every((d, i) => d === 1 || d === x.shape[lead + i]);
}

function alongDim(x: Tensor, dim: number, f: (t: Tensor) => Tensor): Tensor {
  if (x.rank === 0) return f(x);
  const d = normDim(dim, x.rank);
  if (d === x.rank - 1) return f(x);
  const t = transpose(x, d, -1);
  const y = f(t);
  const r = transpose(y, d, -1);
  if (!r.requiresGrad) {
    t.dispose();
    y.dispose();
  }
  return r;
}

/** Options for {@link softmax} and {@link logSoftmax}. */
export interface SoftmaxOptions {
  /**
   * Added to `x` before the softmax, broadcasting to `x`'s shape (e.g. attention's position
   * bias plus mask `[1 or B, H, Lq, Lk]` on scores `[B, H, Lq, Lk]`). Along the last dim the sum
   * is fused into the softmax kernel and never materialised; its gradient is the softmax
   * gradient summed to `bias`'s shape.
   */
  bias?: Tensor;
}

/**
 * Softmax along `dim` (computed with the max subtracted, so large logits are safe); with
 * `options.bias`, `softmax(x + bias, dim)` in one fused kernel.
 */
export function softmax(x: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  return softmaxWith(x, dim, false, options.bias);
}

/** Log-softmax along `dim`; with `options.bias`, `logSoftmax(x + bias, dim)` fused. */
export function logSoftmax(x: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  return softmaxWith(x, dim, true, options.bias);
}

function softmaxWith(x: Tensor, dim: number, log: boolean, bias: Tensor | undefined): Tensor {
  if (bias) {
    if (x.rank > 0 && normDim(dim, x.rank) === x.rank - 1 && fusableBias(x, bias)) return lastDimSoftmax(x, log, bias);
    // Other dims, promoting dtypes, or a bias that enlarges x: the unfused composition.
    const z = add(x, bias);
    const y = alongDim(z, dim, (t) => lastDimSoftmax(t, log));
    if (!y.requiresGrad) z.dispose();
    return y;
  }
  return alongDim(x, dim, (t) => lastDimSoftmax(t, log));
}

/** Options for {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Targets equal to this are skipped and excluded from the mean (PyTorch default −100). */
  ignoreIndex?: number;
  /** `mean` over non-ignored targets (default), `sum`, or per-row `none`. */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of `logits` [..., C] against integer `targets` [...], PyTorch's
 * `F.cross_entropy`: with `reduction: 'mean'` one mean over all non-ignored targets of the
 * batch (not a mean of per-sequence means), and NaN when every target is ignored.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  const C = logits.shape[logits.rank - 1]!;
  if (logits.rank < 1 || targets.size * C !== logits.size) {
    throw new TensorError('SHAPE', `crossEntropy: logits [${logits.shape.join(', ')}] do not match targets [${targets.shape.join(', ')}]`);
  }
  if (targets.dtype !== 'int32') throw new TensorError('DTYPE', `crossEntropy: targets must be int32, got ${targets.dtype}`);
  const N = targets.size;
  const be = logits.backend;
  const l2 = logits._view([N, C]);
  const t1 = targets._view([N]);
  const rows = wrap(be, be.crossEntropy(ref(l2), ref(t1), ignoreIndex), [N], logits.dtype);
  const valid = binaryRaw('ne', t1, scalarIdx(ignoreIndex, t1), 'float32');
  let out: Tensor;
  let scale: Tensor | null = null;
  if (reduction === 'none') {
    out = rows._view(targets.shape);
    rows.dispose();
  } else {
    const total = sumRaw(rows, [0]);
    rows.dispose();
    if (reduction === 'mean') {
      const cnt = sumRaw(valid, [0]);
      const cntc = cnt.dtype === logits.dtype ? cnt : wrap(be, be.cast(ref(cnt), logits.dtype), cnt.shape, logits.dtype);
      if (cntc !== cnt) cnt.dispose();
      const m = binaryRaw('div', total, cntc);
      total.dispose();
      out = m._view([]);
      m.dispose();
      scale = cntc;
    } else {
      out = total._view([]);
      total.dispose();
    }
  }
  valid.dispose();
  const res = record(out, 'crossEntropy', [logits], (g) => {
    const d = wrap(be, be.crossEntropyGrad(ref(l2), ref(t1), ignoreIndex), [N, C], logits.dtype);
    let gr: Tensor;
    if (reduction === 'none') {
      const gcol = g._view([N, 1]);
      gr = binaryRaw('mul', d, gcol);
      gcol.dispose();
    } else {
      const gs = scale ? binaryRaw('div', g, scale) : g;
      gr = binaryRaw('mul', d, gs._view([]));
      if (gs !== g) gs.dispose();
    }
    d.dispose();
    const r = gr._view(logits.shape);
    gr.dispose();
    return [r];
  });
  if (!res.requiresGrad) {
    l2.dispose();
    t1.dispose();
    scale?.dispose();
  }
  return res;
}

function scalarIdx(v: number, like: Tensor): Tensor {
  return scalarLike(v, like, 'int32');
}

/**
 * Looks up rows of `weight` [V, D] for integer `ids` of any shape → [...ids.shape, D]. The
 * gradient is a scatter-add, so repeated ids accumulate.
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2) throw new TensorError('SHAPE', `embedding weight must be 2-D, got [${weight.shape.join(', ')}]`);
  if (ids.dtype !== 'int32') throw new TensorError('DTYPE', `embedding ids must be int32, got ${ids.dtype}`);
  const be = weight.backend;
  const [V, D] = weight.shape as [number, number];
  const out = wrap(be, be.gather(ref(weight), ref(ids)), [...ids.shape, D], weight.dtype);
  return record(out, 'embedding', [weight], (g) => {
    const g2 = g._view([ids.size, D]);
    const idv = ids._view([ids.size]);
    const r = wrap(be, be.scatterAddRows(ref(idv), ref(g2), V), [V, D], g.dtype);
    g2.dispose();
    idv.dispose();
    return [r];
  });
}

/**
 * `x·weightᵀ (+ bias)` for weight [out, in] (PyTorch `nn.Linear` layout), with no transpose
 * materialised in forward or backward.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inF = weight.shape[1]!;
  const outF = weight.shape[0]!;
  if (x.shape[x.rank - 1] !== inF) {
    throw new TensorError('SHAPE', `linear: input [${x.shape.join(', ')}] does not match weight [${weight.shape.join(', ')}]`);
  }
  const lead = x.shape.slice(0, -1);
  const n = sizeOf(lead);
  const x2 = x._view([n, inF]);
  const y2 = matmulRaw(x2, weight, false, true);
  const y = y2._view([...lead, outF]);
  y2.dispose();
  const out = record(y, 'linear', [x, weight], (g) => {
    const g2 = g._view([n, outF]);
    const gx = x.requiresGrad ? matmulRaw(g2, weight, false, false) : null;
    const gxv = gx ? gx._view(x.shape) : null;
    gx?.dispose();
    const gw = weight.requiresGrad ? matmulRaw(g2, x2, true, false) : null;
    g2.dispose();
    return [gxv, gw];
  });
  if (!out.requiresGrad) x2.dispose();
  return bias ? add(out, bias) : out;
}

/**
 * T5's layer norm (RMSNorm, HF `T5LayerNorm`): `weight · (x · rsqrt(mean(x², −1) + eps))`, no
 * mean subtraction and no bias; the mean of squares is taken in float32 or wider (float64 on
 * the CPU). With `weight` [D] matching `x`'s last dim this is one fused kernel forward (saving
 * the per-row rsqrt) and one backward giving `dx = r·(w·g) − x·r³·mean((w·g)·x)` and, when the
 * weight requires grad, `dw = Σ_rows g·x·r`; other weight shapes use the unfused composition.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const D = x.shape[x.rank - 1];
  if (x.rank === 0 || !isFloat(x.dtype) || weight.dtype !== x.dtype || weight.rank !== 1 || weight.shape[0] !== D || weight.backend !== x.backend) {
    return rmsNormComposed(x, weight, eps);
  }
  const be = x.backend;
  const rows = D === 0 ? 0 : x.size / D!;
  const k = be.rmsNorm(ref(x), ref(weight), eps);
  const y = wrap(be, k.y, x.shape, x.dtype);
  const r = wrap(be, k.r, [rows], x.dtype);
  const out = record(y, 'rmsNorm', [x, weight], (g) => {
    const d = be.rmsNormGrad(ref(x), ref(weight), ref(r), ref(g), weight.requiresGrad);
    const dx = wrap(be, d.dx, x.shape, x.dtype);
    const dw = d.dw === null ? null : wrap(be, d.dw, weight.shape, weight.dtype);
    if (!x.requiresGrad) dx.dispose();
    return [x.requiresGrad ? dx : null, dw];
  });
  if (!out.requiresGrad) r.dispose();
  return out;
}

/** The unfused RMSNorm (any weight broadcastable to `x`); the reference the fused op is tested against. */
export function rmsNormComposed(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const v = mean(mul(x, x), -1, true);
  const r = rsqrt(add(v, eps));
  return mul(weight, mul(x, r));
}

/** Layer normalisation over the last dim with biased variance, like `F.layer_norm`. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const mu = mean(x, -1, true);
  const xc = sub(x, mu);
  const v = mean(mul(xc, xc), -1, true);
  let y = mul(xc, rsqrt(add(v, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Options for {@link dropout}. */
export interface DropoutOptions {
  /** Dropout is applied only in training mode; otherwise `x` is returned unchanged. */
  training: boolean;
  /** Random stream (default: the global generator). */
  generator?: Generator;
}

/** Zeroes each element with probability `p` and scales survivors by 1/(1−p), in training. */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (!(p >= 0 && p <= 1)) throw new TensorError('ARGUMENT', `dropout probability must be in [0, 1], got ${p}`);
  if (!options.training || p === 0) return x;
  if (!isFloat(x.dtype)) throw new TensorError('DTYPE', 'dropout needs a float tensor');
  const be = x.backend;
  const gen = options.generator ?? defaultGenerator();
  const u = wrap(be, be.random('uniform', x.size, x.dtype, gen.next()), x.shape, x.dtype);
  const thr = scalarLike(1 - p, u);
  const keepMask = binaryRaw('lt', u, thr, 'bool');
  thr.dispose();
  u.dispose();
  const zero = scalarLike(0, x);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const xs = scalarOp('mul', x, scale);
  const out = whereRaw(keepMask, xs, zero);
  xs.dispose();
  zero.dispose();
  const res = record(out, 'dropout', [x], (g) => {
    const z = scalarLike(0, g);
    const gs = scalarOp('mul', g, scale);
    const r = whereRaw(keepMask, gs, z);
    gs.dispose();
    z.dispose();
    return [r];
  });
  if (!res.requiresGrad) keepMask.dispose();
  return res;
}

void sum;
void matmul;
