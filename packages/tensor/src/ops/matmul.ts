import { record } from '../core/autograd.js';
import { TensorError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { reduceOwned } from './elementwise.js';
import { backendOf, ref, wrap } from './util.js';

/** @internal batched matmul with optional transposed operands (last two dims), no autograd. */
export function matmulRaw(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const be = backendOf(a, b);
  const ar = a.rank;
  const br = b.rank;
  const M = transA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const Ka = transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const Kb = transB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const N = transB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (Ka !== Kb) {
    throw new TensorError('SHAPE', `matmul: inner dimensions differ: [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''} · [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''}`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...batch, M, N];
  const dt = a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
  return wrap(be, be.matmul(ref(a), ref(b), transA, transB, outShape), outShape, dt);
}

/**
 * Matrix product with PyTorch semantics: 1-D operands are promoted (and the added dim
 * removed), batch dims broadcast. Backward uses transposed kernels directly, so no transpose
 * is materialised.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new TensorError('SHAPE', 'matmul: both arguments need at least one dimension');
  const a2 = a.rank === 1 ? a._view([1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? b._view([b.shape[0]!, 1]) : b;
  const full = matmulRaw(a2, b2);
  let out = full;
  if (a.rank === 1 || b.rank === 1) {
    const shape = full.shape.slice(0, -2);
    if (a.rank !== 1) shape.push(full.shape[full.rank - 2]!);
    if (b.rank !== 1) shape.push(full.shape[full.rank - 1]!);
    out = full._view(shape);
    full.dispose();
  }
  if (a2 !== a) a2.dispose();
  if (b2 !== b) b2.dispose();
  return record(out, 'matmul', [a, b], (g) => {
    const av = a.rank === 1 ? a._view([1, a.shape[0]!]) : a;
    const bv = b.rank === 1 ? b._view([b.shape[0]!, 1]) : b;
    const gv = g._view(full.shape);
    // dA = dY·Bᵀ, dB = Aᵀ·dY, summed over broadcast batch dims.
    const ga = a.requiresGrad ? reduceOwned(matmulRaw(gv, bv, false, true), av.shape) : null;
    const gb = b.requiresGrad ? reduceOwned(matmulRaw(av, gv, true, false), bv.shape) : null;
    gv.dispose();
    if (av !== a) av.dispose();
    if (bv !== b) bv.dispose();
    const fa = ga && a.rank === 1 ? ga._view(a.shape) : ga;
    const fb = gb && b.rank === 1 ? gb._view(b.shape) : gb;
    if (fa !== ga) ga?.dispose();
    if (fb !== gb) gb?.dispose();
    return [fa, fb];
  });
}
