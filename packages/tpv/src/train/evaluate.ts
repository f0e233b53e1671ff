import { tensor, tidy } from '@tpvjs/tensor';
import type { SoftPromptLike, T5ForConditionalGeneration } from '@tpvjs/t5';
import { type ComputeMetricsOptions, type TaskMetrics, computeMetrics } from '../metrics/index.js';
import type { TaskSpec } from '../tasks/index.js';
import type { BatchTokenizer, TextExample } from './data.js';

/** A tokenizer that can also decode (`T5Tokenizer` satisfies it). */
export interface DecodingTokenizer extends BatchTokenizer {
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

/** Options for {@link evaluateGeneration}. */
export interface GenerationEvalOptions {
  /** Batch size (32). */
  batchSize?: number;
  /** Source length (256). */
  maxSourceLength?: number;
  /** Longest generation (128 as in the paper-era code; 16 at the reference's HEAD). */
  maxNewTokens?: number;
  /** Metric options (true macro F1, exact-match truncation). */
  metrics?: ComputeMetricsOptions;
}

/** Predictions, targets and metrics of one evaluated dataset. */
export interface GenerationEvalResult {
  predictions: string[];
  targets: string[];
  metrics: TaskMetrics;
}

/**
 * Greedy-decodes every example with the soft prompt (like `predict_with_generate`), decodes with
 * `skip_special_tokens` and scores with the task's metrics (reference definitions by default).
 */
export async function evaluateGeneration(
  model: T5ForConditionalGeneration,
  tokenizer: DecodingTokenizer,
  task: TaskSpec,
  examples: TextExample[],
  prompt: SoftPromptLike | undefined,
  options: GenerationEvalOptions = {},
): Promise<GenerationEvalResult> {
  const bs = options.batchSize ?? 32;
  const predictions: string[] = [];
  model.eval();
  for (let i = 0; i < examples.length; i += bs) {
    const chunk = examples.slice(i, i + bs);
    const enc = tokenizer.encodeBatch(chunk.map((e) => e.source), { maxLength: options.maxSourceLength ?? 256, truncation: true, padding: 'max_length' });
    const ids = tensor(enc.inputIds, { dtype: 'int32' });
    const mask = tensor(enc.attentionMask, { dtype: 'int32' });
    const out = await model.generate({ inputIds: ids, attentionMask: mask, maxNewTokens: options.maxNewTokens ?? 128, ...(prompt ? { softPrompt: prompt } : {}) });
    tidy(() => [ids.dispose(), mask.dispose()]);
    for (const row of out) predictions.push(tokenizer.decode(row, { skipSpecialTokens: true }));
  }
  const targets = examples.map((e) => e.target);
  return { predictions, targets, metrics: computeMetrics(task, predictions, targets, options.metrics) };
}
