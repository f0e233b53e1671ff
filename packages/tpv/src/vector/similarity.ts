/**
 * The paper's RQ1b similarity protocol (mission spec §8, Figures 2, 3, 6–9): cosine similarities of
 * trained prompts or task prompt vectors of several tasks, each trained from the same set of origins,
 * averaged over origin pairs.
 *
 * Cell (task i, task j) is the mean over origin pairs (o1, o2) of cos(x_i^{o1}, x_j^{o2}). Which pairs
 * count differs between the figures in the reference code: prompts (Fig. 2) average the pairs with
 * o1 > o2 (45 for 10 origins) in every cell; vectors (Fig. 3) do the same on the diagonal but also
 * include o1 = o2 off the diagonal (55 pairs). Both are presets here; the rule is a parameter so the
 * paper's *stated* protocol ("all pairs, omitting the ones where the similarity is 1") can be run too.
 * Note that with the one-sided rules the matrix is not symmetric: cell (i, j) and cell (j, i) average
 * different pairs.
 *
 * @module
 */
import { VectorError } from './errors.js';
import { prepareForCosine, preparedCosine, type CompatOptions, type SimilarityItem } from './task-prompt-vector.js';

/**
 * Which origin pairs (o1 for the row task, o2 for the column task) a cell averages:
 * `lower` o1 > o2, `lower-and-diagonal` o1 ≥ o2, `distinct` o1 ≠ o2, `all` every pair.
 */
export type OriginPairRule = 'lower' | 'lower-and-diagonal' | 'distinct' | 'all';

/** Options of {@link groupSimilarityMatrix}. */
export interface GroupSimilarityOptions extends CompatOptions {
  /** Rule for the diagonal cells (a task against itself); default `lower`. */
  readonly sameTask?: OriginPairRule;
  /** Rule for the off-diagonal cells; default `lower`. */
  readonly crossTask?: OriginPairRule;
}

/** The reference's rules for trained prompts (Fig. 2): o1 > o2 everywhere. */
export const RQ1B_PROMPT_PROTOCOL: GroupSimilarityOptions = Object.freeze({ sameTask: 'lower', crossTask: 'lower' });

/** The reference's rules for task prompt vectors (Fig. 3): o1 > o2 on the diagonal, o1 ≥ o2 elsewhere. */
export const RQ1B_VECTOR_PROTOCOL: GroupSimilarityOptions = Object.freeze({ sameTask: 'lower', crossTask: 'lower-and-diagonal' });

/** Result of {@link groupSimilarityMatrix}. */
export interface GroupSimilarityResult {
  /** `values[i][j]`: mean cosine of task i (rows) against task j (columns); NaN when no pair counts. */
  readonly values: number[][];
  /** `pairs[i][j]`: how many origin pairs the cell averages. */
  readonly pairs: number[][];
  /** `std[i][j]`: population standard deviation over those pairs (NaN when none). */
  readonly std: number[][];
}

function included(rule: OriginPairRule, o1: number, o2: number): boolean {
  switch (rule) {
    case 'lower':
      return o1 > o2;
    case 'lower-and-diagonal':
      return o1 >= o2;
    case 'distinct':
      return o1 !== o2;
    case 'all':
      return true;
    default:
      throw new VectorError('BAD_ARGUMENT', `unknown origin-pair rule ${JSON.stringify(rule)}`);
  }
}

/**
 * Task-by-task similarity averaged over origin pairs (RQ1b).
 *
 * @param groups - `groups[i][o]` is task i's prompt or vector from origin o; every group lists the same
 *   origins in the same order.
 * @param opts - pair rules (see {@link RQ1B_PROMPT_PROTOCOL}, {@link RQ1B_VECTOR_PROTOCOL}) and `force`.
 * @throws {@link VectorError} `BAD_ARGUMENT` for ragged groups or an unknown rule; the errors of
 *   {@link cosineSimilarity} for incompatible items.
 */
export function groupSimilarityMatrix(groups: readonly (readonly SimilarityItem[])[], opts: GroupSimilarityOptions = {}): GroupSimilarityResult {
  const sameRule = opts.sameTask ?? 'lower';
  const crossRule = opts.crossTask ?? 'lower';
  included(sameRule, 0, 0);
  included(crossRule, 0, 0);
  const nTasks = groups.length;
  const nOrigins = groups[0]?.length ?? 0;
  for (const [i, g] of groups.entries()) {
    if (!Array.isArray(g) || g.length !== nOrigins) {
      throw new VectorError('BAD_ARGUMENT', `group ${i} has ${Array.isArray(g) ? g.length : 'no'} items, group 0 has ${nOrigins}: every task needs one item per origin`);
    }
  }
  const prepared = prepareForCosine(groups.flat(), opts);
  const values: number[][] = [];
  const pairs: number[][] = [];
  const std: number[][] = [];
  // Each cosine is computed once even when several cells need it (cos is symmetric).
  const cache = new Map<number, number>();
  const total = nTasks * nOrigins;
  const cos = (a: number, b: number): number => {
    const key = a < b ? a * total + b : b * total + a;
    let c = cache.get(key);
    if (c === undefined) {
      c = preparedCosine(prepared[a]!, prepared[b]!);
      cache.set(key, c);
    }
    return c;
  };
  for (let i = 0; i < nTasks; i++) {
    const rowV: number[] = [];
    const rowP: number[] = [];
    const rowS: number[] = [];
    for (let j = 0; j < nTasks; j++) {
      const rule = i === j ? sameRule : crossRule;
      let sum = 0;
      let sumSq = 0;
      let count = 0;
      for (let o1 = 0; o1 < nOrigins; o1++) {
        for (let o2 = 0; o2 < nOrigins; o2++) {
          if (!included(rule, o1, o2)) continue;
          const c = cos(i * nOrigins + o1, j * nOrigins + o2);
          sum += c;
          sumSq += c * c;
          count++;
        }
      }
      const mean = count > 0 ? sum / count : NaN;
      rowV.push(mean);
      rowP.push(count);
      rowS.push(count > 0 ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : NaN);
    }
    values.push(rowV);
    pairs.push(rowP);
    std.push(rowS);
  }
  return { values, pairs, std };
}

/**
 * The per-origin-pair matrix behind one cell (the small heatmaps of Appendix B, Figures 6–9):
 * `m[o1][o2]` = cos(a[o1], b[o2]).
 *
 * @param a - task A's items, one per origin.
 * @param b - task B's items, one per origin (may be `a` itself).
 * @param opts - `force` to compare different models or shapes of the same size.
 */
export function originPairMatrix(a: readonly SimilarityItem[], b: readonly SimilarityItem[], opts: CompatOptions = {}): number[][] {
  const prepared = prepareForCosine([...a, ...b], opts);
  const pa = prepared.slice(0, a.length);
  const pb = prepared.slice(a.length);
  return pa.map((x) => pb.map((y) => preparedCosine(x, y)));
}
