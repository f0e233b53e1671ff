import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, SafetensorsFile, memory } from '@tpvjs/tensor';
import { T5ForConditionalGeneration, T5Tokenizer, parseT5Config, sampledVocabInit, saveT5Pretrained } from '@tpvjs/t5';
import { maxTargetLength } from '../tasks/index.js';
import { loadTaskData, type TaskData } from '../train/task-data.js';
import { AttemptPrompt } from './attempt.js';
import {
  type AttemptTrainOptions, attemptParameterNames, attemptPromptFromParameters, attemptScheduleForShots, evaluateAttempt, trainAttempt,
} from './attempt-train.js';

const SPIECE = fileURLToPath(new URL('../../../t5/test-data/tokenizer/spiece.model', import.meta.url));
let work: string;
let model: T5ForConditionalGeneration;
let tokenizer: T5Tokenizer;
let data: TaskData;
let prompt: AttemptPrompt;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tpv-attempt-train-'));
  const modelDir = join(work, 'model');
  const config = parseT5Config({
    vocab_size: 32128, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 1, num_heads: 2, dropout_rate: 0.1, model_type: 't5',
  });
  const m = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(3) });
  await saveT5Pretrained(m, modelDir);
  m.dispose();
  copyFileSync(SPIECE, join(modelDir, 'spiece.model'));
  model = await T5ForConditionalGeneration.fromPretrained(modelDir);
  tokenizer = await T5Tokenizer.fromPretrained(modelDir);
  data = await loadTaskData('sst2_text', { source: { kind: 'bundled' }, maxTrain: 16, largeValidationSize: 50, maxValid: 8 });
});

afterAll(() => {
  prompt?.dispose();
  model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

function newPrompt(): AttemptPrompt {
  const s = [0, 1].map((index) => sampledVocabInit(model, { numVirtualTokens: 8, index }));
  const p = new AttemptPrompt({ sources: s.map((x) => x.table), hidden: 8, temperature: 16 * Math.E });
  for (const x of s) x.table.dispose();
  return p;
}

function options(out: string, p: AttemptPrompt): AttemptTrainOptions {
  return {
    model, tokenizer, prompt: p, outDir: out, numVirtualTokens: 4, epochs: 2, batchSize: 4, warmupSteps: 2, maxSourceLength: 24, silent: true,
    targets: [{ name: 'sst2_text', train: data.train, validation: data.validation, maxTargetLength: maxTargetLength(data.spec, tokenizer) }],
  };
}

describe('ATTEMPT training loop', () => {
  it('a 2-epoch run lowers the training loss, writes its outputs, frees its tensors and trains only the prompt', async () => {
    prompt = newPrompt();
    const sourcesBefore = await Promise.all(prompt.sources.map(async (s) => Float32Array.from(await s.data())));
    const before = memory().numTensors;
    const out = join(work, 'run');
    const res = await trainAttempt(options(out, prompt));
    expect(memory().numTensors).toBe(before);
    expect(res.trainLosses).toHaveLength(2 * 4);
    const first = res.trainLosses.slice(0, 4).reduce((a, p) => a + p.loss, 0);
    const last = res.trainLosses.slice(-4).reduce((a, p) => a + p.loss, 0);
    expect(last).toBeLessThan(first);
    expect(res.evalLosses.map((e) => e.epoch)).toEqual([1, 2]);
    expect(res.bestLoss).toBe(Math.min(...res.evalLosses.map((e) => e.loss)));
    expect(res.evalLosses[res.bestEpoch - 1]!.loss).toBe(res.bestLoss);
    for (const p of model.parameters()) expect(p.grad).toBeNull();
    for (const s of prompt.sources) {
      expect(s.grad).toBeNull();
      expect(s.requiresGrad).toBe(false);
    }
    const sourcesAfter = await Promise.all(prompt.sources.map(async (s) => Float32Array.from(await s.data())));
    expect(sourcesAfter).toEqual(sourcesBefore);
    for (const f of ['attempt.safetensors', 'history.json', 'loss-curve.svg']) expect(existsSync(join(out, f))).toBe(true);
    const file = SafetensorsFile.fromBytes(readFileSync(join(out, 'attempt.safetensors')));
    expect(file.names().sort()).toEqual(attemptParameterNames(prompt).sort());
    const saved = file.read('target_prompts.0').data as Float32Array;
    expect(Array.from(saved)).toEqual(Array.from(res.bestParameters['target_prompts.0']!));
    const hist = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(hist.bestEpoch).toBe(res.bestEpoch);
    expect(hist.totalSteps).toBe(8);

    // Evaluation with the best parameters: greedy decoding with per-example prompts, no leaks.
    const beforeEval = memory().numTensors;
    const best = attemptPromptFromParameters(prompt, res.bestParameters);
    const ev = await evaluateAttempt(model, tokenizer, best, data.spec, data.validation.slice(0, 3), { numVirtualTokens: 4, maxSourceLength: 24, maxNewTokens: 3 });
    best.dispose();
    expect(memory().numTensors).toBe(beforeEval);
    expect(ev.predictions).toHaveLength(3);
    expect(ev.targets).toEqual(data.validation.slice(0, 3).map((e) => e.target));
    expect(Object.keys(ev.metrics).length).toBeGreaterThan(0);
  }, 15_000);

  it('has the §9 shots → (epochs, batch) table', () => {
    expect(attemptScheduleForShots(0)).toEqual({ epochs: 0, batchSize: 32 });
    for (const k of [5, 10, 25]) expect(attemptScheduleForShots(k)).toEqual({ epochs: 30, batchSize: 2 });
    for (const k of [50, 100, 250]) expect(attemptScheduleForShots(k)).toEqual({ epochs: 20, batchSize: 8 });
    for (const k of [500, 750, 1000]) expect(attemptScheduleForShots(k)).toEqual({ epochs: 10, batchSize: 16 });
    expect(() => attemptScheduleForShots(7)).toThrow();
  });

  it('refuses an existing non-empty output folder', async () => {
    const out = join(work, 'taken');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'x'), 'x');
    const p = newPrompt();
    try {
      await expect(trainAttempt(options(out, p))).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    } finally {
      p.dispose();
    }
  });
});
