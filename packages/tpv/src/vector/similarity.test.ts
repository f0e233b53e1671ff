import { describe, expect, it } from 'vitest';
import { VectorError } from './errors.js';
import { groupSimilarityMatrix, originPairMatrix, RQ1B_PROMPT_PROTOCOL, RQ1B_VECTOR_PROTOCOL } from './similarity.js';
import { cosineSimilarity, similarityMatrix, TaskPromptVector } from './task-prompt-vector.js';

/** Deterministic pseudo-normal float32 tables (Box–Muller on a small LCG). */
function randomTable(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** The plain float64 reference: dot / (‖x‖‖y‖) in textbook order. */
function refCos(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    d += x[i]! * y[i]!;
    nx += x[i]! * x[i]!;
    ny += y[i]! * y[i]!;
  }
  return d / Math.sqrt(nx * ny);
}

const SHAPE = [100, 768];
const N = 76_800;

describe('cosine similarity against a float64 reference (the paper’s 76,800-dim comparison)', () => {
  it('prompt and vector matrices agree with the reference to 1e-6', () => {
    const origins = [randomTable(1, N), randomTable(2, N)];
    const tuned = [0, 1, 2].map((t) => origins.map((o, k) => {
      // Tuned = origin + a task direction shared across origins + noise, like trained prompts.
      const dir = randomTable(100 + t, N, 0.3);
      const noise = randomTable(200 + 10 * t + k, N, 0.1);
      return Float32Array.from(o, (x, i) => x + dir[i]! + noise[i]!);
    }));
    const vectors = tuned.flatMap((ts, t) => ts.map((data, k) => TaskPromptVector.fromPrompts({ data, shape: SHAPE }, { data: origins[k]!, shape: SHAPE }, { tasks: `task${t}`, modelId: 't5-base', originId: `origin_${k}` })));
    const prompts = tuned.flat().map((data) => ({ data, shape: SHAPE }));
    const mv = similarityMatrix(vectors);
    const mp = similarityMatrix(prompts);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        const vi = vectors[i]!.toFloat64Array();
        const vj = vectors[j]!.toFloat64Array();
        expect(Math.abs(mv[i]![j]! - refCos(vi, vj))).toBeLessThan(1e-6);
        expect(Math.abs(mp[i]![j]! - refCos(prompts[i]!.data, prompts[j]!.data))).toBeLessThan(1e-6);
      }
    }
    // Same task across origins: vectors much more similar than prompts of different tasks' vectors.
    expect(mv[0]![1]!).toBeGreaterThan(0.5);
    expect(Math.abs(mv[0]![2]!)).toBeLessThan(0.1);
  });

  it('is robust where the textbook formula over- or underflows (float64 items, scaled vectors)', () => {
    const huge = Float64Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 3e200 : -2e200));
    const tiny = Float64Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 1e-200 : -3e-200));
    expect(Number.isFinite(refCos(huge, huge))).toBe(false); // ∞/∞ in the textbook order
    expect(Number.isFinite(refCos(tiny, tiny))).toBe(false); // 0/0
    expect(cosineSimilarity(huge, huge)).toBeCloseTo(1, 12);
    expect(cosineSimilarity(tiny, tiny)).toBeCloseTo(1, 12);
    const a = Float64Array.from(huge, (x) => x / 1e200);
    const b = Float64Array.from(tiny, (x) => x * 1e200);
    expect(cosineSimilarity(huge, tiny)).toBeCloseTo(refCos(a, b), 12);
    // Extreme float32 values through vectors, scaled far beyond float32.
    const t = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 3e38 : -1e-45));
    const v = TaskPromptVector.fromPrompts(t, new Float32Array(64), { tasks: 'x', modelId: 'm', shape: [64] });
    expect(cosineSimilarity(v.scale(1e250), v)).toBeCloseTo(1, 12);
    expect(cosineSimilarity(new Float32Array(4), Float32Array.of(1, 2, 3, 4))).toBe(0);
    expect(() => cosineSimilarity(new Float32Array(3), new Float32Array(4))).toThrow(VectorError);
    expect(() => cosineSimilarity(Float32Array.of(Number.NaN), Float32Array.of(1))).toThrow(/NaN/);
  });
});

describe('RQ1b group protocol', () => {
  // 2 tasks × 3 origins, small tables with hand-checkable cosines.
  const x = (a: number, b: number) => Float32Array.of(a, b);
  const groups = [
    [x(1, 0), x(0, 1), x(1, 1)],
    [x(1, 0), x(-1, 0), x(0, 1)],
  ];

  it('averages the reference’s origin pairs (o1 > o2 for prompts; o1 ≥ o2 off the diagonal for vectors)', () => {
    const p = groupSimilarityMatrix(groups, RQ1B_PROMPT_PROTOCOL);
    expect(p.pairs).toEqual([[3, 3], [3, 3]]);
    // Task 0 vs itself, pairs (1,0), (2,0), (2,1): cos = 0, 1/√2, 1/√2.
    expect(p.values[0]![0]).toBeCloseTo((0 + 2 * Math.SQRT1_2) / 3, 12);
    // Task 0 (row, o1) vs task 1 (column, o2): (1,0): cos((0,1),(1,0)) = 0; (2,0): cos((1,1),(1,0)) = 1/√2; (2,1): cos((1,1),(−1,0)) = −1/√2.
    expect(p.values[0]![1]).toBeCloseTo(0, 12);
    // Task 1 (row, o1) vs task 0 (column, o2): (1,0): cos((−1,0),(1,0)) = −1; (2,0): 0; (2,1): 1.
    expect(p.values[1]![0]).toBeCloseTo(0, 12);
    const v = groupSimilarityMatrix(groups, RQ1B_VECTOR_PROTOCOL);
    expect(v.pairs).toEqual([[3, 6], [6, 3]]);
    // Adds the same-origin pairs (0,0) = 1, (1,1) = cos((0,1),(−1,0)) = 0, (2,2) = 1/√2.
    expect(v.values[0]![1]).toBeCloseTo((1 + 0 + Math.SQRT1_2) / 6, 12);
    const all = groupSimilarityMatrix(groups, { sameTask: 'distinct', crossTask: 'all' });
    expect(all.pairs).toEqual([[6, 9], [9, 6]]);
    expect(all.values[0]![1]).toBeCloseTo(all.values[1]![0]!, 12); // 'all' is symmetric
    expect(all.std[0]![0]).toBeGreaterThan(0);
  });

  it('exposes the per-origin-pair matrices and rejects ragged groups', () => {
    const m = originPairMatrix(groups[0]!, groups[1]!);
    expect(m[2]![1]).toBeCloseTo(-Math.SQRT1_2, 12);
    expect(() => groupSimilarityMatrix([[x(1, 0)], [x(1, 0), x(0, 1)]])).toThrow(/one item per origin/);
    expect(() => groupSimilarityMatrix(groups, { sameTask: 'weird' as never })).toThrow(VectorError);
  });
});
