/** The T5 model: layers named like HF's `modeling_t5.py`, the full model, generation. */
export {
  T5ForConditionalGeneration,
  type SoftPromptLike,
  type T5EncoderInput,
  type T5ForwardInput,
  type T5Output,
  type T5EncoderOutput,
  type T5GenerateInput,
  type T5FromPretrainedOptions,
  type T5FromConfigOptions,
} from './t5.js';
export { T5Stack, additiveKeyMask, causalMask, FLOAT32_MIN, type T5StackInput, type T5StackOutput } from './stack.js';
export {
  T5Attention,
  T5LayerNorm,
  T5LayerSelfAttention,
  T5LayerCrossAttention,
  T5DenseActDense,
  T5DenseGatedActDense,
  T5LayerFF,
  T5Block,
  type KeyValue,
  type BlockCache,
} from './layers.js';
export { Module, Linear, Embedding, ParamTable, type RunState } from './module.js';
export { relativePositionBucket, relativePositionBuckets } from './position-bias.js';
export { IGNORE_INDEX, shiftRight, shiftRightArray, toIds, toMask, type IdsInput, type MaskInput } from './inputs.js';
export { T5InputError, type T5InputErrorCode } from './errors.js';
export { saveT5Pretrained } from './save.js';
