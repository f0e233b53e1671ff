/**
 * Checkpoint loading: single and sharded files, F32/F16/BF16 widening, and typed errors that name
 * the tensor for missing, unexpected, misshapen or non-float tensors and for foreign architectures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RawTensor, SafetensorsFile, memory, tidy, writeSafetensors } from '@tpvjs/tensor';
import { loadT5Config } from '../config/index.js';
import { T5ForConditionalGeneration } from '../model/index.js';
import { ORACLE_DIR } from '../model/__tests__/oracle.js';
import { T5Checkpoint } from './checkpoint.js';
import { T5WeightsError } from './errors.js';
import { checkT5Checkpoint, loadT5Weights } from './load.js';
import { openT5Checkpoint } from './resolve.js';
import { t5ParameterSpecs } from './specs.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 't5w-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function readAll(file: string): Record<string, RawTensor> {
  const f = SafetensorsFile.open(file);
  const out: Record<string, RawTensor> = {};
  for (const n of f.names()) out[n] = f.readRaw(n);
  f.close();
  return out;
}

/** A model folder with `configFrom`'s config and the fixture weights edited by `edit`. */
function makeModel(name: string, configFrom: string, weightsFrom: string, edit: (t: Record<string, RawTensor>) => void = () => {}): string {
  const dir = path.join(tmpRoot, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(`${ORACLE_DIR}${configFrom}/config.json`, path.join(dir, 'config.json'));
  const tensors = readAll(`${ORACLE_DIR}${weightsFrom}/model.safetensors`);
  edit(tensors);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

async function loadError(dir: string): Promise<T5WeightsError> {
  try {
    const m = await T5ForConditionalGeneration.fromPretrained(dir);
    m.dispose();
  } catch (err) {
    expect(err).toBeInstanceOf(T5WeightsError);
    return err as T5WeightsError;
  }
  throw new Error('expected a T5WeightsError');
}

describe('t5ParameterSpecs', () => {
  it('lists every HF parameter once, with nn.Linear shapes', () => {
    const c = loadT5Config(`${ORACLE_DIR}v11_gated_untied/config.json`);
    const specs = t5ParameterSpecs(c);
    const ckpt = T5Checkpoint.openFile(`${ORACLE_DIR}v11_gated_untied/model.safetensors`);
    expect(specs.map((s) => s.name).sort()).toEqual(ckpt.names().sort());
    for (const s of specs) expect(ckpt.entry(s.name).shape).toEqual(s.shape);
    ckpt.close();
  });
});

describe('loading', () => {
  it('widens BF16 exactly, tolerates embed_tokens copies, and holds no stray tensors', async () => {
    const dir = `${ORACLE_DIR}v10_relu_tied_bf16`;
    const ckpt = T5Checkpoint.openFile(`${dir}/model.safetensors`);
    expect(ckpt.has('encoder.embed_tokens.weight')).toBe(true);
    expect(ckpt.entry('shared.weight').dtype).toBe('BF16');
    ckpt.close();
    const before = memory().numTensors;
    const m = await T5ForConditionalGeneration.fromPretrained(dir);
    expect(memory().numTensors - before).toBe(m.parameters().length);
    const w = m.shared.weight.dataSync() as Float32Array;
    const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true); // bf16 → f32 is `bits << 16`
    m.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('loads F16 weights', async () => {
    const m = await T5ForConditionalGeneration.fromPretrained(`${ORACLE_DIR}v11_gated_untied_f16`);
    const f = SafetensorsFile.open(`${ORACLE_DIR}v11_gated_untied_f16/model.safetensors`);
    expect(Array.from(m.lm_head!.weight.dataSync())).toEqual(Array.from(f.readFloat32('lm_head.weight').data));
    f.close();
    m.dispose();
  });

  it('loads a sharded checkpoint to the same weights as the single file', async () => {
    const dir = path.join(tmpRoot, 'sharded');
    fs.mkdirSync(dir);
    fs.copyFileSync(`${ORACLE_DIR}v11_gated_untied/config.json`, path.join(dir, 'config.json'));
    const all = readAll(`${ORACLE_DIR}v11_gated_untied/model.safetensors`);
    const names = Object.keys(all);
    const shards = [names.slice(0, 20), names.slice(20)];
    const weightMap: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(path.join(dir, file), Object.fromEntries(ns.map((n) => [n, all[n]!])), { format: 'pt' });
      for (const n of ns) weightMap[n] = file;
    });
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const a = await T5ForConditionalGeneration.fromPretrained(dir);
    const b = await T5ForConditionalGeneration.fromPretrained(`${ORACLE_DIR}v11_gated_untied`);
    const pa = new Map(a.namedParameters());
    for (const [n, t] of b.namedParameters()) expect(Array.from(pa.get(n)!.dataSync()), n).toEqual(Array.from(t.dataSync()));
    a.dispose();
    b.dispose();

    // An index that puts a tensor in the wrong shard is rejected, naming the tensor.
    const bad = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    bad.weight_map[names[0]!] = 'model-00002-of-00002.safetensors';
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(bad));
    const e = await loadError(dir);
    expect(e.code).toBe('BAD_INDEX');
    expect(e.tensor).toBe(names[0]);
  });

  it('reports a missing checkpoint clearly', async () => {
    const dir = path.join(tmpRoot, 'noweights');
    fs.mkdirSync(dir);
    fs.copyFileSync(`${ORACLE_DIR}v10_relu_tied/config.json`, path.join(dir, 'config.json'));
    const e = await loadError(dir);
    expect(e.code).toBe('NO_WEIGHTS');
    await expect(openT5Checkpoint(dir)).rejects.toThrow(/model\.safetensors/);
  });
});

describe('mismatches', () => {
  it('a missing tensor is named', async () => {
    const gone = 'decoder.block.1.layer.2.DenseReluDense.wo.weight';
    const e = await loadError(makeModel('missing', 'v10_relu_tied', 'v10_relu_tied', (t) => delete t[gone]));
    expect(e.code).toBe('MISSING_TENSOR');
    expect(e.tensor).toBe(gone);
    expect(e.message).toContain(gone);
  });

  it('a wrong shape is named with both shapes', async () => {
    const name = 'encoder.final_layer_norm.weight';
    const e = await loadError(makeModel('shape', 'v10_relu_tied', 'v10_relu_tied', (t) => {
      t[name] = { dtype: 'F32', shape: [63], data: new Float32Array(63) };
    }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.tensor).toBe(name);
    expect(e.message).toMatch(/\[63\].*\[64\]/);
  });

  it('an unexpected tensor is named; known HF extras are tolerated', async () => {
    const e = await loadError(makeModel('extra', 'v10_relu_tied', 'v10_relu_tied', (t) => {
      t['encoder.block.0.layer.0.SelfAttention.q.bias'] = { dtype: 'F32', shape: [64], data: new Float32Array(64) };
    }));
    expect(e.code).toBe('UNEXPECTED_TENSOR');
    expect(e.tensor).toBe('encoder.block.0.layer.0.SelfAttention.q.bias');

    const ok = makeModel('tolerated', 'v10_relu_tied', 'v10_relu_tied', (t) => {
      t['decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight'] = { dtype: 'F32', shape: [32, 4], data: new Float32Array(128) };
      t['lm_head.weight'] = t['shared.weight']!;
      t['decoder.embed_tokens.weight'] = t['shared.weight']!;
    });
    const m = await T5ForConditionalGeneration.fromPretrained(ok);
    expect(m.lm_head).toBeNull();
    m.dispose();
  });

  it('a non-float tensor is rejected', async () => {
    const e = await loadError(makeModel('int', 'v10_relu_tied', 'v10_relu_tied', (t) => {
      t['encoder.final_layer_norm.weight'] = { dtype: 'I32', shape: [64], data: new Int32Array(64) };
    }));
    expect(e.code).toBe('BAD_DTYPE');
    expect(e.tensor).toBe('encoder.final_layer_norm.weight');
  });

  it('weights of another architecture (v1.1 file, v1.0 config) get one clear error', async () => {
    const e = await loadError(makeModel('arch', 'v10_relu_tied', 'v11_gated_untied'));
    expect(e.code).toBe('ARCHITECTURE_MISMATCH');
    expect(e.message).toMatch(/feed-forward: config plain \(wi\), weights gated \(wi_0\/wi_1\)/);
    expect(e.message).toMatch(/encoder blocks: config 2, weights 3/);
    expect(e.message).toMatch(/attention width \(num_heads·d_kv\): config 64, weights 48/);
    expect(e.message).toMatch(/LM head: config tied to shared.weight, weights separate lm_head.weight/);
    expect(e.tensor).toBeDefined();
    expect(e.problems.length).toBeGreaterThan(5);
    // Nothing was uploaded before the check failed.
    const before = memory().numTensors;
    const c = loadT5Config(`${ORACLE_DIR}v10_relu_tied/config.json`);
    const ckpt = T5Checkpoint.openFile(`${ORACLE_DIR}v11_gated_untied/model.safetensors`);
    expect(() => tidy(() => loadT5Weights(c, ckpt))).toThrow(T5WeightsError);
    expect(() => checkT5Checkpoint(c, ckpt)).toThrow(/different architecture/);
    ckpt.close();
    expect(memory().numTensors).toBe(before);
  });

  it('a corrupt file is a BAD_FILE error', async () => {
    const dir = path.join(tmpRoot, 'corrupt');
    fs.mkdirSync(dir);
    fs.copyFileSync(`${ORACLE_DIR}v10_relu_tied/config.json`, path.join(dir, 'config.json'));
    fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.from('not a safetensors file at all'));
    expect((await loadError(dir)).code).toBe('BAD_FILE');
  });
});
