/**
 * Experiments: resumable grids of independent runs recorded in a results journal, and reports
 * (Markdown tables, SVG figures) regenerated from the journal.
 *
 * @module
 */
export { Journal, parseJournal, type JournalRecord, type JournalContents, type JournalProblem, type TaskScores, type InitSpec } from './journal.js';
export {
  runGrid, expandGrid, parseGridSpec, cellKey, cellDirName, initLabel, ExperimentError,
  type GridSpec, type CellSpec, type Cell, type GridTraining, type CellOutcome, type CellContext, type CellTrainer, type GridDeps, type GridRunSummary,
} from './grid.js';
export { createCellTrainer, findSourcePrompt, type CellTrainerOptions } from './runner.js';
export {
  meanStd100, aggregatePromptTuning, relativePerformance, renderReport, renderShotsSvg, fewShotTasks, formatMeanStd, latestRecords,
  type MeanStd, type AggregateRow, type RelativeRow,
} from './report.js';
export { runExperimentCommand, EXPERIMENT_HELP } from './cli.js';
