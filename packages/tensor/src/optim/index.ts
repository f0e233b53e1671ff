export { AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export { linearWarmupDecay, LinearWarmupSchedule } from './schedule.js';
export { clipGradNorm } from './clip.js';
