/**
 * `@tpvjs/t5`: Hugging Face T5 (`T5ForConditionalGeneration`) in TypeScript on `@tpvjs/tensor`:
 * config and safetensors loading (local or Hub), the model with greedy generation, PEFT soft
 * prompts, the SentencePiece tokenizer and the Hub download layer.
 * @packageDocumentation
 */
export * from './config/index.js';
export * from './weights/index.js';
export * from './model/index.js';
export * from './peft/index.js';
export * from './hub/index.js';
export * from './tokenizer/index.js';
