import { describe, expect, it } from 'vitest';

import { TaskError, isTaskError } from './errors.js';
import { formatExample, formatExamples, labelId, maxTargetLength } from './format.js';
import { getTask } from './registry.js';

function caught(fn: () => unknown): TaskError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskError) return e;
    throw e;
  }
  throw new Error('expected a TaskError');
}

describe('formatExample', () => {
  it('joins prefix and segments with single spaces, keeping field whitespace', () => {
    const ex = formatExample('qnli_text', { question: ' Why? ', sentence: 'Because.', label: 1 });
    // " ".join(["qnli", "question:", " Why? ", "sentence:", "Because."])
    expect(ex).toEqual({ source: 'qnli question:  Why?  sentence: Because.', target: 'not_entailment', label: 1 });
  });

  it('empty fields still contribute their separators (reference " ".join)', () => {
    const ex = formatExample('yahoo_text', { question_title: 'T', question_content: '', best_answer: '', topic: 9 });
    expect(ex.source).toBe('yahoo What is the category for following text: title: T content:  answer: ');
    expect(ex.target).toBe('Politics');
  });

  it('a missing field names the field, the task and the row index', () => {
    const rows = [
      { premise: 'p', hypothesis: 'h', label: 0 },
      { premise: 'p', label: 0 },
    ];
    const e = caught(() => formatExamples('mnli_text', rows));
    expect(e.code).toBe('MISSING_FIELD');
    expect(e.details).toMatchObject({ task: 'mnli_text', field: 'hypothesis', rowIndex: 1 });
    expect(e.message).toMatch(/mnli_text.*row 1.*"hypothesis"/);
    // null counts as missing (HF would hand None to " ".join and crash).
    expect(caught(() => formatExample('sst2_text', { sentence: null, label: 0 }, 7)).details).toMatchObject({ field: 'sentence', rowIndex: 7 });
    // a missing label column is a MISSING_FIELD too
    expect(caught(() => formatExample('sst2_text', { sentence: 'x' })).details).toMatchObject({ field: 'label' });
  });

  it('a non-string input is BAD_FIELD', () => {
    expect(caught(() => formatExample('sst2_text', { sentence: 3, label: 0 })).code).toBe('BAD_FIELD');
  });

  it('labels outside the label list are BAD_LABEL', () => {
    const bad = [2, -1, 1.5, 'x', '2', true];
    for (const label of bad) {
      const e = caught(() => formatExample('sst2_text', { sentence: 's', label }, 4));
      expect(e.code, String(label)).toBe('BAD_LABEL');
      expect(e.details).toMatchObject({ task: 'sst2_text', rowIndex: 4 });
    }
    // SNLI's -1 is only legal because the split loader drops it first.
    expect(isTaskError(caught(() => formatExample('snli_text', { premise: 'a', hypothesis: 'b', label: -1 })), 'BAD_LABEL')).toBe(true);
  });

  it('accepts integer strings (CSV) and BigInt (Parquet INT64) labels', () => {
    expect(formatExample('ag_news_text', { text: 't', label: '3' }).target).toBe('Sci/Tech');
    expect(formatExample('ag_news_text', { text: 't', label: 2n }).target).toBe('Business');
    expect(labelId('dbpedia_text', { label: ' 13 ' })).toBe(13);
  });

  it('SciTail class-encodes gold_label strings alphabetically', () => {
    const row = { sentence1: 'p', sentence2: 'h', gold_label: 'neutral' };
    expect(formatExample('scitail_text', row)).toEqual({ source: 'scitail premise: p hypothesis: h', target: 'neutral', label: 1 });
    expect(formatExample('scitail', row).target).toBe('1');
    expect(labelId('scitail_text', { gold_label: 'entailment' })).toBe(0);
    expect(labelId('scitail_text', { gold_label: 0 })).toBe(0);
    expect(caught(() => labelId('scitail_text', { gold_label: 'entails' })).code).toBe('BAD_LABEL');
  });

  it('rejects unknown task names', () => {
    expect(caught(() => formatExample('nope', {})).code).toBe('UNKNOWN_TASK');
  });
});

describe('maxTargetLength', () => {
  // A fake tokenizer: one id per whitespace-separated word, plus EOS (id 1), like HF encode().
  const wordTok = { encode: (s: string) => [...s.split(/\s+/).filter(Boolean).map((_, i) => 100 + i), 1] };

  it('is the longest label in tokens, EOS included', () => {
    // "Mean Of Transportation" = 3 words + EOS = 4
    expect(maxTargetLength('dbpedia_text', wordTok)).toBe(4);
    // "very negative" = 2 + 1 (real SST-5)
    expect(maxTargetLength(getTask('sst5_text', { sst5Mode: 'real' }), wordTok)).toBe(3);
    // "entailment" = 1 + 1
    expect(maxTargetLength('mnli_text', wordTok)).toBe(2);
  });

  it('adds EOS itself for an encoder that does not', () => {
    const bare = { encode: (s: string) => Array.from(s).map((c) => c.charCodeAt(0)) };
    // longest of "negative"/"positive" is 8 characters, + EOS = 9
    expect(maxTargetLength('imdb_text', bare, { encodeAddsEos: false })).toBe(9);
    expect(maxTargetLength('imdb_text', bare)).toBe(8);
  });
});
