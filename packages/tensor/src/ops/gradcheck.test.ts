import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Tensor, abs, add, cat, clamp, crossEntropy, div, dropout, embedding, exp, expand, gelu, Generator, gradCheck,
  layerNorm, linear, log, logSoftmax, matmul, max, maximum, maskedFill, mean, minimum, mul, narrow, neg, permute, pow,
  relu, reshape, rmsNorm, rsqrt, sigmoid, silu, softmax, sqrt, square, sub, sum, tanh, tensor, transpose, where,
} from '../index.js';

const RUNS = Number(process.env.GRADCHECK_RUNS ?? 100);

/** Small shapes (rank 0–3, dims 1–3) so finite differences stay cheap. */
const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 });
const valuesFor = (n: number, min = -2, max = 2) =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** A tensor arbitrary for a given shape. */
const input = (shape: number[], min = -2, max = 2) => valuesFor(size(shape), min, max).map((data) => ({ data, shape }));
/** Two shapes that broadcast against each other (some dims set to 1 on either side). */
const broadcastPair = shapeArb.chain((s) =>
  fc.tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length })).map(([ones, drop]) => {
    const b = s.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
    return [s, b] as [number[], number[]];
  }),
);

function expectOk(r: ReturnType<typeof gradCheck>): void {
  expect(r.ok, r.worst).toBe(true);
}

function check1(name: string, f: (x: Tensor) => Tensor, min = -2, max = 2, pre?: (d: number[]) => boolean) {
  it(`${name}: gradient matches finite differences`, () => {
    fc.assert(
      fc.property(shapeArb.chain((s) => input(s, min, max)), (x) => {
        if (pre && !pre(x.data)) return;
        expectOk(gradCheck(f, [x]));
      }),
      { numRuns: RUNS },
    );
  });
}

const awayFromZero = (d: number[]) => d.every((v) => Math.abs(v) > 1e-3);
/** No two values closer than 1e-3, so a finite-difference step never flips an argmax. */
const wellSeparated = (d: number[]) => {
  const s = [...d].sort((a, b) => a - b);
  return s.every((v, i) => i === 0 || v - s[i - 1]! > 1e-3);
};

describe('gradient checks (float64, finite differences)', () => {
  for (const [name, f] of [
    ['add', add],
    ['sub', sub],
    ['mul', mul],
    ['maximum', maximum],
    ['minimum', minimum],
  ] as const) {
    it(`${name} with broadcasting: gradients of both inputs`, () => {
      fc.assert(
        fc.property(broadcastPair.chain(([a, b]) => fc.tuple(input(a), input(b))), ([a, b]) => {
          if ((name === 'maximum' || name === 'minimum') && a.data.some((v) => b.data.some((w) => Math.abs(v - w) < 1e-3))) return;
          expectOk(gradCheck(f, [a, b]));
        }),
        { numRuns: RUNS },
      );
    });
  }
  it('div with broadcasting (denominator away from 0)', () => {
    fc.assert(
      fc.property(broadcastPair.chain(([a, b]) => fc.tuple(input(a), input(b, 0.5, 3))), ([a, b]) => {
        expectOk(gradCheck(div, [a, b]));
      }),
      { numRuns: RUNS },
    );
  });
  it('pow with a tensor exponent (positive base)', () => {
    fc.assert(
      fc.property(broadcastPair.chain(([a, b]) => fc.tuple(input(a, 0.5, 2), input(b, -2, 2))), ([a, b]) => {
        expectOk(gradCheck(pow, [a, b]));
      }),
      { numRuns: RUNS },
    );
  });
  check1('pow(x, 3)', (x) => pow(x, 3));
  check1('pow(x, 0.5)', (x) => pow(x, 0.5), 0.2, 3);
  check1('scalar add/mul/div/sub', (x) => div(sub(mul(add(x, 1.5), 2), 0.25), 3));
  check1('neg', neg);
  check1('exp', exp);
  check1('log', log, 0.1, 3);
  check1('sqrt', sqrt, 0.1, 3);
  check1('rsqrt', rsqrt, 0.1, 3);
  check1('tanh', tanh);
  check1('sigmoid', sigmoid);
  check1('relu', relu, -2, 2, awayFromZero);
  check1('abs', abs, -2, 2, awayFromZero);
  check1('square', square);
  check1('gelu exact', (x) => gelu(x, 'none'), -4, 4);
  check1('gelu tanh', (x) => gelu(x, 'tanh'), -4, 4);
  check1('silu', silu, -4, 4);
  check1('clamp', (x) => clamp(x, -0.5, 0.7), -2, 2, (d) => d.every((v) => Math.abs(v + 0.5) > 1e-3 && Math.abs(v - 0.7) > 1e-3));
  check1('sum all', (x) => sum(x));
  check1('mean all', (x) => mean(x));
  check1('max all', (x) => max(x), -2, 2, wellSeparated);

  const dimCase = (name: string, f: (x: Tensor, dim: number, keep: boolean) => Tensor, distinct = false) =>
    it(`${name} over a dim (keepdim both ways)`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }).chain((s) =>
            fc.tuple(input(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean()),
          ),
          ([x, dim, keep]) => {
            if (distinct && !wellSeparated(x.data)) return;
            expectOk(gradCheck((t) => f(t, dim, keep), [x]));
          },
        ),
        { numRuns: RUNS },
      );
    });
  dimCase('sum', (x, d, k) => sum(x, d, k));
  dimCase('mean', (x, d, k) => mean(x, d, k));
  dimCase('max', (x, d, k) => max(x, d, k), true);
  dimCase('softmax', (x, d) => softmax(x, d));
  dimCase('logSoftmax', (x, d) => logSoftmax(x, d));
  dimCase('narrow', (x, d) => narrow(x, d, 0, 1));
  dimCase('transpose with last', (x, d) => transpose(x, d, -1));

  it('matmul: batched with broadcast batch dims, 1-D operands', () => {
    const dims = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(
        fc.tuple(dims, dims, dims, fc.array(dims, { maxLength: 2 }), fc.boolean(), fc.constantFrom('mm', 'vec-left', 'vec-right')).chain(
          ([m, k, n, batch, bcast, kind]) => {
            const bb = bcast ? batch.map(() => 1) : batch;
            const aShape = kind === 'vec-left' ? [k] : [...batch, m, k];
            const bShape = kind === 'vec-right' ? [k] : [...bb, k, n];
            return fc.tuple(input(aShape), input(bShape));
          },
        ),
        ([a, b]) => expectOk(gradCheck(matmul, [a, b])),
      ),
      { numRuns: RUNS },
    );
  });
  it('linear (x·Wᵀ + b)', () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).chain(([n, i, o]) =>
        fc.tuple(input([n, i]), input([o, i]), input([o]))), ([x, w, b]) => expectOk(gradCheck(linear, [x, w, b]))),
      { numRuns: RUNS },
    );
  });
  it('reshape, permute, expand, cat, where, maskedFill', () => {
    fc.assert(
      fc.property(input([2, 3, 2]), input([2, 1, 2]), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (x, y, m) => {
        expectOk(gradCheck((t) => reshape(permute(t, [2, 0, 1]), [4, 3]), [x]));
        expectOk(gradCheck((t) => expand(t, [3, 2, 3, 2]), [y]));
        expectOk(gradCheck((a, b) => cat([a, b, a], 1), [x, y]));
        const mask = tensor(m.map(Number), { shape: [2, 3, 2], dtype: 'bool' });
        expectOk(gradCheck((a, b) => where(mask, a, b), [x, y]));
        expectOk(gradCheck((a) => maskedFill(a, mask, -7), [x]));
      }),
      { numRuns: RUNS },
    );
  });
  it('embedding with repeated ids (scatter-add gradient)', () => {
    fc.assert(
      fc.property(input([5, 3]), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 8 }), (w, ids) => {
        const idt = tensor(ids, { dtype: 'int32' });
        expectOk(gradCheck((t) => embedding(t, idt), [w]));
      }),
      { numRuns: RUNS },
    );
  });
  it('crossEntropy with ignored targets, all reductions', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 })).chain(([n, c]) =>
          fc.tuple(input([n, c], -3, 3), fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }), fc.constantFrom('mean', 'sum', 'none')),
        ),
        ([x, t, reduction]) => {
          const targets = t.map((v) => (v < 0 ? -100 : v));
          if (reduction === 'mean' && targets.every((v) => v === -100)) targets[0] = 0;
          const tt = tensor(targets, { dtype: 'int32' });
          expectOk(gradCheck((l) => crossEntropy(l, tt, { reduction: reduction as 'mean' }), [x]));
        },
      ),
      { numRuns: RUNS },
    );
  });
  it('rmsNorm and layerNorm (input and weight/bias)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((d) => fc.tuple(input([2, d]), input([d]), input([d]))), ([x, w, b]) => {
        expectOk(gradCheck((a, ww) => rmsNorm(a, ww, 1e-6), [x, w]));
        if (x.shape[1]! > 1) expectOk(gradCheck((a, ww, bb) => layerNorm(a, ww, bb, 1e-5), [x, w, b]));
      }),
      { numRuns: RUNS },
    );
  });
  it('dropout with a fixed stream (same mask every evaluation)', () => {
    fc.assert(
      fc.property(input([3, 4]), fc.double({ min: 0.1, max: 0.9, noNaN: true }), (x, p) => {
        expectOk(gradCheck((t) => dropout(t, p, { training: true, generator: new Generator(7) }), [x]));
      }),
      { numRuns: RUNS },
    );
  });
});
