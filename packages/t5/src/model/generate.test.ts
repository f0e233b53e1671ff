/**
 * Greedy generation: the KV-cached path must give exactly the ids (and, to float32 noise, the
 * logits) of full recomputation, stop per row at EOS, and keep the live-tensor count flat per step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, memory, tensor } from '@tpvjs/tensor';
import { parseT5Config } from '../config/index.js';
import { T5ForConditionalGeneration } from './t5.js';
import { loadFixture } from './__tests__/oracle.js';

describe('generate', () => {
  let model: T5ForConditionalGeneration;
  let random: T5ForConditionalGeneration;
  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(loadFixture('v11_gated_untied').dir);
    // A random tied model with several heads and blocks: a different code path for the head.
    random = T5ForConditionalGeneration.fromConfig(
      parseT5Config({ d_model: 32, d_kv: 8, d_ff: 48, num_layers: 2, num_decoder_layers: 3, num_heads: 4, vocab_size: 97, relative_attention_num_buckets: 8, relative_attention_max_distance: 20 }),
      { generator: new Generator(7) },
    );
  });
  afterAll(() => {
    model.dispose();
    random.dispose();
  });

  async function stepLogits(m: T5ForConditionalGeneration, args: Parameters<T5ForConditionalGeneration['generate']>[0]) {
    const logits: Float32Array[] = [];
    const ids = await m.generate({ ...args, onStep: ({ logits: l }) => logits.push(Float32Array.from(l.dataSync())) });
    return { ids, logits };
  }

  it('KV cache equals full recomputation on random batches (ids exactly, logits to 1e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        async (b, l, seed, useRandomModel) => {
          const m = useRandomModel ? random : model;
          const v = m.config.vocabSize;
          const gen = new Generator(seed);
          const u = gen.uniforms(b * l + b);
          const ids = Array.from({ length: b }, (_, r) => Array.from({ length: l }, (_, j) => Math.floor(u[r * l + j]! * v)));
          // Right padding of random length per row (at least one real token).
          const mask = ids.map((_, r) => {
            const len = 1 + Math.floor(u[b * l + r]! * l);
            return Array.from({ length: l }, (_, j) => (j < len ? 1 : 0));
          });
          const args = { inputIds: ids, attentionMask: mask, maxNewTokens: 6, eosTokenId: null };
          const cached = await stepLogits(m, args);
          const full = await stepLogits(m, { ...args, useCache: false });
          expect(cached.ids).toEqual(full.ids);
          expect(cached.logits.length).toBe(full.logits.length);
          cached.logits.forEach((a, s) => {
            const f = full.logits[s]!;
            let max = 0;
            for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - f[i]!));
            expect(max).toBeLessThan(1e-5);
          });
        },
      ),
      { numRuns: 12, seed: 42 },
    );
  });

  it('stops each row at EOS, pads it afterwards, and stops when every row is done', async () => {
    const fx = loadFixture('v11_gated_untied');
    const out = await model.generate({ inputIds: fx.inputs.input_ids, attentionMask: fx.inputs.attention_mask, maxNewTokens: 8 });
    expect(out).toEqual(fx.expected.greedy_ids);
    expect(out[0]!.length).toBeLessThan(9); // all rows finished early
    for (const row of out) {
      const e = row.indexOf(1);
      if (e >= 0) expect(row.slice(e + 1).every((t) => t === 0)).toBe(true);
    }
  });

  it('without EOS runs for maxNewTokens; maxNewTokens 0 returns the start token', async () => {
    const fx = loadFixture('v11_gated_untied');
    const out = await model.generate({ inputIds: fx.inputs.input_ids, attentionMask: fx.inputs.attention_mask, maxNewTokens: 5, eosTokenId: null });
    expect(out.every((r) => r.length === 6)).toBe(true);
    expect(await model.generate({ inputIds: [[5, 6, 1]], maxNewTokens: 0 })).toEqual([[0]]);
  });

  it('keeps the live-tensor count flat per step and frees everything at the end', async () => {
    const fx = loadFixture('v11_gated_untied');
    for (const useCache of [true, false]) {
      const before = memory().numTensors;
      const counts: number[] = [];
      await model.generate({
        inputIds: fx.inputs.input_ids,
        attentionMask: fx.inputs.attention_mask,
        maxNewTokens: 8,
        eosTokenId: null,
        useCache,
        onStep: () => counts.push(memory().numTensors),
      });
      expect(counts.length).toBe(8);
      // From the second step on the cache has its steady shape: same tensor count every step.
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(memory().numTensors).toBe(before);
    }
  });

  it('accepts int32 tensors and infers the mask from padding like HF when none is given', async () => {
    const fx = loadFixture('v11_gated_untied');
    const b = fx.inputs.input_ids.length;
    const l = fx.inputs.input_ids[0]!.length;
    const ids = tensor(Int32Array.from(fx.inputs.input_ids.flat()), { shape: [b, l], dtype: 'int32' });
    // The fixtures are right-padded with 0 = pad, so ids ≠ pad is exactly their attention mask.
    expect(await model.generate({ inputIds: ids, maxNewTokens: 8 })).toEqual(fx.expected.greedy_ids);
    ids.dispose();
  });
});
