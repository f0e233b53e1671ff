/**
 * The fused RMSNorm and biased-softmax primitives against the unfused compositions they
 * replace: gradient checks in float64 on the CPU, and equality (forward and gradients) with
 * the composition on random shapes, including broadcasting and size-1 dims, on the CPU and,
 * where an adapter exists, on WebGPU (both kernel profiles).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withWebGPU } from '../testing/webgpu-gate.js';
import * as T from '../index.js';
import { type Tensor, add, gradCheck, logSoftmax, rmsNorm, softmax } from '../index.js';
import { rmsNormComposed } from './nn.js';

const RUNS = Number(process.env.GRADCHECK_RUNS ?? 100);

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const valuesFor = (n: number, min = -2, max = 2) =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const input = (shape: number[], min = -2, max = 2) => valuesFor(size(shape), min, max).map((data) => ({ data, shape }));
/** A shape of rank 1–4 with dims 1–`maxDim`. */
const shapeArb = (maxDim: number) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: 4 });
/** `x`'s shape and a bias shape broadcasting to it (some dims 1, some leading dims dropped). */
const biasPair = (maxDim: number) =>
  shapeArb(maxDim).chain((s) =>
    fc.tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length - 1 })).map(([ones, drop]) => {
      const b = s.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
      return [s, b] as [number[], number[]];
    }),
  );

/** Rows whose mean square is not tiny, so rsqrt stays well conditioned for finite differences. */
const rowsAwayFromZero = (data: number[], D: number) => {
  for (let i = 0; i < data.length; i += D) {
    let s = 0;
    for (let c = 0; c < D; c++) s += data[i + c]! ** 2;
    if (s / D < 0.05) return false;
  }
  return true;
};

function expectOk(r: ReturnType<typeof gradCheck>): void {
  expect(r.ok, r.worst).toBe(true);
}

interface Evaluated {
  out: Float64Array;
  grads: Float64Array[];
}

/** Forward and gradients of `sum(f(xs)·w)` on the current backend (w fixed by seed). */
async function evaluate(f: (...xs: Tensor[]) => Tensor, inputs: { data: ArrayLike<number>; shape: number[] }[], dtype: 'float32' | 'float64'): Promise<Evaluated> {
  const make = dtype === 'float64' ? Float64Array : Float32Array;
  const xs = inputs.map((i) => T.tensor(make.from(i.data), { shape: i.shape, dtype, requiresGrad: true }));
  const y = T.tidy(() => {
    const o = f(...xs);
    let seed = 7;
    const w = make.from({ length: o.size }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed / 2 ** 32 - 0.5));
    T.sum(T.mul(o, T.tensor(w, { shape: [...o.shape], dtype }))).backward();
    return o;
  });
  const out = Float64Array.from(await y.data());
  const grads = await Promise.all(xs.map(async (x) => Float64Array.from(await x.grad!.data())));
  y.dispose();
  T.dispose(xs);
  return { out, grads };
}

function expectClose(a: Float64Array, b: Float64Array, rtol: number, atol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]!);
    if (!(Math.abs(a[i]! - b[i]!) <= tol)) expect.fail(`${what}[${i}]: fused ${a[i]} vs unfused ${b[i]}`);
  }
}

async function expectSame(fused: Evaluated, plain: Evaluated, rtol: number, atol: number): Promise<void> {
  expectClose(fused.out, plain.out, rtol, atol, 'forward');
  fused.grads.forEach((g, i) => expectClose(g, plain.grads[i]!, rtol, atol, `gradient ${i}`));
}

describe('fused ops: gradient checks (float64, CPU)', () => {
  it('rmsNorm: gradients of x and weight, random shapes', () => {
    fc.assert(
      fc.property(
        shapeArb(4).chain((s) => fc.tuple(input(s), input([s[s.length - 1]!]), fc.constantFrom(1e-6, 0.1))),
        ([x, w, eps]) => {
          if (!rowsAwayFromZero(x.data, x.shape[x.shape.length - 1]!)) return;
          expectOk(gradCheck((a, ww) => rmsNorm(a, ww, eps), [x, w]));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('rmsNorm: gradient of x alone (frozen weight)', () => {
    fc.assert(
      fc.property(shapeArb(4).chain((s) => fc.tuple(input(s), input([s[s.length - 1]!]))), ([x, w]) => {
        if (!rowsAwayFromZero(x.data, x.shape[x.shape.length - 1]!)) return;
        expectOk(gradCheck((a, ww) => rmsNorm(a, ww, 1e-6), [x, { ...w, check: false }]));
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  for (const [name, f] of [
    ['softmax', softmax],
    ['logSoftmax', logSoftmax],
  ] as const) {
    it(`${name}(x, -1, { bias }): gradients of scores and broadcast bias`, () => {
      fc.assert(
        fc.property(biasPair(3).chain(([a, b]) => fc.tuple(input(a, -3, 3), input(b, -3, 3))), ([x, b]) => {
          expectOk(gradCheck((s, bb) => f(s, -1, { bias: bb }), [x, b]));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('softmax with a bias along another dim (unfused fallback)', () => {
    fc.assert(
      fc.property(biasPair(3).chain(([a, b]) => fc.tuple(input(a), input(b), fc.integer({ min: 0, max: a.length - 1 }))), ([x, b, d]) => {
        expectOk(gradCheck((s, bb) => softmax(s, d, { bias: bb }), [x, b]));
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});

/**
 * Fused vs unfused on `backend`: random shapes (rank 1–4, size-1 dims, broadcast biases),
 * forward and gradients of both inputs.
 */
function describeFusedParity(backend: string, dtype: 'float32' | 'float64', rtol: number, atol: number, maxDim: number): void {
  const runs = Math.max(10, Math.ceil(RUNS / 5));
  describe(`fused ops equal the unfused compositions on ${backend} (${dtype})`, () => {
    it('rmsNorm(x, w, eps) == w · (x · rsqrt(mean(x²) + eps))', async () => {
      await T.setBackend(backend);
      await fc.assert(
        fc.asyncProperty(shapeArb(maxDim).chain((s) => fc.tuple(input(s), input([s[s.length - 1]!]))), async ([x, w]) => {
          // Near-zero rows make dx a cancellation of two large terms; both forms are then noise.
          if (!rowsAwayFromZero(x.data, x.shape[x.shape.length - 1]!)) return;
          const fused = await evaluate((a, ww) => rmsNorm(a, ww, 1e-6), [x, w], dtype);
          const plain = await evaluate((a, ww) => rmsNormComposed(a, ww, 1e-6), [x, w], dtype);
          await expectSame(fused, plain, rtol, atol);
        }),
        { numRuns: runs, endOnFailure: true },
      );
    });

    it('softmax(x, -1, { bias }) == softmax(x + bias, -1)', async () => {
      await T.setBackend(backend);
      await fc.assert(
        fc.asyncProperty(biasPair(maxDim).chain(([a, b]) => fc.tuple(input(a, -8, 8), input(b, -8, 8))), async ([x, b]) => {
          const fused = await evaluate((s, bb) => softmax(s, -1, { bias: bb }), [x, b], dtype);
          const plain = await evaluate((s, bb) => softmax(add(s, bb), -1), [x, b], dtype);
          await expectSame(fused, plain, rtol, atol);
        }),
        { numRuns: runs, endOnFailure: true },
      );
    });

    it('T5 attention shape: [B, H, Lq, Lk] scores with a [1, H, Lq, Lk] bias and a [B, 1, 1, Lk] mask', async () => {
      await T.setBackend(backend);
      for (const [B, H, Lq, Lk] of [
        [2, 3, 5, 7],
        [1, 2, 1, 300],
        [2, 2, 4, 16],
      ] as const) {
        const x = fc.sample(input([B, H, Lq, Lk], -4, 4), { numRuns: 1, seed: Lk })[0]!;
        const pos = fc.sample(input([1, H, Lq, Lk], -4, 4), { numRuns: 1, seed: Lk + 1 })[0]!;
        const mask = { shape: [B, 1, 1, Lk], data: Array.from({ length: B * Lk }, (_, i) => (i % 3 === 2 ? -1e9 : 0)) };
        for (const bias of [pos, mask]) {
          const fused = await evaluate((s, bb) => softmax(s, -1, { bias: bb }), [x, bias], dtype);
          const plain = await evaluate((s, bb) => softmax(add(s, bb), -1), [x, bias], dtype);
          await expectSame(fused, plain, rtol, atol);
        }
      }
    });
  });
}

describeFusedParity('cpu', 'float64', 1e-12, 1e-13, 5);
describeFusedParity('cpu', 'float32', 1e-6, 1e-6, 5);

await withWebGPU('fused ops on webgpu', async () => {
  T.registerBackend(await T.createWebGPUBackend({ name: 'webgpu-gpu-profile', profile: 'gpu' }));
  describeFusedParity('webgpu', 'float32', 1e-5, 1e-5, 40);
  describeFusedParity('webgpu-gpu-profile', 'float32', 1e-5, 1e-5, 40);
});
