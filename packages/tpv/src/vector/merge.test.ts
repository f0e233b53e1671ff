import { Generator } from '@tpvjs/tensor';
import { describe, expect, it } from 'vitest';
import { VectorError } from './errors.js';
import { mergeVectors, topKMask } from './merge.js';
import { TaskPromptVector } from './task-prompt-vector.js';

const v = (values: number[], tasks: string, originId = 'origin_0') =>
  TaskPromptVector.fromPrompts(Float32Array.from(values), new Float32Array(values.length), { tasks, modelId: 't5-base', originId, shape: [1, values.length] });
const vals = (x: TaskPromptVector) => [...x.toFloat64Array()];

describe('mergeVectors', () => {
  const a = v([1, -2, 3, -4], 'a');
  const b = v([-3, 1, 2, 0.5], 'b');
  const c = v([2, -1, -5, -1], 'c');

  it('sum and mean', () => {
    const s = mergeVectors([a, b], { method: 'sum' });
    expect(vals(s)).toEqual([-2, -1, 5, -3.5]);
    expect(s.equals(a.add(b), { metadata: false })).toBe(true);
    expect(s.taskString).toBe('+ a + b');
    expect(s.provenance).toMatchObject({ op: 'merge', method: 'sum', lambda: 1, count: 2, inputs: ['+ a', '+ b'] });
    expect(vals(mergeVectors([a, b, c], { method: 'mean' }))).toEqual([0, -2 / 3, 0, -4.5 / 3]);
    expect(vals(mergeVectors([a, b], { method: 'sum', lambda: 0.5 }))).toEqual([-1, -0.5, 2.5, -1.75]);
    expect(vals(mergeVectors([a, b], { method: 'sum', weights: [2, 1] }))).toEqual([-1, -3, 8, -7.5]);
    expect(mergeVectors([a]).equals(a, { metadata: false })).toBe(true);
  });

  it('TIES: trim to the top-k magnitudes, elect signs by summed magnitude, disjoint mean', () => {
    // density 0.5 of 4 → 2 entries each:
    //   a → [0, 0, 3, −4], b → [−3, 0, 2, 0], c → [2, 0, −5, 0]
    //   signs: Σ = [−1, 0, 0, −4] → [−, +, +, −] (a zero sum elects +)
    //   agreeing means: [−3, (none) 0, (3 + 2)/2, −4]
    const t = mergeVectors([a, b, c], { method: 'ties', density: 0.5 });
    expect(vals(t)).toEqual([-3, 0, 2.5, -4]);
    expect(t.taskString).toBe('+ a + b + c');
    expect(t.provenance).toMatchObject({ method: 'ties', density: 0.5, lambda: 1 });
    // Weights multiply the trimmed entries after the election (PEFT's order).
    expect(vals(mergeVectors([a, b, c], { method: 'ties', density: 0.5, weights: [1, 2, 1] }))).toEqual([-6, 0, 3.5, -4]);
    expect(vals(mergeVectors([a, b, c], { method: 'ties', density: 0.5, lambda: 2 }))).toEqual([-6, 0, 5, -8]);
    // density 1 keeps everything: signs [+(0), −, +(0), −] → means [ (1+2)/2, (−2−1)/2, (3+2)/2, (−4−1)/2 ]
    expect(vals(mergeVectors([a, b, c], { method: 'ties', density: 1 }))).toEqual([1.5, -1.5, 2.5, -2.5]);
  });

  it('TIES trimming keeps exactly floor(density·n) entries, ties broken by lower index', () => {
    expect([...topKMask([1, -1, 1, 0.5], 2)]).toEqual([1, 1, 0, 0]);
    expect([...topKMask([0.1, -3, 2, 3], 2)]).toEqual([0, 1, 0, 1]);
    expect([...topKMask([1, 2], 0)]).toEqual([0, 0]);
    expect([...topKMask([1, 2], 5)]).toEqual([1, 1]);
    const t = mergeVectors([v([1, -1, 1, 0.5], 'x')], { method: 'ties', density: 0.6 }); // floor(2.4) = 2
    expect(vals(t)).toEqual([1, -1, 0, 0]);
  });

  it('DARE: drop with probability 1 − density, rescale by 1/density, seeded and reproducible', () => {
    const n = 64;
    const ones = v(new Array(n).fill(1), 'ones');
    const twos = v(new Array(n).fill(2), 'twos');
    const d = mergeVectors([ones, twos], { method: 'dare', density: 0.25, seed: 7 });
    // Expected from the same generator stream: one uniforms(n) draw per vector, in input order.
    const g = new Generator(7);
    const u1 = g.uniforms(n);
    const u2 = g.uniforms(n);
    const expected = Array.from({ length: n }, (_, i) => (u1[i]! < 0.25 ? 4 : 0) + (u2[i]! < 0.25 ? 8 : 0));
    expect(vals(d)).toEqual(expected);
    expect(mergeVectors([ones, twos], { method: 'dare', density: 0.25, seed: 7 }).equals(d)).toBe(true);
    expect(vals(mergeVectors([ones, twos], { method: 'dare', density: 0.25, seed: 8 }))).not.toEqual(expected);
    expect(d.provenance).toMatchObject({ method: 'dare', density: 0.25, seed: 7 });
    // density 1 keeps everything: the plain sum.
    expect(vals(mergeVectors([ones, twos], { method: 'dare', density: 1 }))).toEqual(new Array(n).fill(3));
    // Unbiased: the rescaled mean stays close to the true one.
    const big = v(new Array(20_000).fill(1), 'big');
    const m = vals(mergeVectors([big], { method: 'dare', density: 0.1, seed: 1 }));
    const mean = m.reduce((s, x) => s + x, 0) / m.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.08);
    expect(new Set(m)).toEqual(new Set([0, 10]));
  });

  it('refuses bad input with typed errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof VectorError ? e.code : 'untyped';
      }
      return 'ok';
    };
    expect(code(() => mergeVectors([]))).toBe('EMPTY');
    expect(code(() => mergeVectors([a], { method: 'median' as never }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a], { method: 'ties', density: 0 }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a], { method: 'dare', density: 1.5 }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a], { method: 'dare', seed: -1 }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a], { method: 'sum', density: 0.5 }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a, b], { weights: [1] }))).toBe('BAD_ARGUMENT');
    expect(code(() => mergeVectors([a], { lambda: Number.NaN }))).toBe('BAD_ARGUMENT');
    const other = TaskPromptVector.fromPrompts(Float32Array.of(1, 2, 3, 4), new Float32Array(4), { tasks: 'o', modelId: 't5-large', shape: [1, 4] });
    expect(code(() => mergeVectors([a, other], { method: 'ties' }))).toBe('MODEL_MISMATCH');
    expect(mergeVectors([a, other], { method: 'ties', force: true }).modelId).toBe('t5-base');
    // Different origins merge (the paper applies vectors across origins); the origin id is dropped.
    expect(mergeVectors([a, v([1, 1, 1, 1], 'd', 'origin_1')]).originId).toBeUndefined();
    expect(mergeVectors([a, b]).originId).toBe('origin_0');
  });
});
