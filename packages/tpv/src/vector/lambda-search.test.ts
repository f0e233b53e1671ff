import { describe, expect, it } from 'vitest';
import { VectorError } from './errors.js';
import { LAMBDA_GRID, searchLambda } from './lambda-search.js';
import { TaskPromptVector } from './task-prompt-vector.js';

const origin = Float32Array.of(1, 2, 3, 4);
const tuned = Float32Array.of(2, 2, 1, 8);
const tau = TaskPromptVector.fromPrompts(tuned, origin, { tasks: '+ mnli_text + qnli_text', modelId: 't5-base', shape: [2, 2] });

describe('searchLambda', () => {
  it('uses the reference grid np.arange(0, 1.05, 0.05), 21 values filled as i·0.05', () => {
    expect(LAMBDA_GRID).toHaveLength(21);
    expect(LAMBDA_GRID[0]).toBe(0);
    expect(LAMBDA_GRID[3]).toBe(0.15000000000000002); // numpy prints the same
    expect(LAMBDA_GRID[20]).toBe(1);
  });

  it('hands each candidate θ + λτ to the evaluator, in grid order, and picks the strict maximum', async () => {
    const seen: number[] = [];
    const scores = new Map([[0, 0.2], [0.5, 0.9], [0.75, 0.9], [1, 0.8]]);
    const r = await searchLambda(tau, origin, async (prompt, lambda) => {
      seen.push(lambda);
      expect([...prompt]).toEqual([...tau.applyTo(origin, lambda)]);
      return scores.get(lambda) ?? 0.1;
    }, { grid: [0, 0.25, 0.5, 0.75, 1] });
    expect(seen).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // 0.75 ties 0.5 but is not strictly better: the first maximum wins.
    expect(r.lambda).toBe(0.5);
    expect(r.score).toBe(0.9);
    expect(r.table.map((t) => t.score)).toEqual([0.2, 0.1, 0.9, 0.9, 0.8]);
  });

  it('starts from best = 0 at λ = 1: all-zero scores keep λ = 1 with score 0', async () => {
    const r = await searchLambda(tau, origin, () => 0);
    expect(r.lambda).toBe(1);
    expect(r.score).toBe(0);
    expect(r.table).toHaveLength(21);
  });

  it('a single positive score anywhere is taken, even a tiny one at λ = 0', async () => {
    const r = await searchLambda(tau, origin, (_p, l) => (l === 0 ? 1e-9 : 0));
    expect(r.lambda).toBe(0);
    expect(r.score).toBe(1e-9);
    // λ = 1 gives back the tuned prompt exactly.
    let atOne: Float32Array | undefined;
    await searchLambda(tau, origin, (p, l) => {
      if (l === 1) atOne = p;
      return 0;
    });
    expect([...atOne!]).toEqual([...tuned]);
  });

  it('rejects non-finite scores and bad grids with typed errors', async () => {
    await expect(searchLambda(tau, origin, () => Number.NaN)).rejects.toMatchObject({ code: 'BAD_SCORE' });
    await expect(searchLambda(tau, origin, () => 'x' as unknown as number)).rejects.toBeInstanceOf(VectorError);
    await expect(searchLambda(tau, origin, () => 1, { grid: [] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(searchLambda(tau, origin, () => 1, { grid: [0, Infinity] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
