/**
 * Prompt tuning on the WebGPU backend: the loss falls on a learnable task and the run agrees with
 * the CPU backend. Skipped loudly without an adapter (a failure under `CI=true`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, memory, setBackend } from '@tpvjs/tensor';
import { withWebGPU } from '../../../tensor/src/testing/webgpu-gate.js';
import { T5ForConditionalGeneration, T5Tokenizer, parseT5Config, sampledVocabInit } from '@tpvjs/t5';
import { fileURLToPath } from 'node:url';
import { trainPrompt } from './trainer.js';
import type { TextExample } from './data.js';

const SPIECE = fileURLToPath(new URL('../../../t5/test-data/tokenizer/spiece.model', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tpv-webgpu-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A learnable toy task: the label word is decided by the first word of the sentence. */
function toyTask(n: number): TextExample[] {
  const pos = ['great', 'lovely', 'superb', 'wonderful'];
  const neg = ['awful', 'boring', 'dreadful', 'terrible'];
  return Array.from({ length: n }, (_, i) => {
    const p = i % 2 === 0;
    const w = (p ? pos : neg)[(i >> 1) % 4]!;
    return { source: `sst2 sentence: ${w} film number ${i}`, target: p ? 'positive' : 'negative' };
  });
}

async function run(backend: string): Promise<{ losses: number[]; prompt: Float32Array }> {
  await setBackend(backend);
  const config = parseT5Config({ vocab_size: 32128, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 1, num_heads: 2, dropout_rate: 0.1, model_type: 't5' });
  const model = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(3) });
  const tokenizer = T5Tokenizer.fromFile(SPIECE);
  const origin = sampledVocabInit(model, { numVirtualTokens: 4, index: 0 });
  const data = Float32Array.from(await origin.table.data());
  origin.table.dispose();
  const r = await trainPrompt({
    model, tokenizer, outDir: join(work, backend), origin: data, promptShape: [8, 16], numVirtualTokens: 4,
    tasks: [{ name: 'toy', train: toyTask(32), validation: toyTask(8), maxTargetLength: 2 }],
    maxSteps: 80, batchSize: 8, warmupSteps: 5, evalEvery: 40, maxSourceLength: 16, silent: true, lr: 0.3,
  });
  model.dispose();
  await setBackend('cpu');
  return { losses: r.trainLosses.map((l) => l.loss), prompt: r.finalPrompt };
}

await withWebGPU('webgpu training tests', async () => {
  describe('prompt tuning on webgpu', () => {
    it('drives the loss down on a learnable task and agrees with the CPU backend', async () => {
      const before = memory().numTensors;
      const gpu = await run('webgpu');
      const cpu = await run('cpu');
      const head = (l: number[]) => l.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
      const tail = (l: number[]) => l.slice(-5).reduce((a, b) => a + b, 0) / 5;
      console.log(`webgpu loss: first 5 steps ${head(gpu.losses).toFixed(3)} → last 5 ${tail(gpu.losses).toFixed(3)}; cpu ${head(cpu.losses).toFixed(3)} → ${tail(cpu.losses).toFixed(3)}`);
      // A frozen random T5 has a small logit range, so the achievable drop is modest but clear.
      expect(tail(gpu.losses)).toBeLessThan(head(gpu.losses) - 0.4);
      // Same data, same dropout stream (Philox), same update: the curves agree to float32 noise.
      gpu.losses.slice(0, 10).forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(l))));
      expect(memory().numTensors).toBe(before);
    });
  });
});
