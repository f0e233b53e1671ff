/** Baselines of the paper: ATTEMPT (instance-wise attention over source prompts). */
export { ATTEMPT_TEMPERATURE, AttemptPrompt, attemptInstancePrompts, type AttemptAttention, type AttemptPromptOptions } from './attempt.js';
export { attemptForward, type AttemptBatch } from './attempt-forward.js';
