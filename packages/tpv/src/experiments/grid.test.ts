import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cell, type CellContext, ExperimentError, type GridSpec, cellDirName, expandGrid, parseGridSpec, runGrid } from './grid.js';
import { Journal } from './journal.js';

const work = mkdtempSync(join(tmpdir(), 'tpv-grid-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const spec: GridSpec = parseGridSpec({
  name: 'fewshot',
  cells: [
    { kind: 'prompt-tuning', tasks: ['sst2_text'], origins: [0, 1] },
    { kind: 'prompt-tuning', tasks: ['imdb_text'], origins: [0, 1], shots: [0], init: { spot: 'sst2_text' } },
  ],
});

/** A fake trainer: records calls, and "crashes" (throws) on the call numbered `failAt`. */
function fake(failAt?: number) {
  const calls: { key: string; resume: boolean }[] = [];
  const train = async (cell: Cell, ctx: CellContext) => {
    calls.push({ key: cell.key, resume: ctx.resume });
    if (calls.length === failAt) throw new Error('killed');
    return { metrics: { [cell.tasks[0]!]: { exact_match: 0.5 + cell.origin / 10, f1: 0.6 } }, bestStep: 1, bestLoss: 0.1, promptPath: join(ctx.outDir, 'best') };
  };
  return { calls, train };
}

describe('experiment grid', () => {
  it('expands cells to stable keys in spec order', () => {
    expect(expandGrid(spec).map((c) => c.key)).toEqual([
      'prompt-tuning/sst2_text/random/full/o0', 'prompt-tuning/sst2_text/random/full/o1',
      'prompt-tuning/imdb_text/spot:sst2_text/k0/o0', 'prompt-tuning/imdb_text/spot:sst2_text/k0/o1',
    ]);
    expect(cellDirName('prompt-tuning/imdb_text/tpv:a+b/k0/o1')).toBe('prompt-tuning__imdb_text__tpv:a+b__k0__o1');
  });

  it('an interrupted grid resumed runs only the remaining cells', async () => {
    const out = join(work, 'resume');
    const journal = new Journal(join(out, 'journal.jsonl'));
    const first = fake(3);
    await expect(runGrid(spec, { journal, outDir: out, train: first.train })).rejects.toThrow('killed');
    expect(first.calls).toHaveLength(3);
    expect(new Journal(journal.path).records()).toHaveLength(2);
    // The killed cell left a training checkpoint behind: the resumed call must be told to resume.
    const killed = join(out, 'runs', cellDirName(first.calls[2]!.key), 'train', 'checkpoint');
    mkdirSync(killed, { recursive: true });
    writeFileSync(join(killed, 'state.json'), '{}');
    const second = fake();
    const lines: string[] = [];
    const s = await runGrid(spec, { journal: new Journal(journal.path), outDir: out, train: second.train, log: (l) => lines.push(l) });
    expect(second.calls).toEqual([
      { key: 'prompt-tuning/imdb_text/spot:sst2_text/k0/o0', resume: true },
      { key: 'prompt-tuning/imdb_text/spot:sst2_text/k0/o1', resume: false },
    ]);
    expect(s).toEqual({ ran: second.calls.map((c) => c.key), skipped: expandGrid(spec).slice(0, 2).map((c) => c.key), total: 4 });
    expect(lines.some((l) => /\[4\/4\] done .*ETA/.test(l))).toBe(true);
    const recs = new Journal(journal.path).records();
    expect(recs.map((r) => r.key)).toEqual(expandGrid(spec).map((c) => c.key));
    expect(recs[2]).toMatchObject({ experiment: 'fewshot', init: 'spot:sst2_text', shots: 0, origin: 0, metrics: { imdb_text: { exact_match: 0.5, f1: 0.6 } } });
    // A third call has nothing to do.
    const third = fake();
    expect((await runGrid(spec, { journal: new Journal(journal.path), outDir: out, train: third.train })).ran).toEqual([]);
    expect(third.calls).toEqual([]);
  });

  it('clears a cell folder that has no checkpoint before rerunning it', async () => {
    const out = join(work, 'stale');
    const dir = join(out, 'runs', cellDirName(expandGrid(spec)[0]!.key));
    mkdirSync(join(dir, 'train'), { recursive: true });
    writeFileSync(join(dir, 'train', 'junk'), 'x');
    const f = fake();
    await runGrid({ ...spec, cells: [spec.cells[0]!] }, { journal: new Journal(join(out, 'j.jsonl')), outDir: out, train: async (c, ctx) => {
      expect(existsSync(join(ctx.outDir, 'train', 'junk'))).toBe(false);
      return f.train(c, ctx);
    } });
    expect(f.calls.every((c) => !c.resume)).toBe(true);
  });

  it('rejects bad specs with a message naming the field', () => {
    expect(() => parseGridSpec({ name: 'x', cells: [{ kind: 'nope', tasks: ['a'], origins: [0] }] })).toThrow(/cells\[0\]\.kind/);
    expect(() => parseGridSpec({ name: 'x', cells: [{ kind: 'addition', tasks: ['a'], origins: [0] }] })).toThrow(ExperimentError);
    expect(() => parseGridSpec({ name: 'x', cells: [{ kind: 'prompt-tuning', tasks: ['a'], origins: [-1] }] })).toThrow(/origins/);
    expect(() => parseGridSpec({ name: 'x', cells: [{ kind: 'prompt-tuning', tasks: ['a'], origins: [0], init: { tpv: [] } }] })).toThrow(/init/);
  });
});
