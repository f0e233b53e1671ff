import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdamW, Generator, type Tensor, clipGradNorm, keep, linearWarmupDecay, narrow, noGrad, tensor, tidy,
} from '@tpvjs/tensor';
import type { SoftPromptLike, T5ForConditionalGeneration } from '@tpvjs/t5';
import { type CheckpointState, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type BatchTokenizer, type EncodedDataset, type TextExample, encodeDataset, epochOrder, makeBatch } from './data.js';
import { TrainError } from './errors.js';
import { lossCurveSvg } from './loss-curve.js';
import { StepProgress } from '../util/progress.js';
import { writeFileAtomic } from '../vector/file.js';

/** One dataset of a (single- or multi-task) run. */
export interface TrainTask {
  /** Task name, e.g. `sst2_text`. */
  name: string;
  /** Training examples. */
  train: TextExample[];
  /** Validation examples (the best prompt is chosen by mean validation loss over all tasks). */
  validation: TextExample[];
  /** Target length: longest tokenised label word incl. EOS. */
  maxTargetLength: number;
}

/** Settings of a prompt-tuning run; defaults are the paper's (`spec/mission-spec.md` §7). */
export interface TrainOptions {
  /** A frozen T5 (weights never receive gradients). */
  model: T5ForConditionalGeneration;
  /** Tokeniser used to encode sources and targets. */
  tokenizer: BatchTokenizer;
  /** One task, or several for multi-task (SPoT) training on their concatenation. */
  tasks: TrainTask[];
  /** The initial prompt table θ₀ (row-major `[rows, dim]`). */
  origin: Float32Array;
  /** Table shape `[numTransformerSubmodules · numVirtualTokens, d_model]`. */
  promptShape: [number, number];
  /** Rows prepended to the encoder (PEFT: the first `numVirtualTokens`). */
  numVirtualTokens: number;
  /** Output folder (checkpoints, best prompt, curves). */
  outDir: string;
  /** Continue from `outDir/checkpoint` (and allow an existing `outDir`). */
  resume?: boolean;
  /** Peak learning rate (0.3). */
  lr?: number;
  /** Decoupled weight decay (1e-5). */
  weightDecay?: number;
  /** Linear warmup steps (500). */
  warmupSteps?: number;
  /** Gradient-norm clip (1.0). */
  maxGradNorm?: number;
  /** Training batch size (32). */
  batchSize?: number;
  /** Evaluation batch size (defaults to `batchSize`). */
  evalBatchSize?: number;
  /** Epochs (10), unless `maxSteps` is given. */
  epochs?: number;
  /** Total optimiser steps; overrides `epochs` (few-shot runs use 1000). */
  maxSteps?: number;
  /** Evaluate and checkpoint every this many steps (100). */
  evalEvery?: number;
  /** Seed of the data order and the dropout stream (42). */
  seed?: number;
  /** Source length (256). */
  maxSourceLength?: number;
  /** Ignore target padding in the loss (default false: the reference counts pad id 0). */
  ignorePadInLoss?: boolean;
  /** Stop (as if killed) after this many steps of this invocation; for tests of `resume`. */
  stopAfterSteps?: number;
  /** Progress bar output; `silent` for machine-readable runs. */
  silent?: boolean;
  /** Where progress goes (default stderr). */
  progressSink?: { write(s: string): unknown; isTTY?: boolean };
}

/** What a finished run reports. */
export interface TrainResult {
  /** Optimiser steps taken in total. */
  steps: number;
  /** Step of the best validation loss. */
  bestStep: number;
  /** Best mean validation loss. */
  bestLoss: number;
  /** The best prompt table. */
  bestPrompt: Float32Array;
  /** The last prompt table. */
  finalPrompt: Float32Array;
  /** Training loss per step. */
  trainLosses: { step: number; loss: number }[];
  /** Validation losses per evaluation. */
  evalLosses: CheckpointState['evalLosses'];
}

/** A soft prompt over a trainable table for the model (first `n` rows go to the encoder). */
export function promptOf(table: Tensor, numVirtualTokens: number): SoftPromptLike {
  return { numVirtualTokens, table, encoderPrefix: () => narrow(table, 0, 0, numVirtualTokens) };
}

function fingerprint(o: TrainOptions, total: number): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({
    tasks: o.tasks.map((t) => [t.name, t.train.length, t.validation.length, t.maxTargetLength]),
    shape: o.promptShape, n: o.numVirtualTokens, lr: o.lr, wd: o.weightDecay, warm: o.warmupSteps, clip: o.maxGradNorm,
    bs: o.batchSize, total, seed: o.seed, src: o.maxSourceLength, ign: o.ignorePadInLoss,
  }));
  h.update(Buffer.from(o.origin.buffer, o.origin.byteOffset, o.origin.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** Mean teacher-forced loss of `prompt` on each dataset (eval mode, no dropout, no graph). */
export async function validationLosses(
  model: T5ForConditionalGeneration,
  datasets: EncodedDataset[],
  prompt: SoftPromptLike,
  batchSize: number,
): Promise<Record<string, number>> {
  model.eval();
  const out: Record<string, number> = {};
  for (const ds of datasets) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < ds.inputIds.length; i += batchSize) {
      const rows = Array.from({ length: Math.min(batchSize, ds.inputIds.length - i) }, (_, k) => ({ ds, row: i + k }));
      const l = noGrad(() =>
        tidy(() => {
          const b = makeBatch(rows);
          return model.forward({ ...b, softPrompt: prompt }).loss!;
        }),
      );
      // HF's evaluation loop averages per-batch mean losses weighted by batch size.
      sum += (await l.item()) * rows.length;
      n += rows.length;
      l.dispose();
    }
    out[ds.name] = n ? sum / n : NaN;
  }
  return out;
}

/**
 * Prompt-tunes a soft prompt like the paper's code (HF `Seq2SeqTrainer` + PEFT): AdamW on the
 * whole table, linear warmup then decay, gradient clipping, dropout on, evaluation every
 * `evalEvery` steps by mean validation loss (over all tasks), keeping the best prompt.
 * Checkpoints are atomic and `resume` continues to exactly the result of an uninterrupted run.
 */
export async function trainPrompt(o: TrainOptions): Promise<TrainResult> {
  const opts: Required<Omit<TrainOptions, 'maxSteps' | 'stopAfterSteps' | 'progressSink' | 'evalBatchSize'>> & TrainOptions = {
    resume: false, lr: 0.3, weightDecay: 1e-5, warmupSteps: 500, maxGradNorm: 1.0, batchSize: 32, epochs: 10, evalEvery: 100,
    seed: 42, maxSourceLength: 256, ignorePadInLoss: false, silent: false, ...o,
  };
  const [rows, dim] = opts.promptShape;
  if (opts.origin.length !== rows * dim) {
    throw new TrainError('BAD_PROMPT', `origin prompt has ${opts.origin.length} values, expected ${rows}×${dim}`);
  }
  if (opts.model.config.dModel !== dim) {
    throw new TrainError('BAD_PROMPT', `prompt dim ${dim} does not match the model's d_model ${opts.model.config.dModel}`);
  }
  if (opts.numVirtualTokens > rows) throw new TrainError('BAD_PROMPT', `numVirtualTokens ${opts.numVirtualTokens} exceeds the table's ${rows} rows`);
  const trainSets = opts.tasks.map((t) => encodeDataset(t.name, t.train, opts.tokenizer, { maxSourceLength: opts.maxSourceLength, maxTargetLength: t.maxTargetLength, ignorePadInLoss: opts.ignorePadInLoss }));
  const validSets = opts.tasks.map((t) => encodeDataset(t.name, t.validation, opts.tokenizer, { maxSourceLength: opts.maxSourceLength, maxTargetLength: t.maxTargetLength, ignorePadInLoss: opts.ignorePadInLoss }));
  const sizes = trainSets.map((d) => d.inputIds.length);
  const nTrain = sizes.reduce((a, b) => a + b, 0);
  if (nTrain === 0) throw new TrainError('NO_DATA', 'no training examples');
  const stepsPerEpoch = Math.ceil(nTrain / opts.batchSize);
  const total = opts.maxSteps ?? stepsPerEpoch * opts.epochs;
  const fp = fingerprint(opts, total);

  if (existsSync(opts.outDir) && readdirSync(opts.outDir).length > 0 && !opts.resume) {
    throw new TrainError('OUTPUT_EXISTS', `output folder ${opts.outDir} exists and is not empty; choose another --out or pass --resume`);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const ck = opts.resume ? loadCheckpoint(opts.outDir) : null;
  if (ck && ck.state.fingerprint !== fp) {
    throw new TrainError('RESUME_MISMATCH', `the checkpoint in ${opts.outDir} was made with other settings or data (fingerprint ${ck.state.fingerprint}, now ${fp})`);
  }

  const gen = new Generator(opts.seed);
  const table = keep(tensor(ck ? ck.tensors.prompt : opts.origin, { shape: [rows, dim], requiresGrad: true }));
  const prompt = promptOf(table, opts.numVirtualTokens);
  const opt = new AdamW([table], { lr: opts.lr, weightDecay: opts.weightDecay, betas: [0.9, 0.999], eps: 1e-8 });
  let step = 0;
  let bestLoss = Infinity;
  let bestStep = -1;
  let best = Float32Array.from(opts.origin);
  const trainLosses: TrainResult['trainLosses'] = [];
  const evalLosses: CheckpointState['evalLosses'] = [];
  if (ck) {
    step = ck.state.step;
    gen.setState(ck.state.rng);
    opt.loadState({ step, lr: opts.lr, m: [ck.tensors.m], v: [ck.tensors.v] });
    bestLoss = ck.state.bestLoss ?? Infinity;
    bestStep = ck.state.bestStep;
    best = Float32Array.from(ck.tensors.best);
    trainLosses.push(...ck.state.trainLosses);
    evalLosses.push(...ck.state.evalLosses);
  }
  const prevGen = opts.model.generator;
  opts.model.generator = gen;

  const bar = new StepProgress(total, { label: opts.tasks.map((t) => t.name).join('+'), silent: opts.silent, sink: opts.progressSink });
  bar.resumeFrom(step);
  let order = epochOrder(sizes, opts.seed, Math.floor(step / stepsPerEpoch), (n, s) => new Generator(s).permutation(n));
  let orderEpoch = Math.floor(step / stepsPerEpoch);
  let lastGood = { step, table: await table.data() };
  const checkpoint = async () => {
    const st = await opt.state();
    const state: CheckpointState = {
      version: 1, step, rng: gen.getState(), bestLoss: Number.isFinite(bestLoss) ? bestLoss : (null as unknown as number), bestStep,
      trainLosses, evalLosses, fingerprint: fp,
    };
    saveCheckpoint(opts.outDir, state, { prompt: Float32Array.from(await table.data()), best, m: st.m[0] ?? new Float32Array(rows * dim), v: st.v[0] ?? new Float32Array(rows * dim), shape: [rows, dim] });
  };
  const evaluate = async () => {
    const per = await validationLosses(opts.model, validSets.filter((d) => d.inputIds.length > 0), prompt, opts.evalBatchSize ?? opts.batchSize);
    const vals = Object.values(per);
    const mean = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
    evalLosses.push({ step, loss: mean, perTask: per });
    if (mean < bestLoss) {
      bestLoss = mean;
      bestStep = step;
      best = Float32Array.from(await table.data());
    }
    return mean;
  };

  let ranThisCall = 0;
  try {
    while (step < total) {
      const epoch = Math.floor(step / stepsPerEpoch);
      if (epoch !== orderEpoch) {
        order = epochOrder(sizes, opts.seed, epoch, (n, s) => new Generator(s).permutation(n));
        orderEpoch = epoch;
      }
      const pos = step % stepsPerEpoch;
      const items = order.slice(pos * opts.batchSize, (pos + 1) * opts.batchSize).map((it) => ({ ds: trainSets[it.dataset]!, row: it.row }));
      // HF's LambdaLR: the update after `step` completed steps uses factor(step), so step 0 has lr 0.
      opt.lr = linearWarmupDecay(step, opts.lr, opts.warmupSteps, total);
      opts.model.train();
      const lossT = tidy(() => {
        opt.zeroGrad();
        const b = makeBatch(items);
        const l = opts.model.forward({ ...b, softPrompt: prompt }).loss!;
        l.backward();
        clipGradNorm([table], opts.maxGradNorm).dispose();
        opt.step();
        return l.detach();
      });
      const loss = await lossT.item();
      lossT.dispose();
      if (!Number.isFinite(loss)) {
        throw new TrainError('NAN_LOSS', `training loss became ${loss} at step ${step + 1}; the last good checkpoint (step ${lastGood.step}) is kept in ${opts.outDir}`);
      }
      step++;
      ranThisCall++;
      trainLosses.push({ step, loss });
      const metrics: Record<string, number> = { loss, lr: opt.lr };
      if (step % opts.evalEvery === 0 || step === total) {
        metrics.val = await evaluate();
        await checkpoint();
        lastGood = { step, table: await table.data() };
      }
      bar.update(step, metrics);
      if (opts.stopAfterSteps !== undefined && ranThisCall >= opts.stopAfterSteps && step < total) {
        throw new TrainError('INTERRUPTED', `stopped after ${ranThisCall} steps (step ${step}/${total}); resume with --resume`);
      }
    }
    if (bestStep < 0) await evaluate();
    const finalPrompt = Float32Array.from(await table.data());
    const curve = lossCurveSvg(
      [
        { name: 'train loss', points: trainLosses.map((p) => ({ step: p.step, value: p.loss })) },
        { name: 'validation loss', points: evalLosses.map((p) => ({ step: p.step, value: p.loss })) },
      ],
      `prompt tuning: ${opts.tasks.map((t) => t.name).join(' + ')}`,
    );
    writeAtomic(join(opts.outDir, 'loss-curve.svg'), curve);
    writeAtomic(join(opts.outDir, 'history.json'), JSON.stringify({ trainLosses, evalLosses, bestStep, bestLoss }, null, 1));
    return { steps: step, bestStep, bestLoss, bestPrompt: best, finalPrompt, trainLosses, evalLosses };
  } finally {
    opts.model.generator = prevGen;
    opts.model.eval();
    opt.dispose();
    table.dispose();
  }
}

/**
 * Writes a file via a fresh temporary name, fsync and rename, so readers never see half a file
 * (shared with the `.tpv` writer).
 */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomic(path, data);
}

void rmSync;
