/** T5 `config.json` parsing with Hugging Face defaults. */
export { parseT5Config, loadT5Config, t5ConfigToJson, type T5Config, type T5Activation } from './config.js';
export { T5ConfigError, type T5ConfigErrorCode } from './errors.js';
