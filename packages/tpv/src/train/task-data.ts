import {
  type RowsBySplit, type Sst5Mode, type TaskSpec, TaskError, fewShot, formatExamples, getSplits, getTask, loadBundledTask,
  loadTaskSplits, loadHubTaskSplits, hubDatasetResolver,
} from '../tasks/index.js';
import type { ResolveOptions } from '@tpvjs/t5';
import type { TextExample } from './data.js';

/** Where a task's rows come from: the bundled samples, a local folder, the Hub (parquet conversion) or given rows. */
export type DataSource =
  | { kind: 'bundled' }
  | { kind: 'dir'; dir: string }
  | { kind: 'hub'; options?: ResolveOptions }
  | { kind: 'rows'; rows: RowsBySplit };

/** Options for {@link loadTaskData}. */
export interface TaskDataOptions {
  source: DataSource;
  /** k-shot training set (stratified, seed 42; the same k rows for every origin). */
  fewShot?: number;
  /** Caps (stratified): `max_train_samples`, `max_valid_samples`, `max_test_samples`. */
  maxTrain?: number;
  maxValid?: number;
  maxTest?: number;
  /** Rows held out of train for validation under the large-dataset rule (reference 1000). */
  largeValidationSize?: number;
  /** `sst5_text` as in the reference (SST-2 data) or real SST-5. */
  sst5Mode?: Sst5Mode;
}

/** A task's three splits as text examples. */
export interface TaskData {
  spec: TaskSpec;
  train: TextExample[];
  validation: TextExample[];
  test: TextExample[];
}

/**
 * Loads a task and applies the reference's split rules (§5 of the spec): the large/small rules,
 * stratified caps and few-shot sampling, all with seed 42.
 */
export async function loadTaskData(name: string, o: TaskDataOptions): Promise<TaskData> {
  const spec = getTask(name, o.sst5Mode ? { sst5Mode: o.sst5Mode } : {});
  let rows: RowsBySplit;
  if (o.source.kind === 'bundled') rows = await loadBundledTask(spec, o.sst5Mode ? { sst5Mode: o.sst5Mode } : {});
  else if (o.source.kind === 'dir') rows = await loadTaskSplits(spec, { dir: o.source.dir });
  else if (o.source.kind === 'hub') rows = await loadHubTaskSplits(spec, { resolver: hubDatasetResolver(o.source.options ?? {}) });
  else rows = o.source.rows;
  const splitOpts = {
    ...(o.maxTrain ? { maxTrain: o.maxTrain } : {}),
    ...(o.maxValid ? { maxValid: o.maxValid } : {}),
    ...(o.maxTest ? { maxTest: o.maxTest } : {}),
    ...(o.largeValidationSize ? { largeValidationSize: o.largeValidationSize } : {}),
  };
  const splits = getSplits(spec, rows, splitOpts);
  const train = o.fewShot !== undefined ? fewShot(spec, rows, o.fewShot, splitOpts) : splits.train;
  const toText = (r: ReturnType<typeof formatExamples>) => r.map((e) => ({ source: e.source, target: e.target }));
  const data = { spec, train: toText(formatExamples(spec, train)), validation: toText(formatExamples(spec, splits.validation)), test: toText(formatExamples(spec, splits.test)) };
  if (data.train.length === 0 && o.fewShot !== 0) throw new TaskError('LOAD_ERROR', `task ${name} has no training rows in this source`, { task: name });
  return data;
}
