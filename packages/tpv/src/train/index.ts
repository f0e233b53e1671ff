/** Prompt-tuning training: data pipeline, the training loop, checkpoints and evaluation. */
export { encodeDataset, makeBatch, epochOrder, type TextExample, type BatchTokenizer, type EncodedDataset, type EncodeOptions, type Batch, type StreamItem } from './data.js';
export { trainPrompt, validationLosses, promptOf, writeAtomic, type TrainOptions, type TrainResult, type TrainTask } from './trainer.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointState, type CheckpointTensors } from './checkpoint.js';
export { evaluateGeneration, type DecodingTokenizer, type GenerationEvalOptions, type GenerationEvalResult } from './evaluate.js';
export { loadTaskData, type DataSource, type TaskData, type TaskDataOptions } from './task-data.js';
export { lossCurveSvg, type CurvePoint } from './loss-curve.js';
export { TrainError, type TrainErrorCode } from './errors.js';
