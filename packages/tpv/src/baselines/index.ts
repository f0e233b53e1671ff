/** Baselines of the paper: ATTEMPT (instance-wise attention over source prompts). */
export { ATTEMPT_TEMPERATURE, AttemptPrompt, attemptInstancePrompts, type AttemptAttention, type AttemptPromptOptions } from './attempt.js';
export { attemptForward, type AttemptBatch } from './attempt-forward.js';
export {
  attemptParameterNames, attemptPromptFromParameters, attemptScheduleForShots, evaluateAttempt, trainAttempt,
  type AttemptEvalLoss, type AttemptEvalOptions, type AttemptEvalResult, type AttemptPromptLike, type AttemptSchedule,
  type AttemptTarget, type AttemptTrainOptions, type AttemptTrainResult,
} from './attempt-train.js';
