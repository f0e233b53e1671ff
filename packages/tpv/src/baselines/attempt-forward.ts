/**
 * The ATTEMPT training forward pass (mission spec §9): instance prompts are computed from the
 * input embeddings and their first n rows are prepended to the encoder input.
 */
import { type Tensor, cast, cat, embedding, narrow, ones } from '@tpvjs/tensor';
import type { T5ForConditionalGeneration } from '@tpvjs/t5';
import type { AttemptPrompt } from './attempt.js';

/** One ATTEMPT batch (the same int32 tensors as the trainer's `Batch`). */
export interface AttemptBatch {
  /** Encoder ids `[B, Lin]` (int32), padded; the pads take part in the max-pool, as in ATT. */
  inputIds: Tensor;
  /** 1 for tokens, 0 for padding `[B, Lin]`. */
  attentionMask: Tensor;
  /** Targets `[B, T]` (int32), −100 skipped by the loss. */
  labels: Tensor;
}

/**
 * Loss of one ATTEMPT batch: embeds = E[ids]; P_inst = prompt.instancePrompts(embeds, targetIndex);
 * encoder input = cat([P_inst[:, :n], embeds], 1) with n leading ones in the attention mask.
 * Call inside `tidy`; gradients reach only the prompt's parameters (the model stays frozen).
 *
 * @param numVirtualTokens - n, how many instance-prompt rows go in front of the input (50 in §9)
 * @param targetIndex - which target prompt to use (default 0)
 * @returns the scalar mean cross-entropy
 */
export function attemptForward(
  model: T5ForConditionalGeneration,
  prompt: AttemptPrompt,
  batch: AttemptBatch,
  numVirtualTokens: number,
  targetIndex = 0,
): Tensor {
  const embeds = embedding(model.shared.weight, batch.inputIds); // [B, Lin, d]
  const [b] = embeds.shape as [number, number, number];
  const pInst = prompt.instancePrompts(embeds, targetIndex);
  if (numVirtualTokens < 1 || numVirtualTokens > pInst.shape[1]!) {
    throw new Error(`numVirtualTokens ${numVirtualTokens} must be in [1, ${pInst.shape[1]}] (the prompt's rows)`);
  }
  const inputsEmbeds = cat([narrow(pInst, 1, 0, numVirtualTokens), embeds], 1);
  // The virtual tokens are always attended to, like PEFT's prompt tuning.
  const attentionMask = cat([ones([b, numVirtualTokens]), cast(batch.attentionMask, 'float32')], 1);
  return model.forward({ inputsEmbeds, attentionMask, labels: batch.labels }).loss!;
}
