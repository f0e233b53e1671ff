/**
 * Evaluation metrics of the reference code: `<U16` exact match, binary
 * positive-class F1 with the invalid-prediction flip, sklearn macro F1, and
 * a true macro F1 option.
 *
 * @packageDocumentation
 */
export {
  MetricError,
  binaryF1,
  computeMetrics,
  exactMatch,
  macroF1,
  numpySum,
  numpyUnicodeCast,
  postprocess,
  pyStrip,
  trueMacroF1,
  type ComputeMetricsOptions,
  type ExactMatchOptions,
  type F1Mode,
  type MetricErrorCode,
  type TaskMetrics,
} from './metrics.js';
