import { describe, expect, it } from 'vitest';

import { NumpyGenerator, seedSequenceState } from './numpy-random.js';

// Every expected value below was printed by numpy 2.4.6 (python3 -c ...), e.g.
//   np.random.SeedSequence(42).generate_state(4, np.uint64)
//   np.random.PCG64(42).random_raw(3)
//   np.random.default_rng(42).permutation(100)

const u64 = (w: number[], k: number): bigint => (BigInt(w[2 * k + 1]!) << 32n) | BigInt(w[2 * k]!);

describe('SeedSequence', () => {
  it('matches numpy generate_state for seed 42 (uint64 view)', () => {
    const w = seedSequenceState(42, 8);
    expect([0, 1, 2, 3].map((k) => u64(w, k))).toEqual([
      11465652750463011511n,
      15382171918060459190n,
      9018504550953525431n,
      3703499796004394495n,
    ]);
  });

  it('matches numpy for a seed wider than 32 bits (2**40 + 5)', () => {
    expect(seedSequenceState(2 ** 40 + 5, 4)).toEqual([3767146251, 3672381269, 2127416108, 2216012776]);
  });

  it('rejects negative or fractional seeds', () => {
    expect(() => seedSequenceState(-1, 4)).toThrow(RangeError);
    expect(() => seedSequenceState(1.5, 4)).toThrow(RangeError);
  });
});

describe('PCG64 / Generator', () => {
  it('random_raw matches numpy', () => {
    const g = new NumpyGenerator(42);
    expect([g.nextUint64(), g.nextUint64(), g.nextUint64()]).toEqual([
      14276969152011380360n,
      8095878257575067585n,
      15838336090824644132n,
    ]);
    const g0 = new NumpyGenerator(0);
    expect([g0.nextUint64(), g0.nextUint64()]).toEqual([11749869230777074271n, 4976686463289251617n]);
    const gBig = new NumpyGenerator(2 ** 40 + 5);
    expect([gBig.nextUint64(), gBig.nextUint64()]).toEqual([87427594128977387n, 6872972437549564694n]);
  });

  it('32-bit draws are the buffered halves (integers(0, 2**32, dtype=uint32))', () => {
    const g = new NumpyGenerator(42);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([383329928, 3324115917, 2811363265, 1884968545]);
  });

  it('permutation matches numpy for several seeds and sizes', () => {
    expect(new NumpyGenerator(42).permutation(10)).toEqual([5, 6, 0, 7, 3, 2, 4, 9, 1, 8]);
    expect(new NumpyGenerator(42).permutation(17)).toEqual([12, 16, 11, 6, 10, 9, 7, 3, 0, 15, 5, 2, 4, 14, 1, 13, 8]);
    expect(new NumpyGenerator(0).permutation(17)).toEqual([2, 10, 3, 11, 0, 4, 7, 5, 16, 12, 13, 6, 9, 14, 8, 1, 15]);
    expect(new NumpyGenerator(7).permutation(17)).toEqual([3, 16, 6, 8, 1, 10, 0, 7, 4, 15, 14, 13, 2, 12, 5, 9, 11]);
    expect(new NumpyGenerator(42).permutation(100)).toEqual([
      59, 21, 56, 18, 33, 42, 50, 27, 92, 71, 2, 25, 24, 52, 81, 99, 51, 61, 4, 97, 94, 37, 28, 80, 7, 57, 79, 26, 76, 78, 38, 0, 86,
      46, 10, 29, 70, 45, 17, 39, 91, 40, 89, 5, 68, 1, 95, 84, 63, 3, 83, 93, 20, 87, 43, 73, 32, 75, 23, 96, 69, 15, 48, 55, 60, 9,
      62, 31, 72, 16, 44, 82, 67, 34, 30, 58, 74, 88, 98, 54, 49, 6, 90, 11, 85, 41, 22, 19, 35, 64, 47, 12, 53, 14, 13, 66, 36, 65,
      77, 8,
    ]);
    expect(new NumpyGenerator(42).permutation(1)).toEqual([0]);
    expect(new NumpyGenerator(42).permutation(0)).toEqual([]);
  });

  it('a large permutation matches numpy (checksum) and is fast', () => {
    const t0 = Date.now();
    const p = new NumpyGenerator(123).permutation(70000);
    expect(p.slice(0, 8)).toEqual([30000, 876, 68619, 1121, 15544, 5221, 52526, 54523]);
    // int(np.dot(np.arange(70000), p))
    expect(p.reduce((acc, v, i) => acc + i * v, 0)).toBe(85686361738787);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('choice(replace=False) and interleaved calls match numpy', () => {
    // g = default_rng(42); [g.choice(arange(p), size=k, replace=False) for p, k in ...]
    const g = new NumpyGenerator(42);
    const calls: [number, number][] = [
      [3, 2],
      [14, 5],
      [10, 10],
      [1, 1],
      [7, 3],
      [2, 1],
      [13, 12],
    ];
    expect(calls.map(([p, k]) => g.choiceWithoutReplacement(p, k))).toEqual([
      [0, 2],
      [1, 11, 9, 4, 10],
      [4, 0, 8, 6, 2, 9, 5, 7, 1, 3],
      [0],
      [2, 0, 1],
      [0],
      [7, 11, 0, 5, 1, 10, 4, 3, 2, 8, 12, 9],
    ]);
    // g = default_rng(5); g.choice(arange(9), 4, replace=False); g.permutation(6); g.choice(arange(2), 2, replace=False)
    const h = new NumpyGenerator(5);
    expect(h.choiceWithoutReplacement(9, 4)).toEqual([4, 0, 7, 5]);
    expect(h.permutation(6)).toEqual([5, 0, 1, 3, 2, 4]);
    expect(h.choiceWithoutReplacement(2, 2)).toEqual([1, 0]);
  });

  it('choice rejects impossible sizes', () => {
    expect(() => new NumpyGenerator(1).choiceWithoutReplacement(2, 3)).toThrow(RangeError);
  });
});
