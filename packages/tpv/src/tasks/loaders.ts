/**
 * Reading dataset files into row objects: JSONL, JSON arrays, CSV, TSV and
 * Parquet (via `hyparquet`), plus two ways of finding a task's split files:
 * a local directory laid out like HF split names, and the Hub's
 * `refs/convert/parquet` branch through a caller-supplied resolver.
 *
 * Rows keep the column names of the file. Delimited files keep every value
 * as a string (no type inference): `labelId` accepts integer strings, and
 * anything else would silently change data. Parquet INT64 values arrive as
 * BigInt from hyparquet and are converted to numbers when safe, so labels
 * compare as plain integers.
 */

import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';

import { TaskError } from './errors.js';
import type { RawRow } from './format.js';
import { resolveTask, type TaskSpec } from './registry.js';
import type { RowsBySplit } from './sampling.js';

/** A mutable row as produced by the loaders. */
export type Row = Record<string, unknown>;

/** File formats the loaders understand. */
export type TableFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';

/** Options for delimited text. */
export interface DelimitedOptions {
  /** Field separator (CSV `,`, TSV tab). */
  readonly delimiter?: string;
  /**
   * Honour RFC 4180 double-quote quoting (default true): quoted fields may
   * hold delimiters, newlines and `""` escapes. Set false for files such as
   * GLUE's TSVs that contain stray quotes and no quoting.
   */
  readonly quoted?: boolean;
  /** Column names; when absent the first record is the header (default). */
  readonly columns?: readonly string[];
}

/** Options for {@link readTable}. */
export interface ReadTableOptions extends DelimitedOptions {
  /** Force a format instead of guessing from the extension. */
  readonly format?: TableFormat;
  /** JSON only: take the array under this top-level key (HF `field=`). */
  readonly field?: string;
  /** Parquet only: read just these columns (`columns` names the header of delimited files). */
  readonly parquetColumns?: readonly string[];
}

function parseError(message: string, details: Record<string, unknown>): TaskError {
  return new TaskError('PARSE_ERROR', message, details);
}

/**
 * Parse JSON Lines (one object per non-blank line).
 *
 * @param text - file contents.
 * @param source - file name for error messages.
 * @throws {@link TaskError} `PARSE_ERROR` naming the 1-based line.
 */
export function parseJsonl(text: string, source = '<jsonl>'): Row[] {
  const rows: Row[] = [];
  const lines = stripBom(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw parseError(`${source}:${i + 1}: invalid JSON (${(e as Error).message})`, { source, line: i + 1 });
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw parseError(`${source}:${i + 1}: expected a JSON object per line`, { source, line: i + 1 });
    }
    rows.push(v as Row);
  }
  return rows;
}

/**
 * Parse a JSON document holding an array of row objects (optionally under a
 * top-level `field`). Falls back to JSON Lines when the text is not one JSON
 * value, as HF's json builder does for `.json` files.
 *
 * @param text - file contents.
 * @param options - `field` to select a nested array.
 * @param source - file name for error messages.
 */
export function parseJsonArray(text: string, options: { readonly field?: string } = {}, source = '<json>'): Row[] {
  const body = stripBom(text);
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return parseJsonl(body, source);
  }
  if (options.field !== undefined) {
    if (v === null || typeof v !== 'object' || !(options.field in (v as object))) {
      throw parseError(`${source}: no top-level field "${options.field}"`, { source, field: options.field });
    }
    v = (v as Record<string, unknown>)[options.field];
  }
  if (!Array.isArray(v)) {
    if (v !== null && typeof v === 'object') return [v as Row];
    throw parseError(`${source}: expected an array of objects`, { source });
  }
  v.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      throw parseError(`${source}: element ${i} is not an object`, { source, index: i });
    }
  });
  return v as Row[];
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Split delimited text into records of fields. With `quoted`, RFC 4180
 * rules apply: a field that starts with `"` runs to the next lone `"`, may
 * hold delimiters and newlines, and `""` is a literal quote; characters after
 * the closing quote are kept (as Python's csv module does). CRLF and LF both
 * end records; a trailing newline does not create an empty record.
 *
 * @param text - file contents.
 * @param delimiter - field separator.
 * @param quoted - honour quoting.
 * @param source - file name for error messages.
 */
export function parseDelimitedRecords(text: string, delimiter: string, quoted = true, source = '<delimited>'): string[][] {
  if (delimiter.length !== 1) throw new RangeError('delimiter must be one character');
  const s = stripBom(text);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let line = 1;
  // True once the current field has content or an opening quote, so that a
  // quoted empty field ("") still counts as a field on an otherwise blank line.
  let fieldStarted = false;
  const endField = (): void => {
    record.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRecord = (): void => {
    if (record.length > 0 || fieldStarted || field !== '') {
      endField();
      records.push(record);
    }
    record = [];
  };
  while (i < s.length) {
    const c = s[i]!;
    if (quoted && c === '"' && field === '' && !fieldStarted) {
      // Quoted field.
      fieldStarted = true;
      const startLine = line;
      i++;
      for (;;) {
        if (i >= s.length) {
          throw parseError(`${source}:${startLine}: unterminated quoted field`, { source, line: startLine });
        }
        const d = s[i]!;
        if (d === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\n') line++;
        field += d;
        i++;
      }
      continue;
    }
    if (c === delimiter) {
      endField();
      i++;
      continue;
    }
    if (c === '\r' && s[i + 1] === '\n') {
      i++;
      continue;
    }
    if (c === '\n') {
      line++;
      endRecord();
      i++;
      continue;
    }
    field += c;
    fieldStarted = true;
    i++;
  }
  endRecord();
  return records;
}

/**
 * Parse delimited text with a header row (or given `columns`) into rows.
 * A record with fewer fields than columns gets `null` for the rest (so
 * `formatExample` reports MISSING_FIELD); one with more is a parse error.
 *
 * @param text - file contents.
 * @param options - delimiter, quoting, columns.
 * @param source - file name for error messages.
 */
export function parseDelimited(text: string, options: DelimitedOptions = {}, source = '<delimited>'): Row[] {
  const { delimiter = ',', quoted = true } = options;
  const records = parseDelimitedRecords(text, delimiter, quoted, source);
  let columns = options.columns;
  let body = records;
  if (!columns) {
    if (records.length === 0) return [];
    columns = records[0]!;
    body = records.slice(1);
  }
  const cols = columns;
  return body.map((rec, k) => {
    if (rec.length > cols.length) {
      throw parseError(`${source}: record ${k + 1} has ${rec.length} fields, header has ${cols.length}`, {
        source,
        record: k + 1,
      });
    }
    const row: Row = {};
    cols.forEach((c, j) => {
      row[c] = j < rec.length ? rec[j]! : null;
    });
    return row;
  });
}

/** Convert hyparquet's BigInt INT64 values to numbers where exactly representable. */
function normalizeParquetValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  return v;
}

/**
 * Read a Parquet file into row objects with `hyparquet` (snappy and the
 * usual encodings of HF's parquet exports are supported by it).
 *
 * @param path - local file.
 * @param options - optional column subset.
 */
export async function readParquet(path: string, options: { readonly columns?: readonly string[] } = {}): Promise<Row[]> {
  let file;
  try {
    file = await asyncBufferFromFile(path);
  } catch (e) {
    throw new TaskError('LOAD_ERROR', `cannot open ${path}: ${(e as Error).message}`, { path });
  }
  let rows;
  try {
    rows = await parquetReadObjects({
      file,
      rowFormat: 'object',
      ...(options.columns ? { columns: [...options.columns] } : {}),
    });
  } catch (e) {
    throw parseError(`${path}: invalid parquet (${(e as Error).message})`, { source: path });
  }
  return rows.map((r) => {
    const o: Row = {};
    for (const [k, v] of Object.entries(r)) o[k] = normalizeParquetValue(v);
    return o;
  });
}

/**
 * Guess a format from a file name (`.jsonl`, `.json`, `.csv`, `.tsv`,
 * `.parquet`); undefined for anything else.
 *
 * @param path - file name or path.
 */
export function formatFromPath(path: string): TableFormat | undefined {
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.json':
      return 'json';
    case '.csv':
      return 'csv';
    case '.tsv':
      return 'tsv';
    case '.parquet':
      return 'parquet';
    default:
      return undefined;
  }
}

/**
 * Read one file into rows, choosing the parser from the extension (or
 * `options.format`).
 *
 * @param path - local file.
 * @param options - format override and parser options.
 * @throws {@link TaskError} `LOAD_ERROR` (unreadable/unknown format) or `PARSE_ERROR`.
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<Row[]> {
  const format = options.format ?? formatFromPath(path);
  if (!format) throw new TaskError('LOAD_ERROR', `unknown table format for ${path}`, { path });
  if (format === 'parquet') return readParquet(path, options.parquetColumns ? { columns: options.parquetColumns } : {});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TaskError('LOAD_ERROR', `cannot read ${path}: ${(e as Error).message}`, { path });
  }
  switch (format) {
    case 'jsonl':
      return parseJsonl(text, path);
    case 'json':
      return parseJsonArray(text, options.field !== undefined ? { field: options.field } : {}, path);
    case 'csv':
      return parseDelimited(text, { ...options, delimiter: options.delimiter ?? ',' }, path);
    case 'tsv':
      return parseDelimited(text, { ...options, delimiter: options.delimiter ?? '\t' }, path);
  }
}

/** HF split names looked for by {@link loadSplitFiles} when none are given. */
export const KNOWN_SPLIT_NAMES: readonly string[] = [
  'train',
  'validation',
  'validation_matched',
  'validation_mismatched',
  'test',
  'test_matched',
  'test_mismatched',
];

/**
 * Which local files hold `split`: `<split>.<ext>` for any supported
 * extension, or HF shard names `<split>-00000-of-00002.parquet` (all
 * shards, in name order). Exact names win over shards.
 */
function filesForSplit(names: readonly string[], split: string): string[] {
  const exact = names.filter((n) => {
    const fmt = formatFromPath(n);
    return fmt !== undefined && basename(n, extname(n)) === split;
  });
  if (exact.length > 0) return [exact.sort()[0]!];
  const shard = new RegExp(`^${split.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+(-of-\\d+)?\\.parquet$`);
  return names.filter((n) => shard.test(n)).sort();
}

/**
 * Load every split file of a directory: `train.jsonl`, `validation.csv`,
 * `validation_matched.parquet`, `test-00000-of-00001.parquet`, ...
 *
 * @param dir - the directory.
 * @param splits - split names to look for (default {@link KNOWN_SPLIT_NAMES}); missing ones are skipped.
 * @param options - parser options for delimited/JSON files.
 * @throws {@link TaskError} `LOAD_ERROR` when the directory is unreadable.
 */
export async function loadSplitFiles(
  dir: string,
  splits: readonly string[] = KNOWN_SPLIT_NAMES,
  options: ReadTableOptions = {},
): Promise<Record<string, Row[]>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (e) {
    throw new TaskError('LOAD_ERROR', `cannot list ${dir}: ${(e as Error).message}`, { dir });
  }
  const out: Record<string, Row[]> = {};
  for (const split of splits) {
    const files = filesForSplit(names, split);
    if (files.length === 0) continue;
    const parts: Row[][] = [];
    for (const f of files) {
      const p = join(dir, f);
      if (!(await stat(p)).isFile()) continue;
      parts.push(await readTable(p, options));
    }
    out[split] = parts.flat();
  }
  return out;
}

/** The original splits a task may read (train plus its `splitMap` targets). */
export function originalSplitsOf(task: TaskSpec | string): string[] {
  const spec = resolveTask(task);
  const names = ['train', spec.splitMap.validation, spec.splitMap.test].filter((s): s is string => s !== undefined);
  return [...new Set(names)];
}

/** Options for {@link loadTaskSplits}. */
export interface LoadTaskSplitsOptions extends ReadTableOptions {
  /** Directory holding `<split>.<ext>` files named like the HF splits. */
  readonly dir: string;
  /** Splits to load (default: the ones the task's split rules can read). */
  readonly splits?: readonly string[];
}

/**
 * Load a task's original splits from a local directory, ready for
 * `getSplits`. Splits without a file are simply absent (getSplit reports
 * MISSING_SPLIT if a rule needs one).
 *
 * @param task - spec or name.
 * @param options - `dir`, optional `splits`, parser options.
 * @throws {@link TaskError} `LOAD_ERROR` when none of the splits has a file.
 */
export async function loadTaskSplits(task: TaskSpec | string, options: LoadTaskSplitsOptions): Promise<RowsBySplit> {
  const spec = resolveTask(task);
  const splits = options.splits ?? originalSplitsOf(spec);
  const out = await loadSplitFiles(options.dir, splits, options);
  if (Object.keys(out).length === 0) {
    throw new TaskError('LOAD_ERROR', `no split files for ${spec.name} in ${options.dir} (looked for ${splits.join(', ')})`, {
      task: spec.name,
      dir: options.dir,
      splits,
    });
  }
  return out as RowsBySplit;
}

/**
 * Downloads one file of a Hub repository and resolves to its local path
 * (the Hub client lives elsewhere and is injected). It must honour
 * `revision` (here always `refs/convert/parquet` unless overridden) and
 * reject when the file does not exist.
 */
export type HubFileResolver = (
  repoId: string,
  filename: string,
  options: { readonly repoType: 'dataset'; readonly revision?: string },
) => Promise<string>;

/** Options for {@link loadHubDataset}. */
export interface LoadHubDatasetOptions {
  /** Config folder of the parquet export (e.g. `mnli`, `plain_text`, `default`). */
  readonly config: string;
  /** Split folder (e.g. `train`, `validation_matched`). */
  readonly split: string;
  /** The injected downloader. */
  readonly resolver: HubFileResolver;
  /** Git revision holding the export (default `refs/convert/parquet`). */
  readonly revision?: string;
  /**
   * Number of shards when known. Otherwise shards `0000.parquet`,
   * `0001.parquet`, ... are fetched until the resolver rejects (the first
   * shard must exist).
   */
  readonly shards?: number;
}

/**
 * Read one split of a Hub dataset from the datasets-server parquet export:
 * branch `refs/convert/parquet`, files `<config>/<split>/0000.parquet`,
 * `0001.parquet`, ... (concatenated in order, which is the order of the
 * original split, so seeded sampling selects the same rows as HF).
 *
 * @param repoId - dataset repository, e.g. `nyu-mll/glue`.
 * @param options - config, split, resolver, optional revision/shards.
 * @throws {@link TaskError} `LOAD_ERROR` when the first shard cannot be resolved.
 */
export async function loadHubDataset(repoId: string, options: LoadHubDatasetOptions): Promise<Row[]> {
  const { config, split, resolver, revision = 'refs/convert/parquet', shards } = options;
  let rows: Row[] = [];
  for (let k = 0; shards === undefined || k < shards; k++) {
    const filename = `${config}/${split}/${String(k).padStart(4, '0')}.parquet`;
    let path: string;
    try {
      path = await resolver(repoId, filename, { repoType: 'dataset', revision });
    } catch (e) {
      if (k > 0 && shards === undefined) break; // past the last shard
      throw new TaskError('LOAD_ERROR', `cannot fetch ${repoId}@${revision}/${filename}: ${(e as Error).message}`, {
        repoId,
        filename,
        revision,
      });
    }
    // concat, not push(...): a shard can hold more rows than a call may take arguments.
    rows = rows.concat(await readParquet(path));
  }
  return rows;
}

/**
 * Load a task's original splits from the Hub parquet export, using the
 * registry's `hf.parquetRepo`/`hf.parquetConfig` (overridable).
 *
 * @param task - spec or name.
 * @param options - resolver, optional splits, repo/config/revision overrides.
 */
export async function loadHubTaskSplits(
  task: TaskSpec | string,
  options: {
    readonly resolver: HubFileResolver;
    readonly splits?: readonly string[];
    readonly repoId?: string;
    readonly config?: string;
    readonly revision?: string;
  },
): Promise<RowsBySplit> {
  const spec = resolveTask(task);
  const out: Record<string, readonly RawRow[]> = {};
  for (const split of options.splits ?? originalSplitsOf(spec)) {
    out[split] = await loadHubDataset(options.repoId ?? spec.hf.parquetRepo, {
      config: options.config ?? spec.hf.parquetConfig,
      split,
      resolver: options.resolver,
      ...(options.revision !== undefined ? { revision: options.revision } : {}),
    });
  }
  return out;
}
