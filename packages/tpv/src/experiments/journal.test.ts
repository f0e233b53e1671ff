import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, type JournalRecord, parseJournal } from './journal.js';

const work = mkdtempSync(join(tmpdir(), 'tpv-journal-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rec = (key: string, em = 0.5): JournalRecord => ({
  experiment: 'e', key, kind: 'prompt-tuning', tasks: ['sst2_text'], origin: 0, init: 'random', shots: 10,
  metrics: { sst2_text: { exact_match: em, f1: em } }, bestStep: 4, bestLoss: 1.5, promptPath: '/p', started: 't0', finished: 't1',
});

describe('results journal', () => {
  it('round-trips records and answers isDone', () => {
    const j = new Journal(join(work, 'a', 'journal.jsonl'));
    expect(j.records()).toEqual([]);
    j.append(rec('k1'));
    j.append(rec('k2', 0.75));
    const again = new Journal(j.path);
    expect(again.read()).toEqual({ records: [rec('k1'), rec('k2', 0.75)], problems: [] });
    expect(again.isDone('k2')).toBe(true);
    expect(again.isDone('k3')).toBe(false);
    expect(again.get('k2')?.metrics.sst2_text?.exact_match).toBe(0.75);
    // One line per record, each ending in a newline.
    expect(readFileSync(j.path, 'utf8').split('\n')).toHaveLength(3);
  });

  it('skips and reports a truncated last line, and a later append does not fuse with it', () => {
    const j = new Journal(join(work, 'b.jsonl'));
    j.append(rec('k1'));
    const line = JSON.stringify(rec('k2'));
    appendFileSync(j.path, line.slice(0, 40)); // a write cut short by a crash
    const r = new Journal(j.path).read();
    expect(r.records.map((x) => x.key)).toEqual(['k1']);
    expect(r.problems).toEqual([{ line: 2, reason: expect.stringMatching(/truncated/), truncated: true }]);
    expect(new Journal(j.path).isDone('k2')).toBe(false);
    const j2 = new Journal(j.path);
    j2.append(rec('k2'));
    const after = new Journal(j.path).read();
    expect(after.records.map((x) => x.key)).toEqual(['k1', 'k2']);
    // The fragment is now a corrupt middle line: still reported, no longer "truncated".
    expect(after.problems).toMatchObject([{ line: 2, truncated: false }]);
  });

  it('keeps a complete last record that only lacks its newline, and rejects non-records', () => {
    const text = `${JSON.stringify(rec('a'))}\n{"x":1}\n${JSON.stringify(rec('b'))}`;
    const r = parseJournal(text);
    expect(r.records.map((x) => x.key)).toEqual(['a', 'b']);
    expect(r.problems).toMatchObject([{ line: 2, reason: 'not a journal record' }]);
  });
});
