import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, memory } from '@tpvjs/tensor';
import { SoftPrompt, T5ForConditionalGeneration, T5Tokenizer, parseT5Config, sampledVocabInit, saveT5Pretrained } from '@tpvjs/t5';
import { fileURLToPath } from 'node:url';
import { copyFileSync } from 'node:fs';
import { main } from '../cli.js';
import { maxTargetLength } from '../tasks/index.js';
import { TaskError } from '../tasks/index.js';
import { loadTaskData } from './task-data.js';
import { TrainError } from './errors.js';
import { type TrainOptions, trainPrompt } from './trainer.js';

const SPIECE = fileURLToPath(new URL('../../../t5/test-data/tokenizer/spiece.model', import.meta.url));
let work: string;
let modelDir: string;
let model: T5ForConditionalGeneration;
let tokenizer: T5Tokenizer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tpv-train-test-'));
  modelDir = join(work, 'model');
  const config = parseT5Config({
    vocab_size: 32128, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 1, num_heads: 2, dropout_rate: 0.1, model_type: 't5',
  });
  const m = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(3) });
  await saveT5Pretrained(m, modelDir);
  m.dispose();
  copyFileSync(SPIECE, join(modelDir, 'spiece.model'));
  model = await T5ForConditionalGeneration.fromPretrained(modelDir);
  tokenizer = await T5Tokenizer.fromPretrained(modelDir);
});

afterAll(() => {
  model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

async function baseOptions(out: string): Promise<TrainOptions> {
  const task = await loadTaskData('sst2_text', { source: { kind: 'bundled' }, maxTrain: 24, largeValidationSize: 50, maxValid: 8 });
  const origin = sampledVocabInit(model, { numVirtualTokens: 4, index: 0 });
  const data = Float32Array.from(await origin.table.data());
  origin.table.dispose();
  return {
    model, tokenizer, outDir: out, origin: data, promptShape: [8, 16], numVirtualTokens: 4,
    tasks: [{ name: 'sst2_text', train: task.train, validation: task.validation, maxTargetLength: maxTargetLength(task.spec, tokenizer) }],
    maxSteps: 12, batchSize: 4, warmupSteps: 3, evalEvery: 4, maxSourceLength: 24, silent: true,
  };
}

describe('prompt-tuning training loop', () => {
  it('an interrupted run resumed from its checkpoint ends with exactly the same prompt as an uninterrupted one', async () => {
    const full = await trainPrompt(await baseOptions(join(work, 'full')));
    expect(full.steps).toBe(12);
    const partOut = join(work, 'part');
    await expect(trainPrompt({ ...(await baseOptions(partOut)), stopAfterSteps: 6 })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    // The checkpoint from step 4 survives the "kill" at step 6.
    expect(JSON.parse(readFileSync(join(partOut, 'checkpoint', 'state.json'), 'utf8')).step).toBe(4);
    const resumed = await trainPrompt({ ...(await baseOptions(partOut)), resume: true });
    expect(resumed.steps).toBe(12);
    expect(Buffer.from(resumed.finalPrompt.buffer).equals(Buffer.from(full.finalPrompt.buffer))).toBe(true);
    expect(Buffer.from(resumed.bestPrompt.buffer).equals(Buffer.from(full.bestPrompt.buffer))).toBe(true);
    expect(resumed.trainLosses).toEqual(full.trainLosses);
    expect(existsSync(join(partOut, 'loss-curve.svg'))).toBe(true);
  });

  it('leaves no live tensors behind and never trains the frozen model', async () => {
    const before = memory().numTensors;
    await trainPrompt(await baseOptions(join(work, 'mem')));
    expect(memory().numTensors).toBe(before);
    for (const p of model.parameters()) expect(p.grad).toBeNull();
  });

  it('refuses an existing output folder, a wrong prompt shape and a resume with other settings', async () => {
    const o = await baseOptions(join(work, 'full'));
    await expect(trainPrompt(o)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await expect(trainPrompt({ ...(await baseOptions(join(work, 'bad'))), promptShape: [8, 12], origin: new Float32Array(96) })).rejects.toBeInstanceOf(TrainError);
    await expect(trainPrompt({ ...o, resume: true, lr: 0.1 })).rejects.toMatchObject({ code: 'RESUME_MISMATCH' });
  });

  it('stops on a NaN loss and keeps the last good checkpoint', async () => {
    const o = await baseOptions(join(work, 'nan'));
    await expect(trainPrompt({ ...o, lr: 1e30, warmupSteps: 0, maxGradNorm: 1e30, evalEvery: 2 })).rejects.toMatchObject({ code: 'NAN_LOSS' });
  });
});

describe('tpv CLI (end to end on a tiny model)', () => {
  const io = () => {
    const lines: string[] = [];
    const errs: string[] = [];
    return { lines, errs, io: { out: (l: string) => lines.push(l), err: { write: (s: string) => errs.push(s) } } };
  };
  it('origins → train (json) → eval → vector create/apply → similarity', async () => {
    const o = io();
    expect(await main(['origins', '--model', modelDir, '--out', join(work, 'origins'), '--count', '2', '--num-virtual-tokens', '4'], o.io)).toBe(0);
    const out = join(work, 'cli-run');
    const code = await main(['train', '--task', 'sst2_text', '--model', modelDir, '--origin', join(work, 'origins', 'origin_0'), '--out', out,
      '--max-steps', '8', '--batch-size', '4', '--warmup', '2', '--eval-every', '4', '--max-source-length', '24', '--max-new-tokens', '3',
      '--max-train', '16', '--max-test', '6', '--max-valid', '6', '--json'], o.io);
    expect(code, o.errs.join('')).toBe(0);
    const summary = JSON.parse(o.lines.at(-1)!);
    expect(summary.steps).toBe(8);
    expect(summary.test.sst2_text.n).toBe(6);
    expect(existsSync(join(out, 'best', 'adapter_model.safetensors'))).toBe(true);
    // adapter_config.json holds only PEFT v0.9's keys (older PEFT rejects unknown ones); tpv's own
    // metadata is in the tpv.json sidecar.
    const peftKeys = ['auto_mapping', 'base_model_name_or_path', 'inference_mode', 'num_attention_heads', 'num_layers', 'num_transformer_submodules',
      'num_virtual_tokens', 'peft_type', 'prompt_tuning_init', 'prompt_tuning_init_text', 'revision', 'task_type', 'token_dim', 'tokenizer_kwargs', 'tokenizer_name_or_path'];
    const cfg = JSON.parse(readFileSync(join(out, 'best', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(cfg).filter((k) => !peftKeys.includes(k))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'best', 'tpv.json'), 'utf8')).originId).toBe(join(work, 'origins', 'origin_0'));
    const best = await SoftPrompt.fromPeft(join(out, 'best'));
    expect(best.table.shape).toEqual([8, 16]);
    best.table.dispose();
    expect(await main(['eval', '--task', 'sst2_text', '--model', modelDir, '--prompt', join(out, 'best'), '--max-test', '4', '--max-new-tokens', '3', '--json'], o.io)).toBe(0);
    expect(JSON.parse(o.lines.at(-1)!).results.sst2_text.n).toBe(4);
    const tpvFile = join(work, 'sst2.tpv');
    expect(await main(['vector', 'create', '--tuned', join(out, 'best'), '--origin', join(work, 'origins', 'origin_0'), '--task', 'sst2_text', '--model-id', modelDir, '--out', tpvFile], o.io), o.lines.join('\n')).toBe(0);
    expect(await main(['vector', 'apply', tpvFile, '--origin', join(work, 'origins', 'origin_1'), '--lambda', '1', '--out', join(work, 'applied')], o.io), o.errs.join('')).toBe(0);
    expect(existsSync(join(work, 'applied', 'adapter_model.safetensors'))).toBe(true);
    expect(await main(['vector', 'similarity', tpvFile, tpvFile, '--svg', join(work, 'sim.svg')], o.io), o.lines.join('\n')).toBe(0);
    expect(readFileSync(join(work, 'sim.svg'), 'utf8')).toContain('<svg');
  });

  it('tpv train accepts a bare safetensors prompt file as --origin', async () => {
    const o = io();
    const file = join(work, 'origin0.safetensors');
    const { writeSafetensors } = await import('@tpvjs/tensor');
    const src = await SoftPrompt.fromPeft(join(work, 'origins', 'origin_0'));
    writeSafetensors(file, { prompt_embeddings: { dtype: 'F32', shape: [8, 16], data: Float32Array.from(await src.table.data()) } });
    src.table.dispose();
    const code = await main(['train', '--task', 'sst2_text', '--model', modelDir, '--origin', file, '--out', join(work, 'from-file'), '--num-virtual-tokens', '4',
      '--max-steps', '2', '--batch-size', '4', '--warmup', '1', '--eval-every', '2', '--max-source-length', '16', '--max-new-tokens', '2',
      '--max-train', '8', '--max-test', '2', '--max-valid', '4', '--json'], o.io);
    expect(code, o.errs.join('')).toBe(0);
    expect(JSON.parse(o.lines.at(-1)!).origin).toBe(file);
  });

  it('tpv attempt trains the ATTEMPT baseline from two source prompts and tests it', async () => {
    const o = io();
    const out = join(work, 'attempt-run');
    const code = await main(['attempt', '--target', 'sst2_text', '--source', join(work, 'origins', 'origin_0'), '--source', join(work, 'origins', 'origin_1'),
      '--model', modelDir, '--out', out, '--few-shot', '8', '--epochs', '2', '--batch-size', '4', '--num-virtual-tokens', '4',
      '--max-source-length', '24', '--max-new-tokens', '3', '--max-test', '4', '--json'], o.io);
    expect(code, o.errs.join('')).toBe(0);
    const summary = JSON.parse(o.lines.at(-1)!);
    expect(summary.method).toBe('attempt');
    expect(summary.test.sst2_text.n).toBe(4);
    expect(existsSync(join(out, 'attempt.safetensors'))).toBe(true);
  });

  it('bad input gives one clear line and exit code 2, and nothing is overwritten', async () => {
    const o = io();
    expect(await main(['train', '--task', 'nope_text', '--model', modelDir, '--origin', '0', '--out', join(work, 'x')], o.io)).toBe(2);
    expect(o.errs.join('')).toMatch(/unknown task|nope_text/i);
    const existing = join(work, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'keep.txt'), 'precious');
    expect(await main(['train', '--task', 'sst2_text', '--model', modelDir, '--origin', '0', '--out', existing], o.io)).toBe(2);
    expect(readFileSync(join(existing, 'keep.txt'), 'utf8')).toBe('precious');
    expect(await main(['frobnicate'], o.io)).toBe(2);
    // A prompt made for another model width is refused.
    const wrong = SoftPrompt.fromArray(new Float32Array(8 * 12), { numVirtualTokens: 4, tokenDim: 12 });
    await wrong.savePeft(join(work, 'wrong-prompt'));
    expect(await main(['eval', '--task', 'sst2_text', '--model', modelDir, '--prompt', join(work, 'wrong-prompt'), '--max-test', '2'], o.io)).toBe(2);
    expect(o.errs.at(-1)).toMatch(/12|16|d_model|shape/);
  });

  it('rows missing a field or with an unknown label are typed errors', async () => {
    await expect(loadTaskData('sst2_text', { source: { kind: 'rows', rows: { train: [{ label: 0 }], validation: [{ sentence: 'a', label: 0 }] } } })).rejects.toBeInstanceOf(TaskError);
    await expect(loadTaskData('sst2_text', { source: { kind: 'rows', rows: { train: Array.from({ length: 60 }, () => ({ sentence: 'ok', label: 7 })), validation: [{ sentence: 'a', label: 0 }] } }, largeValidationSize: 10 })).rejects.toBeInstanceOf(TaskError);
  });
});
