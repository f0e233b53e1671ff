import { TensorError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { keep, noGrad, tidy } from '../core/tidy.js';
import { add, mul, sqrt, div, minimum, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { scalarLike } from '../ops/util.js';

/**
 * Scales gradients in place so their global L2 norm is at most `maxNorm`, like
 * `torch.nn.utils.clip_grad_norm_` (coefficient `maxNorm / (norm + 1e-6)`, clamped to 1).
 * Runs on the device without a read-back; returns the total norm before clipping as a scalar
 * tensor (the caller owns it).
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new TensorError('ARGUMENT', `maxNorm must be positive, got ${maxNorm}`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) throw new TensorError('ARGUMENT', 'clipGradNorm: no parameter has a gradient');
  return noGrad(() => {
    const norm = tidy(() => {
      let total: Tensor | null = null;
      for (const g of grads) {
        const s = sum(square(g));
        total = total ? add(total, s) : s;
      }
      return sqrt(total!);
    });
    tidy(() => {
      const one = scalarLike(1, norm);
      const coef = minimum(div(scalarLike(maxNorm, norm), add(norm, 1e-6)), one);
      for (const p of params) {
        if (!p.grad) continue;
        const scaled = keep(mul(p.grad, coef));
        p.grad.dispose();
        p.grad = scaled;
      }
    });
    return norm;
  });
}
