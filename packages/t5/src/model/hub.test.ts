/**
 * `fromPretrained` and `SoftPrompt.fromPeft` with Hub ids, against the Hub layer's local fake
 * server: single-file and sharded checkpoints, and the error when a repo has no safetensors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, encodeSafetensors, tidy } from '@tpvjs/tensor';
import { FakeHub, type FakeFile, randomSha } from '../hub/__tests__/fake-hub.js';
import { SoftPrompt } from '../peft/index.js';
import { T5WeightsError } from '../weights/index.js';
import { T5ForConditionalGeneration } from './t5.js';
import { expectClose, loadFixture } from './__tests__/oracle.js';

describe('loading from the Hub', () => {
  const fx = loadFixture('v11_gated_untied');
  let hub: FakeHub;
  let home: string;
  const file = (p: string, lfs = false): FakeFile => ({ data: fs.readFileSync(p), lfs });

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 't5hub-'));
    // A sharded copy of the same weights.
    const f = SafetensorsFile.open(`${fx.dir}/model.safetensors`);
    const names = f.names();
    const halves = [names.slice(0, 25), names.slice(25)];
    const weightMap: Record<string, string> = {};
    const shards: Record<string, FakeFile> = {};
    halves.forEach((ns, i) => {
      const shard = `model-0000${i + 1}-of-00002.safetensors`;
      shards[shard] = { data: Buffer.from(encodeSafetensors(Object.fromEntries(ns.map((n) => [n, f.readRaw(n)])), { format: 'pt' })), lfs: true };
      for (const n of ns) weightMap[n] = shard;
    });
    f.close();
    const rev = (files: Record<string, FakeFile>) => ({ main: { commit: randomSha(), files } });
    hub = await FakeHub.start({
      'org/tiny-t5': { revisions: rev({ 'config.json': file(`${fx.dir}/config.json`), 'model.safetensors': file(`${fx.dir}/model.safetensors`, true) }) },
      'org/tiny-t5-sharded': {
        revisions: rev({
          'config.json': file(`${fx.dir}/config.json`),
          'model.safetensors.index.json': { data: Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap })) },
          ...shards,
        }),
      },
      'org/tiny-t5-bin': { revisions: rev({ 'config.json': file(`${fx.dir}/config.json`), 'pytorch_model.bin': { data: Buffer.from('pickle') } }) },
      'org/tiny-prompt': {
        revisions: rev({ 'adapter_config.json': file(`${fx.promptDir}/adapter_config.json`), 'adapter_model.safetensors': file(`${fx.promptDir}/adapter_model.safetensors`, true) }),
      },
    });
  });
  afterAll(async () => {
    await hub.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const opts = () => ({ endpoint: hub.url, env: { HF_HOME: home }, progress: false, token: false as const });

  it('loads a single-file and a sharded checkpoint by Hub id', async () => {
    for (const id of ['org/tiny-t5', 'org/tiny-t5-sharded']) {
      const m = await T5ForConditionalGeneration.fromPretrained(id, opts());
      tidy(() => {
        const out = m.forward({ inputIds: fx.inputs.input_ids, attentionMask: fx.inputs.attention_mask, labels: fx.inputs.labels });
        expectClose(out.logits, fx.tensor('logits'), 'logits', fx.name);
      });
      m.dispose();
    }
  });

  it('loads a prompt adapter by Hub id', async () => {
    const p = await SoftPrompt.fromPeft('org/tiny-prompt', opts());
    const local = await SoftPrompt.fromPeft(fx.promptDir);
    expect(Array.from(p.table.dataSync())).toEqual(Array.from(local.table.dataSync()));
    p.dispose();
    local.dispose();
  });

  it('says clearly when a repo has no safetensors weights', async () => {
    const err = await T5ForConditionalGeneration.fromPretrained('org/tiny-t5-bin', opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(T5WeightsError);
    expect((err as T5WeightsError).code).toBe('NO_WEIGHTS');
  });
});
