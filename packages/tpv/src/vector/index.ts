/**
 * Task prompt vectors: the value type and its exact arithmetic, cosine similarity and the RQ1b
 * protocol, merging (sum, mean, TIES, DARE), the RQ2 λ search, `.tpv` files, PEFT adapter export and
 * import, SVG heatmaps and text tables, and the `tpv vector` command handlers.
 *
 * @module
 */
export {
  VectorError,
  VectorFileError,
  isVectorError,
  isVectorFileError,
  type VectorErrorCode,
  type VectorFileErrorCode,
  type VectorFileErrorContext,
} from './errors.js';
export {
  parseTasks,
  formatTasks,
  addTasks,
  negateTasks,
  sumTasks,
  tasksEqual,
  tasksToRecord,
  isValidTaskName,
  type TaskCounts,
  type TaskInput,
} from './task-set.js';
export {
  TOOL_NAME,
  TOOL_VERSION,
  PROVENANCE_LIMITS,
  cloneJson,
  cloneProvenance,
  freshProvenance,
  type JsonValue,
  type Provenance,
} from './provenance.js';
export {
  TaskPromptVector,
  cosineSimilarity,
  similarityMatrix,
  checkShape,
  MAX_VECTOR_ELEMENTS,
  type PromptTable,
  type PromptInput,
  type SimilarityItem,
  type VectorMeta,
  type VectorParts,
  type CompatOptions,
  type SumOptions,
  type ApproxOptions,
} from './task-prompt-vector.js';
export {
  groupSimilarityMatrix,
  originPairMatrix,
  RQ1B_PROMPT_PROTOCOL,
  RQ1B_VECTOR_PROTOCOL,
  type OriginPairRule,
  type GroupSimilarityOptions,
  type GroupSimilarityResult,
} from './similarity.js';
export { mergeVectors, topKMask, MERGE_METHODS, DEFAULT_DENSITY, type MergeMethod, type MergeOptions } from './merge.js';
export {
  searchLambda,
  LAMBDA_GRID,
  type LambdaEvaluator,
  type LambdaSearchOptions,
  type LambdaSearchResult,
  type LambdaTrial,
} from './lambda-search.js';
export {
  encodeTpv,
  decodeTpv,
  decodeTpvDetailed,
  loadTpv,
  loadTpvDetailed,
  saveTpv,
  readFileLimited,
  writeFileAtomic,
  syncDirectory,
  TPV_MAGIC,
  TPV_SCHEMA_VERSION,
  TPV_EXTENSION,
  TPV_METADATA_BYTES,
  DEFAULT_MAX_TPV_ELEMENTS,
  type TpvDtype,
  type LoadTpvOptions,
  type DecodedTpv,
} from './file.js';
export { scanMsgpack, type MsgpackScanLimits, type MsgpackScanProblem } from './msgpack-scan.js';
export {
  exportVectorAsPeft,
  importVectorFromPeft,
  readPromptSource,
  TPV_SIDECAR_NAME,
  PROMPT_TENSOR_NAME,
  type PeftContent,
  type TpvSidecar,
  type PromptSource,
  type ExportPeftOptions,
  type ExportPeftResult,
  type ImportPeftMeta,
} from './peft.js';
export { renderHeatmapSvg, escapeXml, type HeatmapData, type HeatmapOptions } from './heatmap.js';
export { renderTable, renderMatrixTable, formatNumber, type Align, type TableOptions } from './table.js';
export {
  runVectorCommand,
  vectorCreate,
  vectorCombine,
  vectorApply,
  vectorSimilarity,
  vectorInspect,
  consoleIo,
  VECTOR_USAGE,
  type VectorIo,
  type VectorSummary,
  type VectorCreateOptions,
  type VectorCreateResult,
  type VectorCombineOptions,
  type VectorCombineResult,
  type VectorApplyOptions,
  type VectorApplyResult,
  type VectorSimilarityOptions,
  type VectorSimilarityResult,
  type VectorInspectOptions,
  type VectorInspectResult,
  type VectorCommandOutcome,
} from './cli.js';
