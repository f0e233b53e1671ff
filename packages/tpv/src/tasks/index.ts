/**
 * Tasks of the Task Prompt Vectors paper: registry, formatting, seeded
 * HF-compatible splits and sampling, file/Hub loaders and bundled samples.
 *
 * @packageDocumentation
 */
export { TaskError, isTaskError, type TaskErrorCode } from './errors.js';
export {
  LARGE_DATASETS,
  NUMERIC_TASK_NAMES,
  SMALL_DATASETS,
  TASK_NAMES,
  TEXT_TASK_NAMES,
  getTask,
  isTaskName,
  listTasks,
  resolveTask,
  type GetTaskOptions,
  type HubSource,
  type LogicalSplit,
  type MetricSpec,
  type NumericTaskName,
  type SizeClass,
  type Sst5Mode,
  type TaskName,
  type TaskSpec,
  type TemplateSegment,
  type TextTaskName,
} from './registry.js';
export {
  formatExample,
  formatExamples,
  labelId,
  maxTargetLength,
  type EncodeLike,
  type FormattedExample,
  type MaxTargetLengthOptions,
  type RawRow,
} from './format.js';
export { NumpyGenerator, seedSequenceState } from './numpy-random.js';
export {
  DEFAULT_SEED,
  approximateMode,
  fewShot,
  getSplit,
  getSplits,
  shuffleIndices,
  shuffleRows,
  stratifiedShuffleSplit,
  subsample,
  trainTestSplit,
  trainTestSplitIndices,
  type RowsBySplit,
  type SplitIndices,
  type SplitOptions,
  type SplitSize,
  type TaskSplits,
  type TrainTestSplitOptions,
} from './sampling.js';
export {
  KNOWN_SPLIT_NAMES,
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
  type DelimitedOptions,
  type HubFileResolver,
  type LoadHubDatasetOptions,
  type LoadTaskSplitsOptions,
  type ReadTableOptions,
  type Row,
  type TableFormat,
} from './loaders.js';
export { hubDatasetResolver } from './hub-resolver.js';
export { bundledDataDir, bundledDatasetFor, loadBundledTask, type BundledDataset } from './bundled.js';
