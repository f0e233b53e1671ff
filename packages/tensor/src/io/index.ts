/** Tensor file IO (safetensors) on plain typed arrays; see `./safetensors.ts`. */
export * from './safetensors.js';
