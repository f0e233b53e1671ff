import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { bundledDataDir, bundledDatasetFor, loadBundledTask } from './bundled.js';
import { TaskError } from './errors.js';
import { formatExamples } from './format.js';
import { TASK_NAMES, TEXT_TASK_NAMES } from './registry.js';

/** Splits each bundled folder holds (the staged sources lack some). */
const EXPECTED_SPLITS: Record<string, string[]> = {
  mnli_text: ['train', 'validation_matched'],
  qnli_text: ['validation'],
  scitail_text: ['test'],
  snli_text: ['test', 'validation'],
  dbpedia_text: ['test', 'train'],
  trec_coarse_text: ['test', 'train'],
  ag_news_text: ['test', 'train'],
  yahoo_text: ['test', 'train'],
  sst2_text: ['test', 'train', 'validation'],
  yelp_polarity_text: ['test'],
  sst5_text: ['test', 'train', 'validation'],
  imdb_text: ['test', 'train'],
};

describe('bundled samples', () => {
  it('bundledDataDir resolves to packages/tpv/data', () => {
    const d = bundledDataDir();
    expect(d.replace(/\\/g, '/')).toMatch(/packages\/tpv\/data\/?$/);
    expect(existsSync(join(d, 'SOURCES.md'))).toBe(true);
  });

  it('stay small: <= 200 train and <= 100 other rows per file, < 1.5 MB in total', () => {
    const d = bundledDataDir();
    let total = 0;
    for (const ds of readdirSync(d)) {
      const p = join(d, ds);
      if (!statSync(p).isDirectory() || ds === 'tools') continue;
      expect(existsSync(join(p, 'meta.json')), ds).toBe(true);
      for (const f of readdirSync(p)) {
        total += statSync(join(p, f)).size;
        if (!f.endsWith('.jsonl')) continue;
        const n = readFileSync(join(p, f), 'utf8').trim().split('\n').length;
        expect(n, `${ds}/${f}`).toBeLessThanOrEqual(f.startsWith('train') ? 200 : 100);
      }
    }
    expect(total).toBeLessThan(1.5e6);
  });

  it.each(TEXT_TASK_NAMES.map((n) => [n]))('%s loads, formats every row, and has every class', async (name) => {
    const rows = await loadBundledTask(name);
    expect(Object.keys(rows).sort()).toEqual(EXPECTED_SPLITS[name]);
    for (const [split, rs] of Object.entries(rows)) {
      const ex = formatExamples(name, rs!);
      expect(ex.length, split).toBeGreaterThan(0);
      // round-robin selection keeps every class of the source present
      expect(new Set(ex.map((e) => e.label)).size, `${name}/${split}`).toBeGreaterThanOrEqual(2);
    }
  });

  it('numeric variants read the same folders', async () => {
    for (const name of TASK_NAMES) expect(bundledDatasetFor(name).dir.length).toBeGreaterThan(0);
    expect(bundledDatasetFor('sst5_text').dir).toBe('glue-sst2');
    expect(bundledDatasetFor('sst5_text', { sst5Mode: 'real' }).dir).toBe('sst5');
    expect(bundledDatasetFor('sst5').dir).toBe('sst5');
    const rows = await loadBundledTask('yahoo');
    expect(formatExamples('yahoo', rows['train']!.slice(0, 1))[0]!.target).toMatch(/^\d$/);
  });

  it('adapts SciTail and Yahoo rows to the HF schema', async () => {
    const sci = (await loadBundledTask('scitail_text'))['test']!;
    expect(Object.keys(sci[0]!).sort()).toEqual(['gold_label', 'sentence1', 'sentence2']);
    expect(new Set(sci.map((r) => r['gold_label']))).toEqual(new Set(['entailment', 'neutral']));
    const y = (await loadBundledTask('yahoo_text'))['test']![0]!;
    expect(y['question_title']).toBe(y['text']);
    expect(y['question_content']).toBe('');
    expect(y['best_answer']).toBe('');
  });

  it('unknown names throw UNKNOWN_TASK', async () => {
    await expect(loadBundledTask('nope')).rejects.toBeInstanceOf(TaskError);
  });
});
