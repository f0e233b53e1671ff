/**
 * The small real samples shipped in `packages/tpv/data/` (see its
 * `SOURCES.md`): ≤ 200 train and ≤ 100 validation/test rows per dataset.
 * They make the templates, split rules and metrics runnable offline; they are
 * far too small to reproduce the paper's numbers.
 */

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

import { TaskError } from './errors.js';
import type { RawRow } from './format.js';
import { loadSplitFiles } from './loaders.js';
import { resolveTask, type GetTaskOptions, type TaskSpec } from './registry.js';
import type { RowsBySplit } from './sampling.js';

/**
 * Absolute path of the package's `data/` directory.
 *
 * Resolved from this module's URL: the file lives in `src/tasks/` (tests,
 * tsx) or `dist/tasks/` (built package), both two levels below the package
 * root that holds `data/`.
 */
export function bundledDataDir(): string {
  return fileURLToPath(new URL('../../data/', import.meta.url));
}

/** How one bundled dataset folder maps onto the HF schema a task expects. */
export interface BundledDataset {
  /** Folder under {@link bundledDataDir}. */
  readonly dir: string;
  /** Row adapter to the HF column names (identity when absent). */
  readonly adapt?: (row: RawRow) => RawRow;
}

/**
 * SciTail sample rows are `{premise, hypothesis, label: 0|1}`; the reference
 * reads HF `snli_format` (`sentence1`, `sentence2`, `gold_label` string).
 */
const adaptScitail = (r: RawRow): RawRow => {
  const names = ['entailment', 'neutral'];
  const label = r['label'];
  return {
    sentence1: r['premise'],
    sentence2: r['hypothesis'],
    gold_label: typeof label === 'number' ? (names[label] ?? label) : label,
  };
};

/**
 * The Yahoo sample has only the joined `text`; HF has three fields. The text
 * goes in `question_title` and the others are empty, which is what the
 * reference template yields for empty fields.
 */
const adaptYahoo = (r: RawRow): RawRow => ({
  ...r,
  question_title: r['text'],
  question_content: '',
  best_answer: '',
});

/** Bundled folder per base dataset (task name without `_text`). */
const BY_BASE: Readonly<Record<string, BundledDataset>> = {
  mnli: { dir: 'glue-mnli' },
  qnli: { dir: 'glue-qnli' },
  scitail: { dir: 'scitail', adapt: adaptScitail },
  snli: { dir: 'snli' },
  dbpedia: { dir: 'dbpedia_14' },
  trec_coarse: { dir: 'trec' },
  ag_news: { dir: 'ag_news' },
  yahoo: { dir: 'yahoo_answers_topics', adapt: adaptYahoo },
  sst2: { dir: 'glue-sst2' },
  yelp_polarity: { dir: 'yelp_polarity' },
  sst5: { dir: 'sst5' },
  imdb: { dir: 'imdb' },
};

/**
 * Which bundled folder serves a task. Follows the task's implementation, so
 * `sst5_text` (reference mode) reads the SST-2 sample.
 *
 * @param task - spec or name.
 * @param options - `sst5Mode` for `sst5_text`.
 * @throws {@link TaskError} `UNKNOWN_TASK` for unregistered names, `LOAD_ERROR` when nothing is bundled.
 */
export function bundledDatasetFor(task: TaskSpec | string, options: GetTaskOptions = {}): BundledDataset {
  const spec = resolveTask(task, options);
  const b = BY_BASE[spec.prefix];
  if (!b) throw new TaskError('LOAD_ERROR', `no bundled data for ${spec.name}`, { task: spec.name });
  return b;
}

/**
 * Load the bundled sample of a task as raw rows per original split, adapted
 * to the HF column names (ready for `getSplits`/`formatExample`). Only the
 * splits that were available are present, e.g. `{ validation }` for QNLI.
 *
 * @param task - spec or name.
 * @param options - `sst5Mode` for `sst5_text`.
 */
export async function loadBundledTask(task: TaskSpec | string, options: GetTaskOptions = {}): Promise<RowsBySplit> {
  const b = bundledDatasetFor(task, options);
  const raw = await loadSplitFiles(join(bundledDataDir(), b.dir));
  const out: Record<string, readonly RawRow[]> = {};
  for (const [split, rows] of Object.entries(raw)) {
    out[split] = b.adapt ? rows.map(b.adapt) : rows;
  }
  return out;
}
