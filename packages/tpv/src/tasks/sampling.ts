/**
 * Splits and sampling, following TPV `AbstractTask.get` / `get_splits` /
 * `subsample` (mission spec §5) on top of a bit-exact port of Hugging Face
 * `datasets`' `Dataset.shuffle(seed)` and
 * `Dataset.train_test_split(seed, stratify_by_column)`.
 *
 * Why bit-exact: every split of the paper uses seed 42, so with the same
 * source rows in the same order this module selects the *same* examples the
 * reference trained and evaluated on (the same few-shot examples for every
 * origin, the same 1000 held-out validation rows, ...). `datasets` uses
 * `np.random.default_rng(seed)` (PCG64), ported in `numpy-random.ts`.
 *
 * The stratified algorithm (`datasets/utils/stratify.py`, after sklearn's
 * `StratifiedShuffleSplit`):
 * 1. classes = sorted unique labels; every class needs >= 2 rows; n_train and
 *    n_test must each be >= #classes;
 * 2. per-class train counts = `approximate_mode(counts, n_train)`: floor of
 *    n·p_c, leftovers to the largest remainders with random tie-breaks; test
 *    counts the same over the remaining rows (drawn even if unused, because it
 *    advances the generator);
 * 3. per class (in class order) permute its rows, take the first n_c for
 *    train and the next t_c for test;
 * 4. permute the train list, then the test list.
 */

import { TaskError } from './errors.js';
import { labelId, type RawRow } from './format.js';
import { NumpyGenerator } from './numpy-random.js';
import { resolveTask, type LogicalSplit, type TaskSpec } from './registry.js';

/** The seed every TPV split uses (`AbstractTask(seed=42)`). */
export const DEFAULT_SEED = 42;

/**
 * A split size, HF-style: a fraction in (0, 1) (Python float) or an absolute
 * count (Python int). Explicit because JS numbers cannot tell `1` from `1.0`,
 * and HF treats them differently.
 */
export type SplitSize = { readonly fraction: number } | { readonly count: number };

/** Options of {@link trainTestSplitIndices}. */
export interface TrainTestSplitOptions {
  /** Size of the "train" side; default: the complement of `testSize`. */
  readonly trainSize?: SplitSize;
  /** Size of the "test" side; default: the complement of `trainSize` (0.25 if both absent). */
  readonly testSize?: SplitSize;
  /** Generator seed (default 42). */
  readonly seed?: number;
  /** Class id per row; enables the stratified algorithm. */
  readonly stratify?: readonly number[];
}

/** Index lists of the two sides of a split, in the order HF returns rows. */
export interface SplitIndices {
  /** Row indices of the "train" side. */
  readonly train: number[];
  /** Row indices of the "test" side. */
  readonly test: number[];
}

function splitError(message: string, details: Record<string, unknown> = {}): TaskError {
  return new TaskError('SPLIT_ERROR', message, details);
}

/**
 * sklearn/HF `approximate_mode`: per-class draw counts for `nDraws` draws
 * from a population with `classCounts`, never off the expectation by one or
 * more. Ties between equal remainders are broken with `rng.choice`.
 *
 * @param classCounts - population per class.
 * @param nDraws - total number of draws.
 * @param rng - the generator (advanced exactly like numpy's).
 */
export function approximateMode(classCounts: readonly number[], nDraws: number, rng: NumpyGenerator): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  // Same IEEE operations as numpy: (n_draws * class_counts) is an exact int64
  // product, then true division by the sum.
  const continuous = classCounts.map((c) => (nDraws * c) / total);
  const floored = continuous.map((x) => Math.floor(x));
  let needToAdd = nDraws - floored.reduce((a, b) => a + b, 0);
  if (needToAdd > 0) {
    const remainder = continuous.map((x, i) => x - floored[i]!);
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds: number[] = [];
      remainder.forEach((r, i) => {
        if (r === value) inds.push(i);
      });
      const addNow = Math.min(inds.length, needToAdd);
      const picked = rng.choiceWithoutReplacement(inds.length, addNow).map((k) => inds[k]!);
      for (const i of picked) floored[i]! += 1;
      needToAdd -= addNow;
      if (needToAdd === 0) break;
    }
  }
  return floored;
}

/**
 * HF `stratified_shuffle_split_generate_indices` (first split only).
 *
 * @param labels - class id per row.
 * @param nTrain - rows on the train side.
 * @param nTest - rows on the test side.
 * @param rng - the generator.
 * @throws {@link TaskError} `SPLIT_ERROR` exactly where HF raises.
 */
export function stratifiedShuffleSplit(
  labels: readonly number[],
  nTrain: number,
  nTest: number,
  rng: NumpyGenerator,
): SplitIndices {
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const classPos = new Map(classes.map((c, i) => [c, i]));
  const classIndices: number[][] = classes.map(() => []);
  // np.argsort(kind="mergesort") is stable: each class keeps file order.
  labels.forEach((y, i) => classIndices[classPos.get(y)!]!.push(i));
  const classCounts = classIndices.map((c) => c.length);
  if (classCounts.length === 0 || Math.min(...classCounts) < 2) {
    throw splitError(
      'The least populated class in the stratify column has only 1 member, which is too few. The minimum number of groups for any class cannot be less than 2.',
      { classCounts },
    );
  }
  if (nTrain < classes.length) {
    throw splitError(`The train_size = ${nTrain} should be greater or equal to the number of classes = ${classes.length}`, {
      nTrain,
      nClasses: classes.length,
    });
  }
  if (nTest < classes.length) {
    throw splitError(`The test_size = ${nTest} should be greater or equal to the number of classes = ${classes.length}`, {
      nTest,
      nClasses: classes.length,
    });
  }
  const nI = approximateMode(classCounts, nTrain, rng);
  const remaining = classCounts.map((c, i) => c - nI[i]!);
  const tI = approximateMode(remaining, nTest, rng);
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < classes.length; i++) {
    const perm = rng.permutation(classCounts[i]!);
    const members = classIndices[i]!;
    // Plain loops: spreading a 100k+ element array into push() overflows the stack.
    for (let k = 0; k < nI[i]!; k++) train.push(members[perm[k]!]!);
    for (let k = nI[i]!; k < nI[i]! + tI[i]!; k++) test.push(members[perm[k]!]!);
  }
  return { train: rng.permuted(train), test: rng.permuted(test) };
}

/**
 * The size arithmetic and validation of HF `Dataset.train_test_split`
 * (float sizes: `n_test = ceil(f·N)`, `n_train = floor(f·N)`; the missing
 * side is the complement), then the stratified or plain random partition.
 *
 * Faithful to its rough edges: `floor(1000/N·N)` can be 999, and
 * `ceil((1 − 1000/N)·N)` can overshoot so that HF raises (e.g. N = 3000).
 *
 * @param n - number of rows.
 * @param options - sizes, seed and optional class ids.
 * @throws {@link TaskError} `SPLIT_ERROR` wherever HF raises a ValueError.
 */
export function trainTestSplitIndices(n: number, options: TrainTestSplitOptions = {}): SplitIndices {
  const { seed = DEFAULT_SEED, stratify } = options;
  let { trainSize, testSize } = options;
  if (n === 0) return { train: [], test: [] };
  if (trainSize === undefined && testSize === undefined) testSize = { fraction: 0.25 };
  const check = (name: string, s: SplitSize | undefined): void => {
    if (s === undefined) return;
    const bad = 'count' in s ? !Number.isInteger(s.count) || s.count >= n || s.count <= 0 : s.fraction <= 0 || s.fraction >= 1;
    if (bad) {
      throw splitError(
        `${name}=${'count' in s ? s.count : s.fraction} should be either positive and smaller than the number of samples ${n} or a float in the (0, 1) range`,
        { n, [name]: s },
      );
    }
  };
  check('test_size', testSize);
  check('train_size', trainSize);
  if (trainSize && testSize && 'fraction' in trainSize && 'fraction' in testSize && trainSize.fraction + testSize.fraction > 1) {
    throw splitError(
      `The sum of test_size and train_size = ${trainSize.fraction + testSize.fraction}, should be in the (0, 1) range. Reduce test_size and/or train_size.`,
    );
  }
  let nTest = testSize === undefined ? NaN : 'fraction' in testSize ? Math.ceil(testSize.fraction * n) : testSize.count;
  let nTrain = trainSize === undefined ? NaN : 'fraction' in trainSize ? Math.floor(trainSize.fraction * n) : trainSize.count;
  if (trainSize === undefined) nTrain = n - nTest;
  else if (testSize === undefined) nTest = n - nTrain;
  if (nTrain + nTest > n) {
    throw splitError(
      `The sum of train_size and test_size = ${nTrain + nTest}, should be smaller than the number of samples ${n}. Reduce test_size and/or train_size.`,
      { n, nTrain, nTest },
    );
  }
  if (nTrain === 0) {
    throw splitError(`With n_samples=${n}, the resulting train set will be empty. Adjust test_size/train_size.`, { n });
  }
  const rng = new NumpyGenerator(seed);
  if (stratify) {
    if (stratify.length !== n) throw splitError(`stratify has ${stratify.length} labels for ${n} rows`);
    return stratifiedShuffleSplit(stratify, nTrain, nTest, rng);
  }
  const perm = rng.permutation(n);
  return { test: perm.slice(0, nTest), train: perm.slice(nTest, nTest + nTrain) };
}

/**
 * Row-level {@link trainTestSplitIndices}.
 *
 * @param rows - the rows.
 * @param options - as for {@link trainTestSplitIndices}.
 */
export function trainTestSplit<T>(rows: readonly T[], options: TrainTestSplitOptions = {}): { train: T[]; test: T[] } {
  const { train, test } = trainTestSplitIndices(rows.length, options);
  return { train: train.map((i) => rows[i]!), test: test.map((i) => rows[i]!) };
}

/**
 * HF `Dataset.shuffle(seed)`: `default_rng(seed).permutation(len)`.
 *
 * @param n - number of rows.
 * @param seed - default 42.
 */
export function shuffleIndices(n: number, seed: number = DEFAULT_SEED): number[] {
  return new NumpyGenerator(seed).permutation(n);
}

/**
 * Row-level {@link shuffleIndices} (returns a new array).
 *
 * @param rows - the rows.
 * @param seed - default 42.
 */
export function shuffleRows<T>(rows: readonly T[], seed: number = DEFAULT_SEED): T[] {
  return shuffleIndices(rows.length, seed).map((i) => rows[i]!);
}

/**
 * TPV `AbstractTask.subsample`: a stratified `nObs`-row sample (the "train"
 * side of `train_test_split(train_size=nObs/N, seed, stratify)`). Returns
 * the rows unchanged when `nObs >= N` or `nObs` is 0/undefined (the
 * reference's `if n_obs:`). Because the size is a float, `nObs - 1` rows can
 * come out.
 *
 * @param rows - the rows.
 * @param nObs - requested sample size.
 * @param labelOf - class id of a row.
 * @param seed - default 42.
 */
export function subsample<T>(
  rows: readonly T[],
  nObs: number | undefined,
  labelOf: (row: T, index: number) => number,
  seed: number = DEFAULT_SEED,
): T[] {
  if (!nObs || nObs >= rows.length) return rows.slice();
  return trainTestSplit(rows, {
    trainSize: { fraction: nObs / rows.length },
    seed,
    stratify: rows.map(labelOf),
  }).train;
}

/** Raw rows keyed by original (HF) split name, e.g. `{ train, validation_matched }`. */
export type RowsBySplit = Readonly<Partial<Record<string, readonly RawRow[]>>>;

/** Options of {@link getSplit}/{@link getSplits}. */
export interface SplitOptions {
  /** `max_train_samples`: stratified cap on train (0/undefined: all). */
  readonly maxTrain?: number;
  /** `max_valid_samples`: stratified cap on validation. */
  readonly maxValid?: number;
  /** `max_test_samples`: stratified cap on test. */
  readonly maxTest?: number;
  /** `split_validation_test` (default `true`, as in every paper config). */
  readonly splitValidationTest?: boolean;
  /** Seed (default 42). */
  readonly seed?: number;
  /**
   * Rows held out of train for validation under the large rule (reference:
   * 1000). A knob for small local samples; the paper always uses 1000.
   */
  readonly largeValidationSize?: number;
}

/** The three logical splits, as raw rows. */
export interface TaskSplits {
  /** Training rows. */
  readonly train: RawRow[];
  /** Validation rows. */
  readonly validation: RawRow[];
  /** Test rows. */
  readonly test: RawRow[];
}

function originalSplit(spec: TaskSpec, rows: RowsBySplit, name: string | undefined, logical: string): RawRow[] {
  if (name === undefined) {
    throw new TaskError('MISSING_SPLIT', `Task ${spec.name} has no original split for "${logical}" (split_to_data_split).`, {
      task: spec.name,
      split: logical,
    });
  }
  const data = rows[name];
  if (!data) {
    throw new TaskError(
      'MISSING_SPLIT',
      `Task ${spec.name}: the "${logical}" split needs original split "${name}", which was not supplied (have: ${Object.keys(rows).join(', ') || 'none'}).`,
      { task: spec.name, split: logical, originalSplit: name, available: Object.keys(rows) },
    );
  }
  // load_dataset(...).filter(label != -1) for SNLI happens before anything else.
  const drop = spec.dropLabel;
  if (drop === undefined) return data.slice();
  return data.filter((r) => {
    const v = r[spec.labelColumn];
    return !(v === drop || (typeof v === 'bigint' && Number(v) === drop) || (typeof v === 'string' && v.trim() === String(drop)));
  });
}

/**
 * TPV `AbstractTask.get(split, n_obs, split_validation_test)` for one
 * logical split, on raw rows supplied per original split.
 *
 * With `splitValidationTest` (default):
 * - large tasks: train = original train minus a stratified `1000/N` held-out
 *   part, validation = that part, test = the §4 test split shuffled;
 * - small tasks: train = original train shuffled, validation/test = the two
 *   stratified halves of `splitMap.validation` (TREC: original test).
 * Without it every split is its mapped original split, shuffled.
 * Finally the `max*` cap is applied by stratified {@link subsample}.
 *
 * @param task - spec or name.
 * @param split - the logical split.
 * @param rows - raw rows per original split.
 * @param options - caps, seed, rule switch.
 * @throws {@link TaskError} `MISSING_SPLIT`, `SPLIT_ERROR`, `BAD_LABEL`.
 */
export function getSplit(task: TaskSpec | string, split: LogicalSplit, rows: RowsBySplit, options: SplitOptions = {}): RawRow[] {
  const spec = resolveTask(task);
  const { splitValidationTest = true, seed = DEFAULT_SEED, largeValidationSize = 1000 } = options;
  const nObs = split === 'train' ? options.maxTrain : split === 'validation' ? options.maxValid : options.maxTest;
  const labelOf = (r: RawRow, i: number): number => labelId(spec, r, i);
  let data: RawRow[];
  if (splitValidationTest && spec.sizeClass === 'small' && split !== 'train') {
    const source = originalSplit(spec, rows, spec.splitMap.validation, split);
    // get_splits(split, dataset, 0.5): train_size=0.5, test_size=0.5.
    const parts = trainTestSplit(source, {
      trainSize: { fraction: 0.5 },
      testSize: { fraction: 1 - 0.5 },
      seed,
      stratify: source.map(labelOf),
    });
    data = split === 'validation' ? parts.train : parts.test;
  } else if (splitValidationTest && spec.sizeClass === 'large' && split !== 'test') {
    const source = originalSplit(spec, rows, 'train', split);
    const v = largeValidationSize / source.length;
    // get_splits(split, dataset, 1000/N): train_size=v, test_size=1-v;
    // validation = "train" side, train = "test" side.
    const parts = trainTestSplit(source, {
      trainSize: { fraction: v },
      testSize: { fraction: 1 - v },
      seed,
      stratify: source.map(labelOf),
    });
    data = split === 'validation' ? parts.train : parts.test;
  } else {
    const mapped = spec.splitMap[split];
    data = shuffleRows(originalSplit(spec, rows, mapped, split), seed);
  }
  return nObs ? subsample(data, nObs, labelOf, seed) : data;
}

/**
 * All three logical splits (see {@link getSplit}).
 *
 * @param task - spec or name.
 * @param rows - raw rows per original split.
 * @param options - caps, seed, rule switch.
 */
export function getSplits(task: TaskSpec | string, rows: RowsBySplit, options: SplitOptions = {}): TaskSplits {
  const spec = resolveTask(task);
  return {
    train: getSplit(spec, 'train', rows, options),
    validation: getSplit(spec, 'validation', rows, options),
    test: getSplit(spec, 'test', rows, options),
  };
}

/**
 * The k-shot training set of the few-shot experiments: the task's train
 * split with `max_train_samples = k` (a stratified subsample, seed 42). The
 * seed does not depend on the origin, so every origin sees the same k rows.
 * k = 0 means "no training" in the reference; this returns `[]` for it.
 *
 * @param task - spec or name.
 * @param rows - raw rows per original split.
 * @param k - total number of shots (not per class).
 * @param options - seed and rule switch (`maxTrain` is ignored).
 * @throws {@link TaskError} `SPLIT_ERROR` when k < #classes (why the topic group starts at 10 shots).
 */
export function fewShot(task: TaskSpec | string, rows: RowsBySplit, k: number, options: SplitOptions = {}): RawRow[] {
  if (k === 0) return [];
  return getSplit(task, 'train', rows, { ...options, maxTrain: k });
}
