import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TaskError } from './errors.js';
import { formatExamples } from './format.js';
import {
  formatFromPath,
  loadHubDataset,
  loadHubTaskSplits,
  loadSplitFiles,
  loadTaskSplits,
  originalSplitsOf,
  parseDelimited,
  parseDelimitedRecords,
  parseJsonArray,
  parseJsonl,
  readParquet,
  readTable,
  type HubFileResolver,
} from './loaders.js';
import { getSplits } from './sampling.js';

const TINY_PARQUET = fileURLToPath(new URL('./__fixtures__/tiny.parquet', import.meta.url));

/** What `__fixtures__/make_tiny_parquet.py` encodes. */
const TINY_ROWS = [
  { sentence: 'a great movie , truly', label: 1, idx: 0 },
  { sentence: null, label: 0, idx: 1 },
  { sentence: 'boring "quoted", with commas\nand a newline', label: 0, idx: 2 },
  { sentence: 'café ☕ a great movie , truly', label: 1, idx: 3 },
  { sentence: 'a great movie , truly', label: 1, idx: 4 },
];

async function rejection(p: Promise<unknown>): Promise<TaskError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TaskError) return e;
    throw e;
  }
  throw new Error('expected a TaskError');
}

function caught(fn: () => unknown): TaskError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskError) return e;
    throw e;
  }
  throw new Error('expected a TaskError');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tpv-loaders-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JSONL / JSON', () => {
  it('parses JSON Lines, skipping blank lines and a BOM, CRLF tolerated', () => {
    const text = '\uFEFF{"a": 1, "t": "x"}\r\n\n{"a": 2, "t": "y\\nz"}\n';
    expect(parseJsonl(text)).toEqual([
      { a: 1, t: 'x' },
      { a: 2, t: 'y\nz' },
    ]);
  });

  it('reports the bad line', () => {
    const e = caught(() => parseJsonl('{"a":1}\n{oops}\n', 'f.jsonl'));
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.details).toMatchObject({ source: 'f.jsonl', line: 2 });
    expect(caught(() => parseJsonl('[1,2]')).code).toBe('PARSE_ERROR');
  });

  it('parses JSON arrays, a nested field, and falls back to JSON Lines', () => {
    expect(parseJsonArray('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonArray('{"data":[{"a":1}]}', { field: 'data' })).toEqual([{ a: 1 }]);
    expect(parseJsonArray('{"a":1}\n{"a":2}\n')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(caught(() => parseJsonArray('[1]')).code).toBe('PARSE_ERROR');
    expect(caught(() => parseJsonArray('{"x":[]}', { field: 'data' })).code).toBe('PARSE_ERROR');
  });
});

describe('CSV / TSV', () => {
  it('handles quoted fields with embedded commas, newlines and doubled quotes', () => {
    const csv = 'text,label\n"Hello, world",1\n"She said ""hi""\nthen left",0\nplain,1\r\n"",0\n';
    expect(parseDelimited(csv)).toEqual([
      { text: 'Hello, world', label: '1' },
      { text: 'She said "hi"\nthen left', label: '0' },
      { text: 'plain', label: '1' },
      { text: '', label: '0' },
    ]);
  });

  it('keeps quotes inside unquoted fields and text after a closing quote (Python csv)', () => {
    expect(parseDelimitedRecords('a"b,"c"d,e\n', ',')).toEqual([['a"b', 'cd', 'e']]);
    expect(parseDelimitedRecords('x,,\n,\n', ',')).toEqual([
      ['x', '', ''],
      ['', ''],
    ]);
  });

  it('fills short records with null and rejects long ones', () => {
    expect(parseDelimited('a,b,c\n1,2\n')).toEqual([{ a: '1', b: '2', c: null }]);
    expect(caught(() => parseDelimited('a,b\n1,2,3\n', {}, 'x.csv')).details).toMatchObject({ source: 'x.csv', record: 1 });
  });

  it('reports an unterminated quote with its line', () => {
    const e = caught(() => parseDelimited('a\n1\n"open\nstill open\n', {}, 'bad.csv'));
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.details).toMatchObject({ line: 3 });
  });

  it('TSV with and without quoting (GLUE files have stray quotes)', () => {
    const tsv = 'index\tquestion\tsentence\tlabel\n0\tWhat is "it"?\tIt is "x\tnot_entailment\n';
    expect(parseDelimited(tsv, { delimiter: '\t', quoted: false })).toEqual([
      { index: '0', question: 'What is "it"?', sentence: 'It is "x', label: 'not_entailment' },
    ]);
    expect(parseDelimited('a\tb\n"x\ty"\t2\n', { delimiter: '\t' })).toEqual([{ a: 'x\ty', b: '2' }]);
  });

  it('accepts explicit column names (headerless files)', () => {
    expect(parseDelimited('1,hi\n', { columns: ['label', 'text'] })).toEqual([{ label: '1', text: 'hi' }]);
  });

  it('string labels from CSV format like ints', async () => {
    const p = join(dir, 'ag.csv');
    await writeFile(p, 'label,text\n3,"Stocks, bonds and ""chips"""\n');
    const rows = await readTable(p);
    expect(formatExamples('ag_news_text', rows)).toEqual([
      { source: 'ag_news What is the category for following text: Stocks, bonds and "chips"', target: 'Sci/Tech', label: 3 },
    ]);
  });
});

describe('Parquet (hyparquet)', () => {
  it('reads the hand-made fixture: dictionary + nulls + snappy + INT64 as numbers', async () => {
    expect(await readParquet(TINY_PARQUET)).toEqual(TINY_ROWS);
    expect(await readParquet(TINY_PARQUET, { columns: ['label'] })).toEqual(TINY_ROWS.map((r) => ({ label: r.label })));
  });

  it('a corrupt file is a PARSE_ERROR, a missing one a LOAD_ERROR', async () => {
    const bad = join(dir, 'bad.parquet');
    await writeFile(bad, 'PAR1 not really');
    expect((await rejection(readParquet(bad))).code).toBe('PARSE_ERROR');
    expect((await rejection(readParquet(join(dir, 'none.parquet')))).code).toBe('LOAD_ERROR');
  });
});

describe('readTable / split directories', () => {
  it('guesses formats from extensions', () => {
    expect(['a.jsonl', 'a.json', 'a.CSV', 'a.tsv', 'a.parquet', 'a.txt'].map(formatFromPath)).toEqual([
      'jsonl',
      'json',
      'csv',
      'tsv',
      'parquet',
      undefined,
    ]);
  });

  it('rejects unknown formats and missing files', async () => {
    expect((await rejection(readTable(join(dir, 'x.txt')))).code).toBe('LOAD_ERROR');
    expect((await rejection(readTable(join(dir, 'missing.jsonl')))).code).toBe('LOAD_ERROR');
  });

  it('loadTaskSplits finds HF-named files of mixed formats, including parquet shards', async () => {
    const d = join(dir, 'mnli');
    await mkdir(d);
    await writeFile(join(d, 'train.jsonl'), '{"premise":"p0","hypothesis":"h0","label":0}\n{"premise":"p1","hypothesis":"h1","label":2}\n');
    await writeFile(join(d, 'validation_matched.csv'), 'premise,hypothesis,label\n"a, b",c,1\n');
    await writeFile(join(d, 'validation_mismatched.tsv'), 'premise\thypothesis\tlabel\nx\ty\t0\n');
    await writeFile(join(d, 'notes.txt'), 'ignored');
    const rows = await loadTaskSplits('mnli_text', { dir: d });
    expect(Object.keys(rows).sort()).toEqual(['train', 'validation_matched', 'validation_mismatched']);
    expect(rows['validation_matched']).toEqual([{ premise: 'a, b', hypothesis: 'c', label: '1' }]);
    expect(originalSplitsOf('mnli_text')).toEqual(['train', 'validation_mismatched', 'validation_matched']);

    const shards = join(dir, 'shards');
    await mkdir(shards);
    await copyFile(TINY_PARQUET, join(shards, 'test-00001-of-00002.parquet'));
    await copyFile(TINY_PARQUET, join(shards, 'test-00000-of-00002.parquet'));
    await writeFile(join(shards, 'train.json'), JSON.stringify([{ sentence: 's', label: 1 }]));
    const got = await loadSplitFiles(shards);
    expect(got['test']).toHaveLength(10);
    expect(got['train']).toEqual([{ sentence: 's', label: 1 }]);
  });

  it('loadTaskSplits fails clearly when no split file exists', async () => {
    const e = await rejection(loadTaskSplits('imdb_text', { dir }));
    expect(e.code).toBe('LOAD_ERROR');
    expect((await rejection(loadTaskSplits('imdb_text', { dir: join(dir, 'nope') }))).code).toBe('LOAD_ERROR');
  });
});

describe('Hub parquet export (injected resolver)', () => {
  /** A fake Hub: maps "<repo>@<revision>/<file>" to local files. */
  function fakeHub(files: Record<string, string>): { resolver: HubFileResolver; calls: string[] } {
    const calls: string[] = [];
    const resolver: HubFileResolver = async (repoId, filename, opts) => {
      expect(opts.repoType).toBe('dataset');
      const key = `${repoId}@${opts.revision}/${filename}`;
      calls.push(key);
      const p = files[key];
      if (!p) throw new Error(`404 ${key}`);
      return p;
    };
    return { resolver, calls };
  }

  it('reads <config>/<split>/0000.parquet, probing further shards until a miss', async () => {
    const { resolver, calls } = fakeHub({
      'nyu-mll/glue@refs/convert/parquet/sst2/validation/0000.parquet': TINY_PARQUET,
      'nyu-mll/glue@refs/convert/parquet/sst2/validation/0001.parquet': TINY_PARQUET,
    });
    const rows = await loadHubDataset('nyu-mll/glue', { config: 'sst2', split: 'validation', resolver });
    expect(rows).toHaveLength(10);
    expect(calls).toEqual([
      'nyu-mll/glue@refs/convert/parquet/sst2/validation/0000.parquet',
      'nyu-mll/glue@refs/convert/parquet/sst2/validation/0001.parquet',
      'nyu-mll/glue@refs/convert/parquet/sst2/validation/0002.parquet',
    ]);
  });

  it('a known shard count avoids probing; a missing first shard is a LOAD_ERROR', async () => {
    const { resolver, calls } = fakeHub({ 'r@main/c/s/0000.parquet': TINY_PARQUET });
    expect(await loadHubDataset('r', { config: 'c', split: 's', resolver, revision: 'main', shards: 1 })).toHaveLength(5);
    expect(calls).toHaveLength(1);
    const e = await rejection(loadHubDataset('r', { config: 'c', split: 'nope', resolver }));
    expect(e.code).toBe('LOAD_ERROR');
    expect(e.details).toMatchObject({ repoId: 'r', filename: 'c/nope/0000.parquet', revision: 'refs/convert/parquet' });
  });

  it('loadHubTaskSplits uses the registry repo/config and feeds getSplits', async () => {
    const base = 'nyu-mll/glue@refs/convert/parquet/sst2';
    const { resolver, calls } = fakeHub({
      [`${base}/train/0000.parquet`]: TINY_PARQUET,
      [`${base}/validation/0000.parquet`]: TINY_PARQUET,
    });
    const rows = await loadHubTaskSplits('sst2_text', { resolver });
    expect(calls.filter((c) => c.endsWith('0000.parquet'))).toEqual([`${base}/train/0000.parquet`, `${base}/validation/0000.parquet`]);
    // test = validation shuffled; its null sentence would only fail at formatting time.
    const s = getSplits('sst2_text', rows, { largeValidationSize: 2 });
    expect(s.test).toHaveLength(5);
    expect(s.validation).toHaveLength(2);
    expect(s.train).toHaveLength(3);
    expect(() => formatExamples('sst2_text', s.test)).toThrow(/missing field "sentence"/);
  });
});
