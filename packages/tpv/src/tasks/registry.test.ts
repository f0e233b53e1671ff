import { describe, expect, it } from 'vitest';

import { loadBundledTask } from './bundled.js';
import { TaskError } from './errors.js';
import { formatExample } from './format.js';
import {
  LARGE_DATASETS,
  NUMERIC_TASK_NAMES,
  SMALL_DATASETS,
  TASK_NAMES,
  TEXT_TASK_NAMES,
  getTask,
  isTaskName,
  listTasks,
  type TaskSpec,
} from './registry.js';

type R = Record<string, string>;

/**
 * The spec §4 templates, written out independently of the registry's
 * segment lists, so a wrong segment shows up as a mismatch.
 */
const SPEC_TEMPLATES: Record<string, (r: R) => string> = {
  mnli_text: (r) => `mnli premise: ${r.premise} hypothesis: ${r.hypothesis}`,
  qnli_text: (r) => `qnli question: ${r.question} sentence: ${r.sentence}`,
  scitail_text: (r) => `scitail premise: ${r.sentence1} hypothesis: ${r.sentence2}`,
  snli_text: (r) => `snli premise: ${r.premise} hypothesis: ${r.hypothesis}`,
  dbpedia_text: (r) => `dbpedia What is the category for following text: title: ${r.title} content: ${r.content}`,
  trec_coarse_text: (r) => `trec_coarse What is this question asking for: ${r.text}`,
  ag_news_text: (r) => `ag_news What is the category for following text: ${r.text}`,
  yahoo_text: (r) =>
    `yahoo What is the category for following text: title: ${r.question_title} content: ${r.question_content} answer: ${r.best_answer}`,
  sst2_text: (r) => `sst2 sentence: ${r.sentence}`,
  yelp_polarity_text: (r) => `yelp_polarity sentence: ${r.text}`,
  // The reference quirk: "sst5_text" is SST2Text.
  sst5_text: (r) => `sst2 sentence: ${r.sentence}`,
  imdb_text: (r) => `imdb sentence: ${r.text}`,
};

/** Spec §4 label lists (id -> word). */
const SPEC_LABELS: Record<string, string[]> = {
  mnli_text: ['entailment', 'neutral', 'contradiction'],
  qnli_text: ['entailment', 'not_entailment'],
  scitail_text: ['entailment', 'neutral'],
  snli_text: ['entailment', 'neutral', 'contradiction'],
  dbpedia_text: [
    'Company',
    'Educational Institution',
    'Artist',
    'Athlete',
    'Office Holder',
    'Mean Of Transportation',
    'Building',
    'Natural Place',
    'Village',
    'Animal',
    'Plant',
    'Album',
    'Film',
    'Written Work',
  ],
  trec_coarse_text: ['Abbreviation', 'Entity', 'Description', 'Person', 'Location', 'Quantity'],
  ag_news_text: ['World', 'Sports', 'Business', 'Sci/Tech'],
  yahoo_text: ['Society', 'Science', 'Health', 'Education', 'Computers', 'Sports', 'Business', 'Entertainment', 'Family', 'Politics'],
  sst2_text: ['negative', 'positive'],
  yelp_polarity_text: ['negative', 'positive'],
  sst5_text: ['negative', 'positive'],
  imdb_text: ['negative', 'positive'],
};

/** Spec §4 F1 type and positive class. */
const SPEC_METRIC: Record<string, string> = {
  mnli_text: 'macro',
  qnli_text: 'f1:not_entailment',
  scitail_text: 'f1:neutral',
  snli_text: 'macro',
  dbpedia_text: 'macro',
  trec_coarse_text: 'macro',
  ag_news_text: 'macro',
  yahoo_text: 'macro',
  sst2_text: 'f1:positive',
  yelp_polarity_text: 'f1:positive',
  sst5_text: 'f1:positive',
  imdb_text: 'f1:positive',
};

const metricTag = (t: TaskSpec): string => (t.metric.kind === 'f1' ? `f1:${t.metric.posLabel}` : 'macro');

describe('registry', () => {
  it('has exactly the 12 *_text tasks and their 12 numeric variants', () => {
    expect(TEXT_TASK_NAMES).toHaveLength(12);
    expect(NUMERIC_TASK_NAMES).toHaveLength(12);
    expect(new Set(TASK_NAMES).size).toBe(24);
    expect(listTasks().map((t) => t.name)).toEqual([...TASK_NAMES]);
    for (const n of TASK_NAMES) expect(isTaskName(n)).toBe(true);
    expect(isTaskName('wnli')).toBe(false);
  });

  it.each(TEXT_TASK_NAMES.map((n) => [n]))('%s: labels and metric follow spec §4', (name) => {
    const t = getTask(name);
    expect(t.labels).toEqual(SPEC_LABELS[name]);
    expect(metricTag(t)).toBe(SPEC_METRIC[name]);
    expect(t.numericLabels).toBe(false);
  });

  it.each(TEXT_TASK_NAMES.map((n) => [n]))('%s: template formats a real bundled row exactly as spec §4', async (name) => {
    const t = getTask(name);
    const splits = await loadBundledTask(name);
    const [split, rows] = Object.entries(splits)[0]!;
    expect(rows!.length).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      const row = rows![i]! as R;
      const ex = formatExample(t, row, i);
      expect(ex.source, `${name}/${split}[${i}]`).toBe(SPEC_TEMPLATES[name]!(row));
      expect(ex.target).toBe(SPEC_LABELS[name]![ex.label]);
    }
  });

  it('formats hand-checked real rows character for character', async () => {
    const mnli = (await loadBundledTask('mnli_text'))['train']![0]!;
    expect(formatExample('mnli_text', mnli)).toEqual({
      source: 'mnli premise: You are not being rude. hypothesis: You think before you speak.',
      target: 'neutral',
      label: 1,
    });
    const trec = (await loadBundledTask('trec_coarse_text'))['train']![0]!;
    expect(formatExample('trec_coarse_text', trec)).toEqual({
      source: 'trec_coarse What is this question asking for: How did serfdom develop in and then leave Russia ?',
      target: 'Description',
      label: 2,
    });
    const sst = (await loadBundledTask('sst5_text'))['validation']![0]!;
    expect(formatExample('sst5_text', sst).source).toBe('sst2 sentence: one long string of cliches .');
    expect(formatExample('sst5_text', sst).target).toBe('negative');
    const sci = (await loadBundledTask('scitail_text'))['test']![0]!;
    expect(formatExample('scitail_text', sci)).toEqual({
      source:
        'scitail premise: Based on the list provided of the uses of substances 1-7, estimate the pH of each unknown and record the number in the data table in the estimated pH column. hypothesis: If a substance has a ph value greater than 7,that indicates that it is base.',
      target: 'neutral',
      label: 1,
    });
    // DBpedia content keeps the CSV's leading space, hence two spaces after "content:".
    const db = (await loadBundledTask('dbpedia_text'))['train']![0]!;
    expect(formatExample('dbpedia_text', db).source.startsWith('dbpedia What is the category for following text: title: Jodel content:  Société')).toBe(true);
    expect(formatExample('dbpedia_text', db).target).toBe('Company');
  });

  it('numeric variants use the same templates with "0", "1", ... targets', async () => {
    for (const name of NUMERIC_TASK_NAMES) {
      const t = getTask(name);
      expect(t.numericLabels).toBe(true);
      expect(t.labels).toEqual(t.labels.map((_, i) => String(i)));
      if (name !== 'sst5') expect(t.template).toBe(getTask(`${name}_text`).template);
    }
    const row = (await loadBundledTask('mnli'))['train']![0]!;
    expect(formatExample('mnli', row)).toEqual({
      source: 'mnli premise: You are not being rude. hypothesis: You think before you speak.',
      target: '1',
      label: 1,
    });
    expect(getTask('qnli').metric).toEqual({ kind: 'f1', posLabel: '1' });
    expect(getTask('dbpedia').metric).toEqual({ kind: 'macro_f1' });
    // numeric sst5 is TPV's SST5 class: real SetFit/sst5, `sentence:` with a colon.
    expect(getTask('sst5').template).toBe('sst5 sentence: {text}');
    expect(getTask('sst5').labels).toEqual(['0', '1', '2', '3', '4']);
  });

  it('sst5_text is GLUE SST-2 by default and real SST-5 on request', async () => {
    const ref = getTask('sst5_text');
    expect(ref.implementation).toBe('sst2_text');
    expect(ref.prefix).toBe('sst2');
    expect(ref.hf).toMatchObject({ id: 'glue', config: 'sst2' });
    expect(ref.sizeClass).toBe('large');
    expect(ref.splitMap.test).toBe('validation');
    expect(getTask('sst5_text', { sst5Mode: 'reference' })).toBe(ref);

    const real = getTask('sst5_text', { sst5Mode: 'real' });
    expect(real.hf.id).toBe('SetFit/sst5');
    expect(real.template).toBe('sst5 sentence {text}');
    expect(real.labels).toEqual(['very negative', 'negative', 'neutral', 'positive', 'very positive']);
    expect(real.metric).toEqual({ kind: 'macro_f1' });
    expect(real.sizeClass).toBe('small');
    const row = (await loadBundledTask('sst5_text', { sst5Mode: 'real' }))['validation']![0]! as R;
    expect(formatExample(real, row).source).toBe(`sst5 sentence ${row.text}`);
  });

  it('size classes come from the hard-coded lists', () => {
    const large = ['mnli_text', 'qnli_text', 'scitail_text', 'snli_text', 'dbpedia_text', 'ag_news_text', 'yahoo_text', 'sst2_text', 'yelp_polarity_text', 'imdb_text', 'sst5_text'];
    for (const n of large) expect(getTask(n).sizeClass, n).toBe('large');
    expect(getTask('trec_coarse_text').sizeClass).toBe('small');
    expect(getTask('trec_coarse').sizeClass).toBe('small');
    expect(getTask('sst5').sizeClass).toBe('small');
    expect(LARGE_DATASETS).toHaveLength(10);
    expect(SMALL_DATASETS).toEqual(['trec_fine', 'trec_coarse', 'wnli', 'sst5']);
  });

  it('split maps, label columns, filters and epochs follow the reference', () => {
    expect(getTask('mnli_text').splitMap).toEqual({ train: 'train', validation: 'validation_mismatched', test: 'validation_matched' });
    expect(getTask('qnli_text').splitMap.test).toBe('validation');
    expect(getTask('sst2_text').splitMap.test).toBe('validation');
    for (const n of ['scitail_text', 'snli_text', 'dbpedia_text', 'ag_news_text', 'yahoo_text', 'yelp_polarity_text', 'imdb_text']) {
      expect(getTask(n).splitMap.test, n).toBe('test');
    }
    expect(getTask('trec_coarse_text').splitMap).toEqual({ train: 'train', validation: 'test' });
    expect(getTask('trec_coarse_text').labelColumn).toBe('coarse_label');
    expect(getTask('yahoo_text').labelColumn).toBe('topic');
    expect(getTask('scitail_text').labelColumn).toBe('gold_label');
    expect(getTask('scitail_text').classNames).toEqual(['entailment', 'neutral']);
    expect(getTask('snli_text').dropLabel).toBe(-1);
    expect(getTask('mnli_text').dropLabel).toBeUndefined();
    expect(getTask('trec_coarse_text').epochs).toBe(50);
    expect(getTask('trec_coarse_text').hf.trustRemoteCode).toBe(true);
    for (const n of TEXT_TASK_NAMES.filter((x) => x !== 'trec_coarse_text')) expect(getTask(n).epochs, n).toBe(10);
    expect(getTask('yahoo_text').inputFields).toEqual(['question_title', 'question_content', 'best_answer']);
  });

  it('specs are frozen', () => {
    const t = getTask('mnli_text');
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.labels)).toBe(true);
    expect(Object.isFrozen(t.segments[0])).toBe(true);
    expect(Object.isFrozen(t.hf)).toBe(true);
    expect(() => (t.labels as string[]).push('x')).toThrow(TypeError);
  });

  it('unknown names throw a typed UNKNOWN_TASK listing the known names', () => {
    let err: unknown;
    try {
      getTask('sst3_text');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TaskError);
    const te = err as TaskError;
    expect(te.code).toBe('UNKNOWN_TASK');
    expect(te.details['known']).toEqual([...TASK_NAMES]);
    expect(te.message).toContain('mnli_text');
    expect(te.message).toContain('sst3_text');
    expect(() => getTask('')).toThrow(TaskError);
    expect(() => getTask('wnli_text')).toThrow(/Unrecognized task/);
  });
});
