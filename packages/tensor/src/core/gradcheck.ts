import { TensorError } from './errors.js';
import { Tensor } from './tensor.js';
import { noGrad, tidy } from './tidy.js';
import { tensor } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';

/** An input to {@link gradCheck}: float64 values and a shape. */
export interface GradCheckInput {
  /** Values (row-major). */
  data: ArrayLike<number>;
  /** Shape. */
  shape: readonly number[];
  /** Whether to check the gradient of this input (default true). */
  check?: boolean;
}

/** Result of {@link gradCheck}: worst discrepancy between autograd and finite differences. */
export interface GradCheckResult {
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsError: number;
  /** Largest error relative to `atol + rtol·|numeric|` (≤ 1 means pass). */
  maxScaledError: number;
  /** Whether every element is within tolerance. */
  ok: boolean;
  /** Where the worst element is, for messages. */
  worst: string;
}

/**
 * Compares autograd gradients of `sum(f(inputs) · w)` (w a fixed random weight, so every output
 * element matters) with central finite differences in float64 on the CPU backend.
 */
export function gradCheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: GradCheckInput[],
  options: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-5;
  let seed = options.seed ?? 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  return tidy(() => {
    const xs = inputs.map((i) => tensor(Float64Array.from(i.data), { shape: i.shape, dtype: 'float64', requiresGrad: i.check !== false }));
    const out = f(...xs);
    if (out.dtype !== 'float64') throw new TensorError('DTYPE', `gradCheck: f must return float64, got ${out.dtype}`);
    const w = tensor(Float64Array.from({ length: out.size }, rnd), { shape: out.shape, dtype: 'float64' });
    sum(mul(out, w)).backward();
    const wData = w.dataSync();
    const loss = (vals: Float64Array[]): number =>
      noGrad(() =>
        tidy(() => {
          const ts = vals.map((v, k) => tensor(v, { shape: inputs[k]!.shape, dtype: 'float64' }));
          const o = f(...ts).dataSync();
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i]! * wData[i]!;
          return s;
        }),
      );
    const base = inputs.map((i) => Float64Array.from(i.data));
    let maxAbsError = 0;
    let maxScaledError = 0;
    let worst = '';
    inputs.forEach((inp, k) => {
      if (inp.check === false) return;
      const g = xs[k]!.grad;
      const analytic = g ? g.dataSync() : new Float64Array(base[k]!.length);
      for (let i = 0; i < base[k]!.length; i++) {
        const orig = base[k]![i]!;
        base[k]![i] = orig + eps;
        const lp = loss(base);
        base[k]![i] = orig - eps;
        const lm = loss(base);
        base[k]![i] = orig;
        const numeric = (lp - lm) / (2 * eps);
        const err = Math.abs(analytic[i]! - numeric);
        const scaled = err / (atol + rtol * Math.abs(numeric));
        if (err > maxAbsError) maxAbsError = err;
        if (scaled > maxScaledError) {
          maxScaledError = scaled;
          worst = `input ${k} element ${i}: analytic ${analytic[i]}, numeric ${numeric}`;
        }
      }
    });
    for (const x of xs) x.zeroGrad();
    return { maxAbsError, maxScaledError, ok: maxScaledError <= 1, worst };
  });
}

void Tensor;
