/**
 * Merging several task prompt vectors into one, beyond the paper's plain sum (eq. 4/7):
 *
 * - `sum`: Σ τ_i, the paper's combination.
 * - `mean`: Σ τ_i / n (the reference averages this way in `create_and_save_combinations.py`).
 * - `ties`: TIES-merging (Yadav et al., 2023): trim each vector to its top-`density` fraction of
 *   entries by magnitude, elect a sign per entry as the sign of the sum of the trimmed values, and take
 *   the mean of the entries that agree with the elected sign ("disjoint mean").
 * - `dare`: DARE (Yu et al., 2024): drop each entry with probability p = 1 − `density`, rescale the kept
 *   ones by 1/(1 − p), and sum.
 *
 * The TIES and DARE details follow Hugging Face PEFT's `utils/merge_utils.py` (`magnitude_based_pruning`,
 * `calculate_majority_sign_mask(method="total")`, `disjoint_merge`, `random_pruning(rescale=True)`), so
 * results are comparable with PEFT's adapter merging: exactly ⌊density·n⌋ entries survive trimming, a
 * zero sign sum elects +, zero entries never count as agreeing, and optional `weights` multiply the
 * trimmed vectors after the sign election. Ties in magnitude are broken by lower index (PyTorch's
 * `topk` leaves this unspecified). DARE's randomness comes from `@tpvjs/tensor`'s seeded `Generator`, one
 * `uniforms(n)` stream per input vector in input order, so a seed reproduces a merge exactly.
 *
 * All arithmetic is double-double like the vectors themselves. The result's task multiset is the sum
 * of the inputs' multisets; its provenance records the method and every parameter.
 *
 * @module
 */
import { Generator } from '@tpvjs/tensor';
import { ddAddInto, ddDivInto, ddMulInto, pair } from './double-double.js';
import { VectorError } from './errors.js';
import { freshProvenance } from './provenance.js';
import { sumTasks } from './task-set.js';
import { TaskPromptVector, vectorData, type CompatOptions } from './task-prompt-vector.js';

/** The merge methods. */
export type MergeMethod = 'sum' | 'mean' | 'ties' | 'dare';

/** The merge methods, for CLI validation and help text. */
export const MERGE_METHODS: readonly MergeMethod[] = Object.freeze(['sum', 'mean', 'ties', 'dare']);

/** Options of {@link mergeVectors}. */
export interface MergeOptions extends CompatOptions {
  /** How to merge (default `sum`). */
  readonly method?: MergeMethod;
  /**
   * Fraction of entries kept, in (0, 1]: the top fraction by magnitude for `ties` (default 0.2, the
   * TIES paper's k = 20%), the keep probability 1 − p for `dare` (default 0.1, the DARE paper's p = 0.9).
   */
  readonly density?: number;
  /** Seed of DARE's generator (default 0). */
  readonly seed?: number;
  /** Factor applied to the merged vector (default 1), as in TIES' λ. */
  readonly lambda?: number;
  /** Per-vector weights (default all 1), as in PEFT's `add_weighted_adapter`. */
  readonly weights?: readonly number[];
}

/** Default densities per method (see {@link MergeOptions.density}). */
export const DEFAULT_DENSITY: Readonly<Record<'ties' | 'dare', number>> = Object.freeze({ ties: 0.2, dare: 0.1 });

function checkUnit(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > 1) {
    throw new VectorError('BAD_ARGUMENT', `${what} must be a number in (0, 1], got ${String(x)}`);
  }
  return x;
}

function checkFinite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new VectorError('BAD_ARGUMENT', `${what} must be a finite number, got ${String(x)}`);
  return x;
}

/**
 * Indices of the k entries of largest magnitude (ties broken by lower index), as a 0/1 mask.
 *
 * @param values - the entries (high halves suffice: the low half never changes an ordering of magnitudes
 *   except between entries whose high halves are equal, and those are ordered by index anyway).
 * @param k - how many to keep.
 */
export function topKMask(values: ArrayLike<number>, k: number): Uint8Array {
  const n = values.length;
  const mask = new Uint8Array(n);
  if (k <= 0) return mask;
  if (k >= n) return mask.fill(1);
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b);
  for (let i = 0; i < k; i++) mask[idx[i]!] = 1;
  return mask;
}

/**
 * Merges task prompt vectors (see the module documentation for the methods).
 *
 * @param vectors - at least one vector; all of one model and shape unless `force`.
 * @param opts - method, density, seed, λ, weights, force.
 * @returns a new vector; tasks = sum of the inputs' tasks; provenance = method and parameters.
 * @throws {@link VectorError} `EMPTY` for no vectors, `BAD_ARGUMENT` for bad options,
 *   `SHAPE_MISMATCH`/`MODEL_MISMATCH` for incompatible vectors, `NON_FINITE` on overflow.
 */
export function mergeVectors(vectors: readonly TaskPromptVector[], opts: MergeOptions = {}): TaskPromptVector {
  if (!Array.isArray(vectors) || vectors.length === 0) throw new VectorError('EMPTY', 'mergeVectors needs at least one vector');
  const method = opts.method ?? 'sum';
  if (!MERGE_METHODS.includes(method)) {
    throw new VectorError('BAD_ARGUMENT', `unknown merge method ${JSON.stringify(method)} (expected one of ${MERGE_METHODS.join(', ')})`);
  }
  const lambda = checkFinite(opts.lambda ?? 1, 'lambda');
  const weights = opts.weights !== undefined ? [...opts.weights] : vectors.map(() => 1);
  if (weights.length !== vectors.length) throw new VectorError('BAD_ARGUMENT', `${weights.length} weights for ${vectors.length} vectors`);
  weights.forEach((w, i) => checkFinite(w, `weights[${i}]`));
  if ((method === 'sum' || method === 'mean') && (opts.density !== undefined || opts.seed !== undefined)) {
    throw new VectorError('BAD_ARGUMENT', `density and seed apply to ties and dare, not to ${method}`);
  }
  // Compatibility (shape, model) is checked once by the plain sum, which every method can afford.
  const plain = TaskPromptVector.sum(vectors, { force: opts.force });
  const first = vectors[0]!;
  const n = first.size;
  const params: Record<string, unknown> = { method, lambda, count: vectors.length };
  if (opts.weights !== undefined) params.weights = weights;
  const inputs = vectors.map((v) => v.taskString);

  let hi: Float64Array;
  let lo: Float64Array;
  const s = pair();
  if (method === 'sum' || method === 'mean') {
    if (weights.every((w) => w === 1)) {
      ({ hi, lo } = plain.exactParts());
    } else {
      ({ hi, lo } = weightedSum(vectors.map((v) => vectorData(v)), weights, n));
    }
    if (method === 'mean') {
      for (let i = 0; i < n; i++) {
        ddDivInto(s, hi[i]!, lo[i]!, vectors.length);
        hi[i] = s[0]!;
        lo[i] = s[1]!;
      }
    }
  } else if (method === 'ties') {
    const density = checkUnit(opts.density ?? DEFAULT_DENSITY.ties, 'density');
    params.density = density;
    ({ hi, lo } = ties(vectors.map((v) => vectorData(v)), weights, density, n));
  } else {
    const density = checkUnit(opts.density ?? DEFAULT_DENSITY.dare, 'density');
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new VectorError('BAD_ARGUMENT', `seed must be a non-negative safe integer, got ${String(seed)}`);
    params.density = density;
    params.seed = seed;
    ({ hi, lo } = dare(vectors.map((v) => vectorData(v)), weights, density, seed, n));
  }
  if (lambda !== 1) {
    for (let i = 0; i < n; i++) {
      ddMulInto(s, hi[i]!, lo[i]!, lambda);
      hi[i] = s[0]!;
      lo[i] = s[1]!;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(hi[i]!)) throw new VectorError('NON_FINITE', `merge overflows at element ${i}`, { index: i });
  }
  return TaskPromptVector.fromParts({
    hi,
    lo,
    shape: first.shape,
    tasks: sumTasks(vectors.map((v) => v.tasks)),
    modelId: first.modelId,
    originId: plain.originId,
    provenance: freshProvenance({ op: 'merge', ...params, inputs }),
  });
}

type Parts = { hi: Float64Array; lo: Float64Array };

function weightedSum(parts: readonly Parts[], weights: readonly number[], n: number): Parts {
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  const s = pair();
  for (const [k, p] of parts.entries()) {
    const w = weights[k]!;
    for (let i = 0; i < n; i++) {
      ddMulInto(s, p.hi[i]!, p.lo[i]!, w);
      const th = s[0]!;
      const tl = s[1]!;
      ddAddInto(s, hi[i]!, lo[i]!, th, tl);
      hi[i] = s[0]!;
      lo[i] = s[1]!;
    }
  }
  return { hi, lo };
}

function ties(parts: readonly Parts[], weights: readonly number[], density: number, n: number): Parts {
  // PEFT: k = int(density * numel).
  const k = Math.floor(density * n);
  const masks = parts.map((p) => topKMask(p.hi, k));
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  const s = pair();
  for (let i = 0; i < n; i++) {
    // Elect the sign of the sum of the trimmed (unweighted) entries; a zero sum elects +.
    let sh = 0;
    let sl = 0;
    for (let v = 0; v < parts.length; v++) {
      if (masks[v]![i] === 0) continue;
      ddAddInto(s, sh, sl, parts[v]!.hi[i]!, parts[v]!.lo[i]!);
      sh = s[0]!;
      sl = s[1]!;
    }
    const elected = sh >= 0 ? 1 : -1;
    // Disjoint mean of the weighted entries that agree with the elected sign (zeros never agree).
    let mh = 0;
    let ml = 0;
    let count = 0;
    for (let v = 0; v < parts.length; v++) {
      if (masks[v]![i] === 0) continue;
      const x = parts[v]!.hi[i]!;
      if (x === 0 || Math.sign(x) !== elected) continue;
      ddMulInto(s, x, parts[v]!.lo[i]!, weights[v]!);
      const th = s[0]!;
      const tl = s[1]!;
      ddAddInto(s, mh, ml, th, tl);
      mh = s[0]!;
      ml = s[1]!;
      count++;
    }
    if (count > 1) {
      ddDivInto(s, mh, ml, count);
      mh = s[0]!;
      ml = s[1]!;
    }
    hi[i] = mh;
    lo[i] = ml;
  }
  return { hi, lo };
}

function dare(parts: readonly Parts[], weights: readonly number[], density: number, seed: number, n: number): Parts {
  const gen = new Generator(seed);
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  const s = pair();
  for (const [v, p] of parts.entries()) {
    const u = gen.uniforms(n);
    const w = weights[v]!;
    for (let i = 0; i < n; i++) {
      if (!(u[i]! < density)) continue; // dropped with probability 1 − density
      ddDivInto(s, p.hi[i]!, p.lo[i]!, density);
      let th = s[0]!;
      let tl = s[1]!;
      if (w !== 1) {
        ddMulInto(s, th, tl, w);
        th = s[0]!;
        tl = s[1]!;
      }
      ddAddInto(s, hi[i]!, lo[i]!, th, tl);
      hi[i] = s[0]!;
      lo[i] = s[1]!;
    }
  }
  return { hi, lo };
}
