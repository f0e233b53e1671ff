/** PEFT prompt tuning for seq2seq T5: the soft-prompt table, its adapter format and its inits. */
export {
  SoftPrompt,
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  PROMPT_EMBEDDINGS_KEY,
  type PromptModel,
  type FromPeftOptions,
  type SavePeftOptions,
} from './soft-prompt.js';
export {
  sampledVocabInit,
  randomInit,
  textInit,
  sampleVocabIds,
  type PromptInitOptions,
  type SampledVocabInitOptions,
  type RandomInitOptions,
  type TextInitOptions,
} from './init.js';
export { type PromptTuningConfig, promptTuningConfig, parsePromptTuningConfig, serializePromptTuningConfig } from './config.js';
export { pythonJsonDumps, pythonFloatRepr, pythonJsonString } from './python-json.js';
export { PeftError, type PeftErrorCode } from './errors.js';
