/**
 * The ATTEMPT training loop and evaluation (mission spec §9), modelled on `train/trainer.ts`.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdamW, Generator, type Tensor, cast, cat, clipGradNorm, embedding, encodeSafetensors, keep, linearWarmupDecay, narrow, noGrad,
  ones, tensor, tidy,
} from '@tpvjs/tensor';
import type { T5ForConditionalGeneration } from '@tpvjs/t5';
import { type ComputeMetricsOptions, type TaskMetrics, computeMetrics } from '../metrics/index.js';
import type { TaskSpec } from '../tasks/index.js';
import { type BatchTokenizer, type EncodedDataset, type TextExample, encodeDataset, epochOrder, makeBatch } from '../train/data.js';
import { TrainError } from '../train/errors.js';
import type { DecodingTokenizer } from '../train/evaluate.js';
import { lossCurveSvg } from '../train/loss-curve.js';
import { writeAtomic } from '../train/trainer.js';
import { StepProgress } from '../util/progress.js';
import { attemptInstancePrompts, type AttemptPrompt } from './attempt.js';
import { attemptForward } from './attempt-forward.js';

/** Epochs and batch size of an ATTEMPT few-shot run (spec §9 table). */
export interface AttemptSchedule {
  /** Training epochs (0: the untrained, randomly initialised attention is evaluated). */
  epochs: number;
  /** Training (and evaluation) batch size. */
  batchSize: number;
}

/**
 * The §9 shots → (epochs, batch) table: 0 → (0, 32); 5/10/25 → (30, 2); 50/100/250 → (20, 8);
 * 500/750/1000 → (10, 16).
 *
 * @param shots - k, the number of training examples per target (one of the table's values)
 * @throws Error for a k that is not in the table
 */
export function attemptScheduleForShots(shots: number): AttemptSchedule {
  if (shots === 0) return { epochs: 0, batchSize: 32 };
  if ([5, 10, 25].includes(shots)) return { epochs: 30, batchSize: 2 };
  if ([50, 100, 250].includes(shots)) return { epochs: 20, batchSize: 8 };
  if ([500, 750, 1000].includes(shots)) return { epochs: 10, batchSize: 16 };
  throw new Error(`no ATTEMPT schedule for ${shots} shots (expected 0, 5, 10, 25, 50, 100, 250, 500, 750 or 1000)`);
}

/** One target dataset of an ATTEMPT run (its index in `targets` selects the target prompt P_t). */
export interface AttemptTarget {
  /** Task name, e.g. `scitail_text`. */
  name: string;
  /** Training examples (the k shots). */
  train: TextExample[];
  /** Validation examples (250 in §9). */
  validation: TextExample[];
  /** Target length: longest tokenised label word incl. EOS. */
  maxTargetLength: number;
}

/** Settings of {@link trainAttempt}; defaults are those of spec §9. */
export interface AttemptTrainOptions {
  /** A frozen T5 (its weights never receive gradients). */
  model: T5ForConditionalGeneration;
  /** Tokeniser used to encode sources and targets. */
  tokenizer: BatchTokenizer;
  /**
   * The ATTEMPT module, owned by the caller and trained in place (it ends with the parameters of
   * the last epoch; the best epoch's values are returned and saved). Needs one target prompt per target.
   */
  prompt: AttemptPrompt;
  /** Target datasets; `targets[t]` trains `prompt.targets[t]`. */
  targets: AttemptTarget[];
  /** Output folder; must not exist or be empty. */
  outDir: string;
  /** Rows of the instance prompt prepended to the encoder (50). */
  numVirtualTokens?: number;
  /** Training epochs (see {@link attemptScheduleForShots}). */
  epochs: number;
  /** Training batch size (see {@link attemptScheduleForShots}). */
  batchSize: number;
  /** Validation batch size (defaults to `batchSize`). */
  evalBatchSize?: number;
  /** Peak learning rate (0.3). */
  lr?: number;
  /** Decoupled weight decay (0.01, PyTorch's AdamW default, on every trainable tensor). */
  weightDecay?: number;
  /** Linear warmup steps (500). */
  warmupSteps?: number;
  /** Gradient-norm clip (1.0). */
  maxGradNorm?: number;
  /** Seed of the data order and the dropout stream (42). */
  seed?: number;
  /** Source length (256). */
  maxSourceLength?: number;
  /** Label padding → −100 (default true, as ATT does). */
  ignorePadInLoss?: boolean;
  /** No progress output. */
  silent?: boolean;
  /** Where progress goes (default stderr). */
  progressSink?: { write(s: string): unknown; isTTY?: boolean };
}

/** One validation of an ATTEMPT run. */
export interface AttemptEvalLoss {
  /** Epoch after which it ran (0: before training, only for 0-epoch runs). */
  epoch: number;
  /** Optimiser steps done so far. */
  step: number;
  /** Mean of the per-target validation losses. */
  loss: number;
  /** Validation loss per target name. */
  perTask: Record<string, number>;
}

/** What {@link trainAttempt} reports. */
export interface AttemptTrainResult {
  /** Epoch with the lowest mean validation loss (0 for a 0-epoch run). */
  bestEpoch: number;
  /** That loss. */
  bestLoss: number;
  /** Training loss per optimiser step (with the target it trained). */
  trainLosses: { step: number; epoch: number; target: number; loss: number }[];
  /** Validation losses, one entry per epoch. */
  evalLosses: AttemptEvalLoss[];
  /** Host copies of every trainable tensor at the best epoch, by the names used in `attempt.safetensors`. */
  bestParameters: Record<string, Float32Array>;
}

/**
 * Names of the trainable tensors in `attempt.safetensors`, in `prompt.parameters()` order:
 * `target_prompts.<t>`, `attention.w_down`, `attention.w_up`, `attention.layer_norm.weight`,
 * `attention.layer_norm.bias`.
 */
export function attemptParameterNames(prompt: AttemptPrompt): string[] {
  return [
    ...prompt.targets.map((_, t) => `target_prompts.${t}`),
    'attention.w_down', 'attention.w_up', 'attention.layer_norm.weight', 'attention.layer_norm.bias',
  ];
}

/** Anything that makes ATTEMPT instance prompts (an {@link AttemptPrompt} or {@link attemptPromptFromParameters}). */
export interface AttemptPromptLike {
  /** `[B, L, d]` instance prompts for input embeddings `[B, Lin, d]`. */
  instancePrompts(inputsEmbeds: Tensor, targetIndex?: number): Tensor;
}

/**
 * A frozen ATTEMPT prompt from saved parameter values (e.g. `bestParameters`) and the sources,
 * temperature and epsilon of `prompt`. Owns copies of the values; call `dispose`.
 */
export function attemptPromptFromParameters(
  prompt: AttemptPrompt,
  parameters: Record<string, Float32Array>,
): AttemptPromptLike & { dispose(): void } {
  const names = attemptParameterNames(prompt);
  const ts = prompt.parameters().map((p, i) => {
    const v = parameters[names[i]!];
    if (!v || v.length !== p.size) throw new Error(`parameter ${names[i]} is missing or has the wrong size`);
    return keep(tensor(v, { shape: [...p.shape] }));
  });
  const nt = prompt.targets.length;
  const attn = { wDown: ts[nt]!, wUp: ts[nt + 1]!, gamma: ts[nt + 2]!, beta: ts[nt + 3]! };
  return {
    instancePrompts(inputsEmbeds: Tensor, targetIndex = 0): Tensor {
      const target = ts[targetIndex];
      if (targetIndex < 0 || targetIndex >= nt || !target) throw new Error(`target index ${targetIndex} out of range (${nt} targets)`);
      return attemptInstancePrompts(inputsEmbeds, prompt.sources, target, attn, prompt.temperature, prompt.eps);
    },
    dispose(): void {
      for (const t of ts) t.dispose();
    },
  };
}

/** Mean teacher-forced ATTEMPT loss on each target's validation set (eval mode, no graph). */
async function attemptValidationLosses(
  model: T5ForConditionalGeneration,
  prompt: AttemptPrompt,
  sets: EncodedDataset[],
  n: number,
  batchSize: number,
): Promise<Record<string, number>> {
  model.eval();
  const out: Record<string, number> = {};
  for (let t = 0; t < sets.length; t++) {
    const ds = sets[t]!;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < ds.inputIds.length; i += batchSize) {
      const rows = Array.from({ length: Math.min(batchSize, ds.inputIds.length - i) }, (_, k) => ({ ds, row: i + k }));
      const l = noGrad(() => tidy(() => attemptForward(model, prompt, makeBatch(rows), n, t)));
      sum += (await l.item()) * rows.length;
      count += rows.length;
      l.dispose();
    }
    out[ds.name] = count ? sum / count : NaN;
  }
  return out;
}

/**
 * One epoch's batches. Each target's rows are shuffled (the per-target subsequence of the seeded
 * `epochOrder` over all targets) and cut into batches of one target each, because a batch needs a
 * single target prompt P_t; the targets' batch lists are then **alternated** round-robin
 * (t0, t1, t0, t1, …, then the longer list's remainder).
 */
function epochBatches(sizes: number[], batchSize: number, seed: number, epoch: number): { target: number; rows: number[] }[] {
  const order = epochOrder(sizes, seed, epoch, (n, s) => new Generator(s).permutation(n));
  const lists = sizes.map((_, t) => {
    const rows = order.filter((it) => it.dataset === t).map((it) => it.row);
    const out: { target: number; rows: number[] }[] = [];
    for (let i = 0; i < rows.length; i += batchSize) out.push({ target: t, rows: rows.slice(i, i + batchSize) });
    return out;
  });
  const res: { target: number; rows: number[] }[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) res.push(l[i]!);
  return res;
}

/**
 * Trains ATTEMPT like §9: plain AdamW (lr 0.3, weight decay 0.01, β = (0.9, 0.999), ε = 1e-8) over
 * the target prompts and the attention sub-network (sources and model frozen), linear warmup (500)
 * then decay to 0 over batches-per-epoch × epochs steps (so few-shot runs never reach the peak lr),
 * gradient clipping, dropout on while training, validation after every epoch and the best epoch by
 * the mean validation loss over the targets. Multi-target batches alternate between targets (see
 * `epochBatches`). Writes `attempt.safetensors` (the best epoch's trainable tensors, see
 * {@link attemptParameterNames}), `history.json` and `loss-curve.svg` atomically into `outDir`.
 *
 * @throws TrainError `OUTPUT_EXISTS` for a non-empty `outDir`, `NO_DATA`, `BAD_PROMPT`, `NAN_LOSS`
 */
export async function trainAttempt(o: AttemptTrainOptions): Promise<AttemptTrainResult> {
  const n = o.numVirtualTokens ?? 50;
  const lr = o.lr ?? 0.3;
  const seed = o.seed ?? 42;
  const maxSourceLength = o.maxSourceLength ?? 256;
  const ignorePadInLoss = o.ignorePadInLoss ?? true;
  const { model, prompt } = o;
  if (o.targets.length === 0) throw new TrainError('NO_DATA', 'no target datasets');
  if (prompt.targets.length !== o.targets.length) {
    throw new TrainError('BAD_PROMPT', `the prompt has ${prompt.targets.length} target prompts for ${o.targets.length} target datasets`);
  }
  if (prompt.targets[0]!.shape[1] !== model.config.dModel) {
    throw new TrainError('BAD_PROMPT', `prompt dim ${prompt.targets[0]!.shape[1]} does not match the model's d_model ${model.config.dModel}`);
  }
  if (!Number.isSafeInteger(o.epochs) || o.epochs < 0) throw new TrainError('NO_DATA', `epochs must be a non-negative integer, got ${o.epochs}`);
  if (!(o.batchSize >= 1)) throw new TrainError('NO_DATA', `batch size must be positive, got ${o.batchSize}`);
  if (existsSync(o.outDir) && readdirSync(o.outDir).length > 0) {
    throw new TrainError('OUTPUT_EXISTS', `output folder ${o.outDir} exists and is not empty; choose another one`);
  }
  const enc = (t: AttemptTarget, ex: TextExample[]) =>
    encodeDataset(t.name, ex, o.tokenizer, { maxSourceLength, maxTargetLength: t.maxTargetLength, ignorePadInLoss });
  const trainSets = o.targets.map((t) => enc(t, t.train));
  const validSets = o.targets.map((t) => enc(t, t.validation));
  const sizes = trainSets.map((d) => d.inputIds.length);
  if (o.epochs > 0 && sizes.some((s) => s === 0)) throw new TrainError('NO_DATA', 'every target needs training examples');
  const stepsPerEpoch = sizes.reduce((a, s) => a + Math.ceil(s / o.batchSize), 0);
  const total = stepsPerEpoch * o.epochs;
  mkdirSync(o.outDir, { recursive: true });

  const params = prompt.parameters();
  const names = attemptParameterNames(prompt);
  const opt = new AdamW(params, { lr, weightDecay: o.weightDecay ?? 0.01, betas: [0.9, 0.999], eps: 1e-8 });
  const gen = new Generator(seed);
  const prevGen = model.generator;
  model.generator = gen;
  const trainLosses: AttemptTrainResult['trainLosses'] = [];
  const evalLosses: AttemptEvalLoss[] = [];
  let bestLoss = Infinity;
  let bestEpoch = -1;
  let bestParameters: Record<string, Float32Array> = {};
  const snapshot = async () => {
    const out: Record<string, Float32Array> = {};
    for (let i = 0; i < params.length; i++) out[names[i]!] = Float32Array.from(await params[i]!.data());
    return out;
  };
  let step = 0;
  const evaluate = async (epoch: number) => {
    const per = await attemptValidationLosses(model, prompt, validSets.filter((d) => d.inputIds.length > 0), n, o.evalBatchSize ?? o.batchSize);
    const vals = Object.values(per);
    const mean = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
    evalLosses.push({ epoch, step, loss: mean, perTask: per });
    // A run without validation data keeps its last epoch.
    if (mean < bestLoss || (Number.isNaN(mean) && epoch >= bestEpoch)) {
      bestLoss = mean;
      bestEpoch = epoch;
      bestParameters = await snapshot();
    }
    return mean;
  };
  const bar = new StepProgress(Math.max(1, total), { label: `attempt ${o.targets.map((t) => t.name).join('+')}`, silent: o.silent ?? false, sink: o.progressSink });
  try {
    if (o.epochs === 0) await evaluate(0);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      for (const b of epochBatches(sizes, o.batchSize, seed, epoch - 1)) {
        // HF/PyTorch LambdaLR: the update after `step` completed steps uses factor(step).
        opt.lr = linearWarmupDecay(step, lr, o.warmupSteps ?? 500, total);
        model.train();
        const lossT = tidy(() => {
          opt.zeroGrad();
          const batch = makeBatch(b.rows.map((row) => ({ ds: trainSets[b.target]!, row })));
          const l = attemptForward(model, prompt, batch, n, b.target);
          l.backward();
          clipGradNorm(params, o.maxGradNorm ?? 1.0).dispose();
          opt.step();
          return l.detach();
        });
        const loss = await lossT.item();
        lossT.dispose();
        if (!Number.isFinite(loss)) throw new TrainError('NAN_LOSS', `training loss became ${loss} at step ${step + 1}`);
        step++;
        trainLosses.push({ step, epoch, target: b.target, loss });
        bar.update(step, { loss, lr: opt.lr });
      }
      const val = await evaluate(epoch);
      bar.update(step, { val });
    }
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    params.forEach((p, i) => {
      tensors[names[i]!] = { dtype: 'F32', shape: [...p.shape], data: bestParameters[names[i]!]! };
    });
    writeAtomic(join(o.outDir, 'attempt.safetensors'), encodeSafetensors(tensors, {
      format: 'pt', targets: JSON.stringify(o.targets.map((t) => t.name)), best_epoch: String(bestEpoch), num_virtual_tokens: String(n),
      temperature: String(prompt.temperature),
    }));
    writeAtomic(join(o.outDir, 'history.json'), JSON.stringify({
      targets: o.targets.map((t) => t.name), epochs: o.epochs, batchSize: o.batchSize, stepsPerEpoch, totalSteps: total,
      bestEpoch, bestLoss: Number.isFinite(bestLoss) ? bestLoss : null, trainLosses, evalLosses,
    }, null, 1));
    writeAtomic(join(o.outDir, 'loss-curve.svg'), lossCurveSvg(
      [
        { name: 'train loss', points: trainLosses.map((p) => ({ step: p.step, value: p.loss })) },
        { name: 'validation loss', points: evalLosses.map((p) => ({ step: p.step, value: p.loss })) },
      ],
      `ATTEMPT: ${o.targets.map((t) => t.name).join(' + ')}`,
    ));
    return { bestEpoch, bestLoss, trainLosses, evalLosses, bestParameters };
  } finally {
    model.generator = prevGen;
    model.eval();
    opt.zeroGrad();
    opt.dispose();
  }
}

/** Options of {@link evaluateAttempt}. */
export interface AttemptEvalOptions {
  /** Batch size (32). */
  batchSize?: number;
  /** Source length (256, padded to it as in ATT). */
  maxSourceLength?: number;
  /** Longest generation (128). */
  maxNewTokens?: number;
  /** Instance-prompt rows in front of the input (50). */
  numVirtualTokens?: number;
  /** Which target prompt to use (0). */
  targetIndex?: number;
  /** Metric options. */
  metrics?: ComputeMetricsOptions;
}

/** Predictions, targets and metrics of {@link evaluateAttempt}. */
export interface AttemptEvalResult {
  /** Decoded generations (special tokens skipped). */
  predictions: string[];
  /** Gold target strings. */
  targets: string[];
  /** The task's metrics. */
  metrics: TaskMetrics;
}

/**
 * Greedy-decodes every example with its own ATTEMPT instance prompt (the first `numVirtualTokens`
 * rows before the input embeddings, leading ones in the mask), decodes with `skipSpecialTokens`
 * and scores with {@link computeMetrics}. The model is put in eval mode.
 */
export async function evaluateAttempt(
  model: T5ForConditionalGeneration,
  tokenizer: DecodingTokenizer,
  prompt: AttemptPromptLike,
  task: TaskSpec,
  examples: TextExample[],
  options: AttemptEvalOptions = {},
): Promise<AttemptEvalResult> {
  const bs = options.batchSize ?? 32;
  const n = options.numVirtualTokens ?? 50;
  const targetIndex = options.targetIndex ?? 0;
  const predictions: string[] = [];
  model.eval();
  for (let i = 0; i < examples.length; i += bs) {
    const chunk = examples.slice(i, i + bs);
    const e = tokenizer.encodeBatch(chunk.map((x) => x.source), { maxLength: options.maxSourceLength ?? 256, truncation: true, padding: 'max_length' });
    const [inputsEmbeds, attentionMask] = noGrad(() =>
      tidy(() => {
        const ids = tensor(e.inputIds, { dtype: 'int32' });
        const embeds = embedding(model.shared.weight, ids);
        const pInst = prompt.instancePrompts(embeds, targetIndex);
        const x = cat([narrow(pInst, 1, 0, n), embeds], 1);
        const m = cat([ones([chunk.length, n]), cast(tensor(e.attentionMask, { dtype: 'int32' }), 'float32')], 1);
        return [keep(x), keep(m)] as const;
      }),
    );
    try {
      const out = await model.generate({ inputsEmbeds, attentionMask, maxNewTokens: options.maxNewTokens ?? 128 });
      for (const row of out) predictions.push(tokenizer.decode(row, { skipSpecialTokens: true }));
    } finally {
      inputsEmbeds.dispose();
      attentionMask.dispose();
    }
  }
  const targets = examples.map((x) => x.target);
  return { predictions, targets, metrics: computeMetrics(task, predictions, targets, options.metrics) };
}
