/** Loading Hugging Face T5 safetensors checkpoints (single file or sharded). */
export { T5Checkpoint, SAFETENSORS_WEIGHTS_NAME, SAFETENSORS_INDEX_NAME, type CheckpointEntry } from './checkpoint.js';
export { checkT5Checkpoint, loadT5Weights, type LoadT5WeightsOptions } from './load.js';
export { openT5Checkpoint } from './resolve.js';
export { t5ParameterSpecs, T5_IGNORED_TENSORS, type T5ParameterSpec } from './specs.js';
export { T5WeightsError, type T5WeightsErrorCode, type T5WeightsProblem } from './errors.js';
