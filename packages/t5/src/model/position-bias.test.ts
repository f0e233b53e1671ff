/** The relative position buckets against the oracle table (every setting, both directions, exact). */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { relativePositionBucket, relativePositionBuckets } from './position-bias.js';
import { ORACLE_DIR } from './__tests__/oracle.js';

interface BucketTable {
  relative_positions: number[];
  cases: { num_buckets: number; max_distance: number; bidirectional: boolean; buckets: number[] }[];
}

const table = JSON.parse(fs.readFileSync(`${ORACLE_DIR}relative_position_buckets.json`, 'utf8')) as BucketTable;

describe('relativePositionBucket', () => {
  it.each(table.cases.map((c) => [c.num_buckets, c.max_distance, c.bidirectional, c] as const))(
    'matches HF for %i buckets, max distance %i, bidirectional %s',
    (nb, md, bi, c) => {
      const got = table.relative_positions.map((r) => relativePositionBucket(r, bi, nb, md));
      expect(got).toEqual(c.buckets);
    },
  );

  it('is monotone in |distance| and stays in range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 128 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3000 }), fc.boolean(), (nb, extra, n, bi) => {
        const md = Math.floor(nb / 2) + 1 + extra;
        const a = relativePositionBucket(-n, bi, nb, md);
        const b = relativePositionBucket(-(n + 1), bi, nb, md);
        expect(b).toBeGreaterThanOrEqual(a);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThan(nb);
      }),
    );
  });

  it('a grid with a query offset is the matching rows of the full grid', () => {
    const full = relativePositionBuckets(7, 7, 0, false, 32, 128);
    const row = relativePositionBuckets(1, 7, 6, false, 32, 128);
    expect(Array.from(row)).toEqual(Array.from(full.subarray(6 * 7)));
  });
});
