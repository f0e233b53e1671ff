/**
 * The RQ2 λ search (mission spec §8; TPV `eval_addition.py`): apply a (summed) task prompt vector to an
 * origin with each λ of a grid, score each candidate prompt on the validation sets, keep the best.
 *
 * The reference's selection rule is reproduced exactly: the running best starts at score 0 with λ = 1,
 * and a candidate replaces it only when its score is **strictly** greater. Consequences worth knowing:
 * the first λ reaching the maximum wins (smaller λ, since the grid ascends); if every score is 0 the
 * answer is λ = 1 with score 0 even though λ = 1 scored 0 too; and a grid whose best score is 0 never
 * moves away from λ = 1.
 *
 * @module
 */
import { VectorError } from './errors.js';
import type { PromptInput, TaskPromptVector } from './task-prompt-vector.js';

/**
 * The reference grid `np.arange(0, 1.05, 0.05)`: 21 values computed as `i·0.05`, which is exactly how
 * numpy fills an arange (so 0.15000000000000002, as in the reference's logs).
 */
export const LAMBDA_GRID: readonly number[] = Object.freeze(Array.from({ length: 21 }, (_, i) => i * 0.05));

/**
 * Scores one candidate prompt θ_origin + λτ: the mean validation exact match over the vector's tasks
 * (for a pair A + B, the mean of EM on A's and B's 1000-example validation sets).
 */
export type LambdaEvaluator = (prompt: Float32Array, lambda: number) => Promise<number> | number;

/** Options of {@link searchLambda}. */
export interface LambdaSearchOptions {
  /** λ values to try, in order (default {@link LAMBDA_GRID}). */
  readonly grid?: readonly number[];
  /** Passed to `applyTo` (apply to an origin of another shape of the same size). */
  readonly force?: boolean;
}

/** One row of the search table. */
export interface LambdaTrial {
  /** The λ tried. */
  readonly lambda: number;
  /** Its score. */
  readonly score: number;
}

/** Result of {@link searchLambda}. */
export interface LambdaSearchResult {
  /** The selected λ (1 when no score beat 0). */
  readonly lambda: number;
  /** The selected score (0 when no score beat 0). */
  readonly score: number;
  /** Every trial in grid order. */
  readonly table: readonly LambdaTrial[];
}

/**
 * Searches λ for `origin + λ·vector`, evaluating the grid in order (sequentially: evaluations are
 * model runs and must not interleave) and selecting with the reference's strict-`>` rule.
 *
 * @param vector - τ (usually a sum τ_A + τ_B).
 * @param origin - θ_origin.
 * @param evaluate - scores a candidate prompt; must return a finite number.
 * @param opts - the grid (default 0, 0.05, …, 1).
 * @throws {@link VectorError} `BAD_ARGUMENT` for an empty or non-finite grid, `BAD_SCORE` when the
 *   evaluator returns something that is not a finite number; errors of `applyTo`.
 */
export async function searchLambda(
  vector: TaskPromptVector,
  origin: PromptInput,
  evaluate: LambdaEvaluator,
  opts: LambdaSearchOptions = {},
): Promise<LambdaSearchResult> {
  const grid = opts.grid ?? LAMBDA_GRID;
  if (!Array.isArray(grid) || grid.length === 0) throw new VectorError('BAD_ARGUMENT', 'the λ grid must be a non-empty array');
  for (const l of grid) {
    if (typeof l !== 'number' || !Number.isFinite(l)) throw new VectorError('BAD_ARGUMENT', `λ grid values must be finite numbers, got ${String(l)}`);
  }
  let bestScore = 0;
  let bestLambda = 1;
  const table: LambdaTrial[] = [];
  for (const lambda of grid) {
    const prompt = vector.applyTo(origin, lambda, { force: opts.force });
    const score: unknown = await evaluate(prompt, lambda);
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new VectorError('BAD_SCORE', `the evaluator returned ${String(score)} for λ = ${lambda}; expected a finite number`, { lambda });
    }
    table.push(Object.freeze({ lambda, score }));
    if (score > bestScore) {
      bestScore = score;
      bestLambda = lambda;
    }
  }
  return Object.freeze({ lambda: bestLambda, score: bestScore, table: Object.freeze(table) });
}
