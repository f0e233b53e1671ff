/**
 * `@tpvjs/tpv`: task prompt vectors, the paper's tasks and datasets, metrics, prompt-tuning
 * training and the `tpv` CLI.
 * @packageDocumentation
 */
export * from './tasks/index.js';
export * from './metrics/index.js';
export * from './vector/index.js';
export * from './train/index.js';
export * from './experiments/index.js';
export * from './baselines/index.js';
