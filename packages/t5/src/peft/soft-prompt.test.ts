/**
 * The soft prompt's adapter format (bit-exact round trips, PEFT's config text, refusal to
 * overwrite, strict checks) and the three inits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SafetensorsFile, memory, tensor, tidy, writeSafetensors } from '@tpvjs/tensor';
import { T5ForConditionalGeneration } from '../model/index.js';
import { ORACLE_MODELS, loadFixture } from '../model/__tests__/oracle.js';
import { PeftError } from './errors.js';
import { randomInit, sampleVocabIds, sampledVocabInit, textInit } from './init.js';
import { pythonFloatRepr, pythonJsonDumps } from './python-json.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, SoftPrompt } from './soft-prompt.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 't5peft-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const fresh = () => path.join(tmpRoot, `p${counter++}`);

async function peftError(p: Promise<unknown>, code: PeftError['code']): Promise<PeftError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PeftError);
    expect((err as PeftError).code).toBe(code);
    return err as PeftError;
  }
  throw new Error(`expected PeftError ${code}`);
}

function bits(a: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(a).buffer));
}

describe('adapter folders', () => {
  it.each(ORACLE_MODELS)('the %s fixture prompt loads and survives savePeft → fromPeft bit for bit', async (name) => {
    const fx = loadFixture(name);
    const p = await SoftPrompt.fromPeft(fx.promptDir);
    const dir = fresh();
    await p.savePeft(dir, { baseModelNameOrPath: 't5-base' });
    const q = await SoftPrompt.fromPeft(dir);
    expect(bits(q.table.dataSync())).toEqual(bits(p.table.dataSync()));
    expect({ ...q.config, inferenceMode: false, baseModelNameOrPath: null }).toEqual({ ...p.config, autoMapping: null, tokenizerKwargs: null, inferenceMode: false });
    expect(q.config.inferenceMode).toBe(true);
    expect(q.config.baseModelNameOrPath).toBe('t5-base');
    const f = SafetensorsFile.open(path.join(dir, ADAPTER_WEIGHTS_NAME));
    expect(f.names()).toEqual(['prompt_embeddings']);
    expect(f.entry('prompt_embeddings').dtype).toBe('F32');
    expect(f.metadata).toEqual({ format: 'pt' });
    f.close();
    p.dispose();
    q.dispose();
  });

  it('writes adapter_config.json exactly as PEFT v0.9 does (sorted keys, indent 2, no newline)', async () => {
    const p = SoftPrompt.fromArray(new Float32Array(4 * 3), { numVirtualTokens: 2, tokenDim: 3 });
    const dir = fresh();
    await p.savePeft(dir, { baseModelNameOrPath: 't5-base', numLayers: 12, numAttentionHeads: 12, extra: { origin_prompts: ['origin_0'] } });
    expect(fs.readFileSync(path.join(dir, ADAPTER_CONFIG_NAME), 'utf8')).toBe(`{
  "auto_mapping": null,
  "base_model_name_or_path": "t5-base",
  "inference_mode": true,
  "num_attention_heads": 12,
  "num_layers": 12,
  "num_transformer_submodules": 2,
  "num_virtual_tokens": 2,
  "origin_prompts": [
    "origin_0"
  ],
  "peft_type": "PROMPT_TUNING",
  "prompt_tuning_init": "RANDOM",
  "prompt_tuning_init_text": null,
  "revision": null,
  "task_type": "SEQ_2_SEQ_LM",
  "token_dim": 3,
  "tokenizer_kwargs": null,
  "tokenizer_name_or_path": null
}`);
    p.dispose();
  });

  it('refuses to overwrite a non-empty folder unless asked, and leaves no temporary files', async () => {
    const p = SoftPrompt.fromArray(Float32Array.from({ length: 8 }, (_, i) => i), { numVirtualTokens: 2, tokenDim: 2 });
    const dir = fresh();
    await p.savePeft(dir);
    const q = SoftPrompt.fromArray(new Float32Array(8).fill(7), { numVirtualTokens: 2, tokenDim: 2 });
    await peftError(q.savePeft(dir), 'EXISTS');
    expect(Array.from((await SoftPrompt.fromPeft(dir)).table.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    fs.writeFileSync(path.join(dir, 'origin_0.bin'), 'keep me');
    await q.savePeft(dir, { overwrite: true });
    expect(Array.from((await SoftPrompt.fromPeft(dir)).table.dataSync())).toEqual(new Array(8).fill(7));
    expect(fs.readdirSync(dir).sort()).toEqual([ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, 'origin_0.bin']);
    expect(fs.readdirSync(tmpRoot).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // An existing empty folder is fine.
    const empty = fresh();
    fs.mkdirSync(empty);
    await p.savePeft(empty);
    expect(fs.readdirSync(empty).sort()).toEqual([ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME]);
  });

  it('round-trips arbitrary float32 tables bit for bit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.float({ noNaN: true }), { minLength: 40, maxLength: 40 }), async (n, d, vals) => {
        const data = Float32Array.from({ length: 2 * n * d }, (_, i) => vals[i % vals.length]!);
        const p = SoftPrompt.fromArray(data, { numVirtualTokens: n, tokenDim: d });
        const dir = fresh();
        await p.savePeft(dir);
        const q = await SoftPrompt.fromPeft(dir);
        expect(bits(q.table.dataSync())).toEqual(bits(data));
        p.dispose();
        q.dispose();
      }),
      { numRuns: 20 },
    );
  });

  it('rejects tables of the wrong shape, other adapters and missing files', async () => {
    expect(() => SoftPrompt.fromArray(new Float32Array(30), { numVirtualTokens: 4, tokenDim: 3 })).toThrow(PeftError);
    expect(() => new SoftPrompt(tensor(new Float32Array(9 * 4), { shape: [9, 4] }), { numVirtualTokens: 5 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));

    const fx = loadFixture('v10_relu_tied');
    const cfg = JSON.parse(fs.readFileSync(path.join(fx.promptDir, ADAPTER_CONFIG_NAME), 'utf8'));
    const withFiles = (config: object, tensors: Parameters<typeof writeSafetensors>[1] | null) => {
      const dir = fresh();
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_NAME), JSON.stringify(config));
      if (tensors) writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_NAME), tensors, { format: 'pt' });
      return dir;
    };
    const good = { prompt_embeddings: { dtype: 'F32' as const, shape: [20, 64], data: new Float32Array(20 * 64) } };
    // Wrong shape: only n rows instead of 2n (the old PEFT layout, or a hand-made table).
    const e = await peftError(SoftPrompt.fromPeft(withFiles(cfg, { prompt_embeddings: { dtype: 'F32', shape: [10, 64], data: new Float32Array(640) } })), 'SHAPE_MISMATCH');
    expect(e.message).toMatch(/\[10, 64\].*2 × 10 = 20, 64/);
    await peftError(SoftPrompt.fromPeft(withFiles({ ...cfg, token_dim: 32 }, good)), 'SHAPE_MISMATCH');
    await peftError(SoftPrompt.fromPeft(withFiles({ ...cfg, peft_type: 'LORA' }, good)), 'UNSUPPORTED');
    await peftError(SoftPrompt.fromPeft(withFiles({ ...cfg, task_type: 'CAUSAL_LM' }, good)), 'UNSUPPORTED');
    await peftError(SoftPrompt.fromPeft(withFiles({ ...cfg, num_virtual_tokens: 0 }, good)), 'BAD_CONFIG');
    await peftError(SoftPrompt.fromPeft(withFiles(cfg, { ...good, extra: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })), 'BAD_FILE');
    await peftError(SoftPrompt.fromPeft(withFiles(cfg, { other: good.prompt_embeddings })), 'BAD_FILE');
    await peftError(SoftPrompt.fromPeft(withFiles(cfg, { prompt_embeddings: { dtype: 'I32', shape: [20, 64], data: new Int32Array(1280) } })), 'BAD_FILE');
    await peftError(SoftPrompt.fromPeft(withFiles(cfg, null)), 'MISSING_FILE');
    await peftError(SoftPrompt.fromPeft(path.join(tmpRoot, 'nowhere')), 'MISSING_FILE');
    const pickled = withFiles(cfg, null);
    fs.writeFileSync(path.join(pickled, 'adapter_model.bin'), 'pickle');
    await peftError(SoftPrompt.fromPeft(pickled), 'UNSUPPORTED');
    // num_transformer_submodules null means 2 for seq2seq.
    const p = await SoftPrompt.fromPeft(withFiles({ ...cfg, num_transformer_submodules: null }, good));
    expect(p.numTransformerSubmodules).toBe(2);
    p.dispose();
  });
});

describe('prompt vs model', () => {
  let model: T5ForConditionalGeneration;
  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(loadFixture('v10_relu_tied').dir);
  });
  afterAll(() => model.dispose());

  it('rejects a prompt whose width differs from d_model', async () => {
    const p = SoftPrompt.fromArray(new Float32Array(2 * 3 * 32), { numVirtualTokens: 3, tokenDim: 32 });
    expect(() => p.checkModel(model)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
    expect(() => tidy(() => model.forward({ inputIds: [[5, 1]], labels: [[1]], softPrompt: p }))).toThrow(/d_model 64/);
    const dir = fresh();
    await p.savePeft(dir);
    await peftError(SoftPrompt.fromPeft(dir, { model }), 'MODEL_MISMATCH');
    p.dispose();
  });

  it('a frozen prompt in eval mode leaves only the outputs alive', () => {
    const p = randomInit(model, { numVirtualTokens: 4, seed: 3 });
    const before = memory().numTensors;
    const out = model.forward({ inputIds: [[5, 6, 1]], labels: [[7, 1]], softPrompt: p });
    expect(memory().numTensors - before).toBe(4);
    expect([...out.encoderLastHiddenState.shape]).toEqual([1, 7, 64]);
    for (const t of [out.logits, out.loss!, out.encoderLastHiddenState, out.decoderLastHiddenState]) t.dispose();
    p.dispose();
  });

  it('sampledVocabInit: seeded distinct ids from [0, range), one draw per origin, rows = word embeddings', () => {
    const ids0 = sampleVocabIds({ seed: 1024, index: 0, range: 500, count: 20 });
    const ids3 = sampleVocabIds({ seed: 1024, index: 3, range: 500, count: 20 });
    expect(new Set(ids0).size).toBe(20);
    expect(ids0.every((i) => i >= 0 && i < 500)).toBe(true);
    expect(ids3).not.toEqual(ids0);
    expect(sampleVocabIds({ seed: 1024, index: 3, range: 500, count: 20 })).toEqual(ids3);
    const p = sampledVocabInit(model, { numVirtualTokens: 10, index: 3, range: 500 });
    expect([...p.table.shape]).toEqual([20, 64]);
    const w = model.shared.weight.dataSync();
    const t = p.table.dataSync();
    ids3.forEach((id, r) => expect(Array.from(t.subarray(r * 64, (r + 1) * 64))).toEqual(Array.from(w.subarray(id * 64, (id + 1) * 64))));
    expect(p.requiresGrad).toBe(false);
    expect(p.table.requiresGrad_(true).requiresGrad).toBe(true);
    expect(() => sampledVocabInit(model, { numVirtualTokens: 10, range: 5000 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => sampledVocabInit(model, { numVirtualTokens: 10, index: -1, range: 500 })).toThrow(PeftError);
    p.dispose();
  });

  it('randomInit: N(0, 1), reproducible from the seed', () => {
    const a = randomInit(model, { numVirtualTokens: 50, seed: 9 });
    const b = randomInit({ tokenDim: 64 }, { numVirtualTokens: 50, seed: 9 });
    const v = Array.from(a.table.dataSync());
    expect(Array.from(b.table.dataSync())).toEqual(v);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
    expect(a.config.numLayers).toBe(2);
    a.dispose();
    b.dispose();
  });

  it('textInit: word embeddings of the text ids, cyclically repeated or cut', () => {
    const w = model.shared.weight.dataSync();
    const rowOf = (id: number) => Array.from(w.subarray(id * 64, (id + 1) * 64));
    const p = textInit(model, [11, 12, 1], { numVirtualTokens: 4, initText: 'hi', tokenizerNameOrPath: 't5-base' });
    const t = p.table.dataSync();
    [11, 12, 1, 11, 12, 1, 11, 12].forEach((id, r) => expect(Array.from(t.subarray(r * 64, (r + 1) * 64))).toEqual(rowOf(id)));
    expect(p.config.promptTuningInit).toBe('TEXT');
    expect(p.config.promptTuningInitText).toBe('hi');
    const q = textInit(model, Array.from({ length: 30 }, (_, i) => i + 2), { numVirtualTokens: 5 });
    expect(Array.from(q.table.dataSync().subarray(9 * 64, 10 * 64))).toEqual(rowOf(11));
    expect(() => textInit(model, [], { numVirtualTokens: 2 })).toThrow(PeftError);
    expect(() => textInit(model, [512], { numVirtualTokens: 2 })).toThrow(PeftError);
    p.dispose();
    q.dispose();
  });
});

describe('python json', () => {
  it('spells floats like Python repr and escapes like ensure_ascii', () => {
    expect(pythonFloatRepr(1e-5)).toBe('1e-05');
    expect(pythonFloatRepr(0.0001)).toBe('0.0001');
    expect(pythonFloatRepr(0.3)).toBe('0.3');
    expect(pythonFloatRepr(1e16)).toBe('1e+16');
    expect(pythonFloatRepr(123.5)).toBe('123.5');
    expect(pythonFloatRepr(-2.5e-7)).toBe('-2.5e-07');
    expect(pythonJsonDumps({ b: 'é😀"', a: [], c: {}, d: 1.5 })).toBe('{\n  "a": [],\n  "b": "\\u00e9\\ud83d\\ude00\\"",\n  "c": {},\n  "d": 1.5\n}');
  });
});
