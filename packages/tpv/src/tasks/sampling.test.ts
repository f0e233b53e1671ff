import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { loadBundledTask } from './bundled.js';
import { TaskError } from './errors.js';
import type { RawRow } from './format.js';
import { NumpyGenerator } from './numpy-random.js';
import { getTask } from './registry.js';
import {
  approximateMode,
  fewShot,
  getSplit,
  getSplits,
  shuffleIndices,
  shuffleRows,
  stratifiedShuffleSplit,
  subsample,
  trainTestSplit,
  trainTestSplitIndices,
} from './sampling.js';

// Expected index lists marked "HF" were produced in Python by running
// datasets' own `utils/stratify.py` and the size logic of
// `Dataset.train_test_split` with `np.random.default_rng(42)` (numpy 2.4.6).

function caught(fn: () => unknown): TaskError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskError) return e;
    throw e;
  }
  throw new Error('expected a TaskError');
}

const counts = (labels: readonly number[]): Map<number, number> => {
  const m = new Map<number, number>();
  for (const y of labels) m.set(y, (m.get(y) ?? 0) + 1);
  return m;
};

/** Synthetic rows for a task with a `label` column. */
function rowsWithLabels(labels: readonly number[], extra: (i: number) => Record<string, unknown> = () => ({})): RawRow[] {
  return labels.map((label, i) => ({ id: i, label, ...extra(i) }));
}

describe('approximateMode', () => {
  it('matches HF/numpy, including random tie-breaks (HF)', () => {
    const g = new NumpyGenerator(42);
    const cases: [number[], number][] = [
      [[10, 10, 10], 7],
      [[5, 5, 5, 5], 2],
      [[3, 7, 11], 10],
      [[100, 1, 1, 50], 20],
      [[4, 4], 3],
    ];
    expect(cases.map(([c, n]) => approximateMode(c, n, g))).toEqual([
      [3, 2, 2],
      [0, 0, 1, 1],
      [2, 3, 5],
      [13, 0, 0, 7],
      [2, 1],
    ]);
  });

  it('hand-computed: [3, 7, 11] drawing 10', () => {
    // continuous = 10*[3,7,11]/21 = [1.428.., 3.333.., 5.238..]; floored [1,3,5] = 9;
    // one left over goes to the largest remainder (0.428.. of class 0) -> [2,3,5].
    expect(approximateMode([3, 7, 11], 10, new NumpyGenerator(0))).toEqual([2, 3, 5]);
  });

  it('property: counts differ from n·p_c by < 1 and sum to n', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 15 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (classCounts, frac, seed) => {
          const total = classCounts.reduce((a, b) => a + b, 0);
          const n = Math.floor(frac * total);
          const out = approximateMode(classCounts, n, new NumpyGenerator(seed));
          expect(out.reduce((a, b) => a + b, 0)).toBe(n);
          out.forEach((k, i) => {
            expect(Math.abs(k - (n * classCounts[i]!) / total)).toBeLessThan(1);
            expect(k).toBeLessThanOrEqual(classCounts[i]!);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('stratified train_test_split', () => {
  it('matches HF on 50 rows of 3 interleaved classes, train_size=10/50', () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 3);
    const { train, test } = trainTestSplitIndices(50, { trainSize: { fraction: 10 / 50 }, stratify: labels });
    expect(train).toEqual([18, 25, 37, 32, 5, 38, 36, 48, 22, 24]);
    expect(test).toEqual([
      41, 46, 11, 28, 8, 49, 3, 35, 1, 39, 21, 10, 31, 34, 15, 6, 13, 4, 0, 12, 19, 23, 17, 9, 33, 43, 42, 40, 20, 29, 14, 30, 7, 47, 45, 26,
      44, 27, 16, 2,
    ]);
  });

  it('matches HF on blocked classes with 0.5/0.5 (small-dataset rule)', () => {
    const labels = [...Array<number>(30).fill(0), ...Array<number>(12).fill(1), ...Array<number>(18).fill(2)];
    const r = trainTestSplitIndices(60, { trainSize: { fraction: 0.5 }, testSize: { fraction: 0.5 }, stratify: labels });
    expect(r.train).toEqual([24, 20, 7, 37, 5, 43, 55, 18, 25, 56, 53, 22, 50, 32, 6, 34, 29, 36, 31, 16, 52, 38, 21, 10, 47, 9, 48, 26, 54, 19]);
    expect(r.test).toEqual([33, 15, 35, 27, 40, 23, 17, 28, 12, 3, 2, 45, 0, 39, 58, 46, 59, 1, 49, 51, 4, 57, 13, 42, 14, 30, 41, 8, 44, 11]);
  });

  it('matches HF for the large rule on 2000 and 1250 rows (head + checksum)', () => {
    const check = (n: number, f: (i: number) => number, exp: { train_head: number[]; test_head: number[]; train_sum: number; test_sum: number; test_len: number }): void => {
      const labels = Array.from({ length: n }, (_, i) => f(i));
      const r = trainTestSplitIndices(n, { trainSize: { fraction: 1000 / n }, testSize: { fraction: 1 - 1000 / n }, stratify: labels });
      expect(r.train).toHaveLength(1000);
      expect(r.test).toHaveLength(exp.test_len);
      expect(r.train.slice(0, 15)).toEqual(exp.train_head);
      expect(r.test.slice(0, 15)).toEqual(exp.test_head);
      expect(r.train.reduce((a, v, i) => a + i * v, 0)).toBe(exp.train_sum);
      expect(r.test.reduce((a, v, i) => a + i * v, 0)).toBe(exp.test_sum);
    };
    check(2000, (i) => (i * 7 + Math.floor(i / 5)) % 4, {
      test_len: 1000,
      train_head: [251, 1583, 1199, 744, 165, 1154, 731, 1670, 125, 598, 1341, 548, 594, 66, 1537],
      test_head: [1972, 1746, 1875, 1415, 1631, 483, 1252, 1928, 1255, 925, 988, 101, 1640, 1112, 1494],
      train_sum: 496675754,
      test_sum: 511761585,
    });
    check(1250, (i) => (i * 7) % 3, {
      test_len: 250,
      train_head: [35, 541, 641, 524, 1073, 506, 573, 787, 430, 882, 180, 872, 726, 419, 210],
      test_head: [500, 10, 86, 1111, 1156, 975, 523, 839, 704, 175, 942, 306, 1135, 1195, 585],
      train_sum: 316814579,
      test_sum: 18296961,
    });
  });

  it('matches HF for a 25-of-200 few-shot subsample over 5 classes', () => {
    const labels = Array.from({ length: 200 }, (_, i) => (i * 3 + Math.floor(i / 7)) % 5);
    const rows = labels.map((label, id) => ({ id, label }));
    expect(subsample(rows, 25, (r) => r.label).map((r) => r.id)).toEqual([
      156, 33, 199, 181, 182, 194, 143, 154, 42, 197, 177, 44, 86, 106, 34, 26, 125, 140, 118, 152, 158, 77, 18, 95, 89,
    ]);
  });

  it('property: per-class counts are within 1 of n·p_c, sides are disjoint and valid', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 60 }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        (classSizes, frac, seed) => {
          // Interleave the classes so that file order is not class order.
          const labels: number[] = [];
          const left = classSizes.slice();
          while (left.some((c) => c > 0)) left.forEach((c, k) => c > 0 && (labels.push(k * 3), (left[k] = c - 1)));
          const n = labels.length;
          const nTrain = Math.floor(frac * n);
          const nTest = n - nTrain;
          fc.pre(nTrain >= classSizes.length && nTest >= classSizes.length);
          const g = new NumpyGenerator(seed);
          const r = stratifiedShuffleSplit(labels, nTrain, nTest, g);
          expect(r.train).toHaveLength(nTrain);
          expect(r.test).toHaveLength(nTest);
          const all = new Set([...r.train, ...r.test]);
          expect(all.size).toBe(n);
          const c = counts(r.train.map((i) => labels[i]!));
          classSizes.forEach((size, k) => {
            expect(Math.abs((c.get(k * 3) ?? 0) - (nTrain * size) / n)).toBeLessThan(1);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is deterministic for a seed and changes with the seed', () => {
    const labels = Array.from({ length: 300 }, (_, i) => i % 4);
    const a = trainTestSplitIndices(300, { trainSize: { fraction: 0.3 }, stratify: labels });
    const b = trainTestSplitIndices(300, { trainSize: { fraction: 0.3 }, stratify: labels });
    const c = trainTestSplitIndices(300, { trainSize: { fraction: 0.3 }, stratify: labels, seed: 43 });
    expect(a).toEqual(b);
    expect(a.train).not.toEqual(c.train);
  });

  it('raises where HF raises', () => {
    const labels = [0, 0, 1, 1, 2, 2, 2];
    // n_train = floor(0.3*7) = 2 < 3 classes
    expect(caught(() => trainTestSplitIndices(7, { trainSize: { fraction: 0.3 }, stratify: labels })).message).toMatch(/greater or equal to the number of classes = 3/);
    // a class with a single member
    expect(caught(() => trainTestSplitIndices(5, { trainSize: { fraction: 0.5 }, stratify: [0, 0, 1, 1, 2] })).code).toBe('SPLIT_ERROR');
    // HF rejects float sizes outside (0, 1) and integer sizes >= n
    expect(caught(() => trainTestSplitIndices(10, { trainSize: { fraction: 1 } })).code).toBe('SPLIT_ERROR');
    expect(caught(() => trainTestSplitIndices(10, { testSize: { count: 10 } })).code).toBe('SPLIT_ERROR');
    // ceil((1 - 1000/3000) * 3000) = ceil(2000.0000000000002) = 2001 -> sum 3001 > 3000
    expect(
      caught(() =>
        trainTestSplitIndices(3000, {
          trainSize: { fraction: 1000 / 3000 },
          testSize: { fraction: 1 - 1000 / 3000 },
          stratify: Array.from({ length: 3000 }, (_, i) => i % 4),
        }),
      ).message,
    ).toMatch(/= 3001/);
  });

  it('unstratified split: test = perm[:n_test], train = perm[n_test:]', () => {
    const perm = new NumpyGenerator(42).permutation(10); // [5,6,0,7,3,2,4,9,1,8]
    const r = trainTestSplitIndices(10, { testSize: { count: 3 } });
    expect(r.test).toEqual(perm.slice(0, 3));
    expect(r.train).toEqual(perm.slice(3));
    expect(trainTestSplit(['a', 'b', 'c', 'd'], { trainSize: { count: 1 } }).train).toHaveLength(1);
  });

  it('Dataset.shuffle(seed=42) order', () => {
    expect(shuffleIndices(20)).toEqual([15, 9, 14, 7, 12, 10, 6, 19, 3, 0, 16, 5, 11, 18, 2, 4, 17, 1, 13, 8]);
    expect(shuffleRows(['a', 'b', 'c'], 42)).toEqual(new NumpyGenerator(42).permutation(3).map((i) => 'abc'[i]));
  });
});

describe('subsample (max_*_samples)', () => {
  const rows = Array.from({ length: 90 }, (_, id) => ({ id, label: id % 3 }));
  const lab = (r: { label: number }): number => r.label;

  it('returns everything for n >= N or n = 0 (the reference `if n_obs:`)', () => {
    expect(subsample(rows, 90, lab)).toHaveLength(90);
    expect(subsample(rows, 1000, lab)).toHaveLength(90);
    expect(subsample(rows, 0, lab)).toHaveLength(90);
    expect(subsample(rows, undefined, lab)).toHaveLength(90);
  });

  it('can return n - 1 rows because the size is a float (floor(n/N·N))', () => {
    // 125/1062*1062 = 124.99999999999999 in IEEE doubles -> floor 124
    const big = Array.from({ length: 1062 }, (_, id) => ({ id, label: id % 2 }));
    expect(Math.floor((125 / 1062) * 1062)).toBe(124);
    expect(subsample(big, 125, lab)).toHaveLength(124);
    expect(subsample(big, 126, lab)).toHaveLength(126);
  });

  it('keeps class proportions', () => {
    const s = subsample(rows, 30, lab);
    expect([...counts(s.map(lab)).values()]).toEqual([10, 10, 10]);
  });
});

describe('getSplits (TPV AbstractTask.get)', () => {
  // MNLI-like: 2000 train rows over 3 classes, 300 validation_matched rows.
  const mnliRows = {
    train: rowsWithLabels(Array.from({ length: 2000 }, (_, i) => (i * 5) % 3), (i) => ({ premise: `p${i}`, hypothesis: `h${i}` })),
    validation_matched: rowsWithLabels(Array.from({ length: 300 }, (_, i) => i % 3), (i) => ({ premise: `vp${i}`, hypothesis: `vh${i}` })),
    validation_mismatched: rowsWithLabels(Array.from({ length: 60 }, (_, i) => i % 3)),
  };

  it('large rule: validation = 1000 stratified train rows, train = the rest, test = §4 split shuffled', () => {
    const s = getSplits('mnli_text', mnliRows);
    expect(s.validation).toHaveLength(1000);
    expect(s.train).toHaveLength(1000);
    expect(s.test).toHaveLength(300);
    const ids = (rs: readonly RawRow[]): number[] => rs.map((r) => r['id'] as number);
    // validation and train partition the original train split
    expect(new Set([...ids(s.validation), ...ids(s.train)]).size).toBe(2000);
    // test = validation_matched in Dataset.shuffle(42) order
    expect(ids(s.test)).toEqual(shuffleIndices(300));
    // validation is the "train" side of the same split
    const ref = trainTestSplitIndices(2000, {
      trainSize: { fraction: 1000 / 2000 },
      testSize: { fraction: 1 - 1000 / 2000 },
      stratify: mnliRows.train.map((r) => r['label'] as number),
    });
    expect(ids(s.validation)).toEqual(ref.train);
    expect(ids(s.train)).toEqual(ref.test);
  });

  it('caps are stratified subsamples of each split', () => {
    const s = getSplits('mnli_text', mnliRows, { maxTrain: 99, maxValid: 30, maxTest: 60 });
    expect(s.train).toHaveLength(99);
    expect(s.validation).toHaveLength(30);
    expect(s.test).toHaveLength(60);
    expect([...counts(s.test.map((r) => r['label'] as number)).values()]).toEqual([20, 20, 20]);
  });

  it('large rule quirks: 999 validation rows for N = 1062, an HF error for N = 3000', () => {
    const n1062 = { train: rowsWithLabels(Array.from({ length: 1062 }, (_, i) => i % 3)) };
    expect(getSplit('mnli_text', 'validation', n1062)).toHaveLength(999);
    expect(getSplit('mnli_text', 'train', n1062)).toHaveLength(63);
    const n3000 = { train: rowsWithLabels(Array.from({ length: 3000 }, (_, i) => i % 3)) };
    expect(caught(() => getSplit('mnli_text', 'validation', n3000)).code).toBe('SPLIT_ERROR');
    // fewer than 1000 rows: train_size = 1000/N >= 1 is rejected by HF as well
    const small = { train: rowsWithLabels(Array.from({ length: 500 }, (_, i) => i % 3)) };
    expect(caught(() => getSplit('mnli_text', 'train', small)).code).toBe('SPLIT_ERROR');
    // ... unless the held-out size is lowered explicitly
    expect(getSplit('mnli_text', 'validation', small, { largeValidationSize: 100 })).toHaveLength(100);
  });

  it('small rule: train shuffled, validation/test = halves of the original test (TREC)', () => {
    const trec = {
      train: Array.from({ length: 500 }, (_, i) => ({ id: i, text: `q${i}`, coarse_label: i % 6 })),
      test: Array.from({ length: 101 }, (_, i) => ({ id: i, text: `t${i}`, coarse_label: (i * 5) % 6 })),
    };
    const s = getSplits('trec_coarse_text', trec);
    expect(s.train.map((r) => r['id'])).toEqual(shuffleIndices(500));
    // n_train = floor(0.5*101) = 50 -> validation; n_test = ceil(0.5*101) = 51 -> test
    expect(s.validation).toHaveLength(50);
    expect(s.test).toHaveLength(51);
    expect(new Set([...s.validation, ...s.test].map((r) => r['id'])).size).toBe(101);
    // the reference has no "test" key in TREC's split_to_data_split
    expect(caught(() => getSplit('trec_coarse_text', 'test', trec, { splitValidationTest: false })).code).toBe('MISSING_SPLIT');
  });

  it('small rule on real bundled TREC test rows matches HF exactly', async () => {
    const rows = await loadBundledTask('trec_coarse_text');
    const test = rows['test']!;
    const pos = (r: RawRow): number => test.indexOf(r);
    const s = getSplits('trec_coarse_text', rows);
    // HF: train_test_split(train_size=0.5, test_size=0.5, seed=42, stratify_by_column="coarse_label")
    expect(s.validation.map(pos)).toEqual([
      32, 45, 98, 22, 1, 68, 9, 35, 24, 14, 27, 91, 94, 17, 88, 75, 63, 42, 49, 64, 5, 57, 96, 71, 86, 8, 61, 72, 2, 19, 58, 0, 16, 78, 51,
      77, 43, 40, 25, 97, 83, 26, 56, 41, 34, 46, 21, 33, 31, 70,
    ]);
    expect(s.test.map(pos)).toEqual([
      69, 67, 6, 84, 28, 12, 36, 18, 37, 65, 80, 95, 10, 60, 55, 3, 50, 52, 39, 23, 73, 7, 87, 38, 13, 44, 54, 20, 90, 15, 47, 82, 79, 76,
      92, 81, 74, 4, 53, 66, 48, 89, 62, 30, 59, 11, 85, 93, 29, 99,
    ]);
  });

  it('real bundled AG News: held-out validation and a 10-shot sample match HF exactly', async () => {
    const rows = await loadBundledTask('ag_news_text');
    const train = rows['train']!;
    const pos = (r: RawRow): number => train.indexOf(r);
    const opts = { largeValidationSize: 50 };
    expect(getSplit('ag_news_text', 'validation', rows, opts).map(pos)).toEqual([
      19, 143, 123, 71, 90, 4, 165, 164, 101, 125, 43, 102, 146, 49, 44, 113, 111, 140, 138, 24, 20, 84, 88, 172, 178, 142, 174, 128, 96,
      141, 80, 104, 157, 170, 144, 63, 131, 147, 22, 197, 2, 193, 159, 188, 194, 6, 46, 35, 132, 62,
    ]);
    const tr = getSplit('ag_news_text', 'train', rows, opts);
    expect(tr).toHaveLength(150);
    expect(tr.slice(0, 20).map(pos)).toEqual([74, 95, 171, 179, 116, 105, 25, 75, 94, 98, 23, 15, 137, 68, 126, 154, 65, 110, 79, 72]);
    const shots = fewShot('ag_news_text', rows, 10, opts);
    expect(shots.map(pos)).toEqual([149, 28, 42, 129, 92, 190, 0, 153, 78, 41]);
    // same k rows on every call (every origin)
    expect(fewShot('ag_news_text', rows, 10, opts)).toEqual(shots);
    expect([...counts(shots.map((r) => r['label'] as number)).values()].sort()).toEqual([2, 2, 3, 3]);
  });

  it('few-shot: k = 0 is no training; k < #classes raises (why Yahoo starts at 10 shots)', async () => {
    const rows = await loadBundledTask('yahoo_text');
    expect(fewShot('yahoo_text', rows, 0, { largeValidationSize: 50 })).toEqual([]);
    expect(caught(() => fewShot('yahoo_text', rows, 5, { largeValidationSize: 50 })).code).toBe('SPLIT_ERROR');
    expect(fewShot('yahoo_text', rows, 10, { largeValidationSize: 50 })).toHaveLength(10);
  });

  it('real bundled SST-2: the 872-example-style test split is Dataset.shuffle(42) of validation', async () => {
    const rows = await loadBundledTask('sst5_text');
    const val = rows['validation']!;
    const test = getSplit('sst5_text', 'test', rows);
    expect(test.map((r) => val.indexOf(r))).toEqual(new NumpyGenerator(42).permutation(100));
  });

  it('real SST-5 mode uses the small rule on the validation split', async () => {
    const real = getTask('sst5_text', { sst5Mode: 'real' });
    const rows = await loadBundledTask(real);
    const s = getSplits(real, rows);
    expect(s.train).toHaveLength(200);
    expect(s.validation).toHaveLength(50);
    expect(s.test).toHaveLength(50);
  });

  it('SNLI drops label -1 from every split before sampling', () => {
    const mk = (n: number): RawRow[] => Array.from({ length: n }, (_, i) => ({ id: i, premise: 'p', hypothesis: 'h', label: i % 4 === 3 ? -1 : i % 3 }));
    // 1440 rows, 360 of them unlabelled -> 1080 kept; 40 -> 30
    const rows = { train: mk(1440), validation: mk(40), test: mk(40) };
    const s = getSplits('snli_text', rows);
    expect(s.test).toHaveLength(30);
    expect(s.validation).toHaveLength(1000);
    expect(s.train).toHaveLength(80);
    for (const r of [...s.train, ...s.validation, ...s.test]) expect(r['label']).not.toBe(-1);
  });

  it('split_validation_test = false: each split is its mapped original split, shuffled', () => {
    const s = getSplits('mnli_text', mnliRows, { splitValidationTest: false });
    expect(s.train).toHaveLength(2000);
    expect(s.validation).toHaveLength(60); // validation_mismatched
    expect(s.test).toHaveLength(300);
  });

  it('reports missing original splits', async () => {
    const e = caught(() => getSplits('qnli_text', {}));
    expect(e.code).toBe('MISSING_SPLIT');
    expect(e.details).toMatchObject({ task: 'qnli_text', originalSplit: 'train' });
    // bundled QNLI has only `validation`, which is its test split
    const rows = await loadBundledTask('qnli_text');
    expect(getSplit('qnli_text', 'test', rows)).toHaveLength(100);
    expect(caught(() => getSplit('qnli_text', 'train', rows)).code).toBe('MISSING_SPLIT');
  });

  it('handles an MNLI-sized train split (392,702 rows) quickly and without stack overflow', () => {
    const train = Array.from({ length: 392702 }, (_, i) => ({ premise: 'p', hypothesis: 'h', label: (i * 7) % 3 }));
    const t0 = Date.now();
    const s = getSplits('mnli_text', { train, validation_matched: train.slice(0, 50) });
    expect(s.validation).toHaveLength(1000);
    expect(s.train).toHaveLength(391702);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('bad labels surface while stratifying', () => {
    const rows = { train: rowsWithLabels([0, 1, 7, 0, 1]) };
    expect(caught(() => getSplit('sst2_text', 'train', rows, { largeValidationSize: 2 })).code).toBe('BAD_LABEL');
  });
});
