/**
 * Parity of `T5ForConditionalGeneration` with Hugging Face on the four oracle models: hidden
 * states, logits, losses, label shifting, greedy ids, position biases and per-block residual
 * streams, within the fixture README's tolerances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memory, tensor, tidy } from '@tpvjs/tensor';
import { T5ForConditionalGeneration } from './t5.js';
import { shiftRight, shiftRightArray } from './inputs.js';
import { ORACLE_MODELS, expectClose, expectScalarClose, formatReport, loadFixture, record } from './__tests__/oracle.js';

afterAll(() => {
  console.log(`T5 oracle parity (max abs error; losses: relative error)\n${formatReport()}`);
});

describe.each(ORACLE_MODELS)('oracle parity: %s', (name) => {
  const fx = loadFixture(name);
  const inp = fx.inputs;
  let model: T5ForConditionalGeneration;

  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(fx.dir);
  });
  afterAll(() => model.dispose());

  it('starts in eval mode with frozen weights named like HF', () => {
    expect(model.training).toBe(false);
    const names = model.namedParameters().map(([n]) => n);
    expect(names[0]).toBe('shared.weight');
    expect(names).toContain('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight');
    expect(names).not.toContain('encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight');
    expect(names.includes('lm_head.weight')).toBe(!model.config.tieWordEmbeddings);
    expect(model.parameters().every((p) => !p.requiresGrad)).toBe(true);
  });

  it('teacher-forced forward: encoder states, decoder states, logits, loss', () => {
    tidy(() => {
      const out = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels });
      expectClose(out.encoderLastHiddenState, fx.tensor('encoder_last_hidden_state'), 'encoder_last_hidden_state', name);
      expectClose(out.decoderLastHiddenState, fx.tensor('decoder_last_hidden_state'), 'decoder_last_hidden_state', name);
      expectClose(out.logits, fx.tensor('logits'), 'logits', name);
      expectScalarClose(out.loss!.dataSync()[0]!, fx.expected.loss, 'loss (rel)', name);
    });
  });

  it('logits and loss with a decoder attention mask', () => {
    tidy(() => {
      const out = model.forward({
        inputIds: inp.input_ids,
        attentionMask: inp.attention_mask,
        labels: inp.labels,
        decoderAttentionMask: inp.decoder_attention_mask,
      });
      expectClose(out.logits, fx.tensor('logits_with_decoder_attention_mask'), 'logits_with_decoder_attention_mask', name);
      expectScalarClose(out.loss!.dataSync()[0]!, fx.expected.loss_with_decoder_attention_mask, 'loss_with_decoder_attention_mask (rel)', name);
    });
  });

  it('shifts labels right exactly (host arrays and tensors)', () => {
    const c = model.config;
    expect(shiftRightArray(inp.labels, c.decoderStartTokenId, c.padTokenId)).toEqual(fx.expected.decoder_input_ids);
    tidy(() => {
      const t = shiftRight(tensor(Int32Array.from(inp.labels.flat()), { shape: [inp.labels.length, inp.labels[0]!.length], dtype: 'int32' }), c.decoderStartTokenId, c.padTokenId);
      expect(Array.from(t.dataSync())).toEqual(fx.expected.decoder_input_ids.flat());
    });
    // Explicit decoder ids give the same logits as labels → shiftRight.
    tidy(() => {
      const a = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, decoderInputIds: fx.expected.decoder_input_ids });
      expectClose(a.logits, fx.tensor('logits'), 'logits', name);
    });
  });

  it('int32 tensor inputs give the same results as nested arrays', () => {
    tidy(() => {
      const [b, l] = [inp.input_ids.length, inp.input_ids[0]!.length];
      const out = model.forward({
        inputIds: tensor(Int32Array.from(inp.input_ids.flat()), { shape: [b, l], dtype: 'int32' }),
        attentionMask: tensor(Int32Array.from(inp.attention_mask.flat()), { shape: [b, l], dtype: 'int32' }),
        labels: tensor(Int32Array.from(inp.labels.flat()), { shape: [b, inp.labels[0]!.length], dtype: 'int32' }),
      });
      expectClose(out.logits, fx.tensor('logits'), 'logits', name);
      expectScalarClose(out.loss!.dataSync()[0]!, fx.expected.loss, 'loss (rel)', name);
    });
  });

  it('inputsEmbeds = shared[inputIds] gives the same encoder output', () => {
    tidy(() => {
      const ids = tensor(Int32Array.from(inp.input_ids.flat()), { shape: [inp.input_ids.length, inp.input_ids[0]!.length], dtype: 'int32' });
      const embeds = model.shared.weight.detach();
      const e = model.encode({ inputsEmbeds: tidy(() => embedsOf(embeds, ids)), attentionMask: inp.attention_mask });
      expectClose(e.lastHiddenState, fx.tensor('encoder_last_hidden_state'), 'encoder_last_hidden_state', name);
    });
  });

  it('position biases (encoder bidirectional, decoder causal) and per-block hidden states', () => {
    tidy(() => {
      const l = inp.input_ids[0]!.length;
      const t = inp.labels[0]!.length;
      expectClose(model.encoder.positionBias(l, l), fx.tensor('debug.encoder_position_bias'), 'debug.encoder_position_bias', name);
      expectClose(model.decoder.positionBias(t, t), fx.tensor('debug.decoder_position_bias'), 'debug.decoder_position_bias', name);
      const out = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels, outputHiddenStates: true });
      const hs = out.encoderHiddenStates!;
      expect(hs.length).toBe(model.config.numLayers + 1);
      hs.forEach((h, i) => expectClose(h, fx.tensor(`debug.encoder_hidden_states.${i}`), 'debug.encoder_hidden_states.*', name));
      expect(out.decoderHiddenStates!.length).toBe(model.config.numDecoderLayers + 1);
    });
  });

  it('greedy generation equals HF, with and without the KV cache', async () => {
    const args = { inputIds: inp.input_ids, attentionMask: inp.attention_mask, maxNewTokens: inp.max_new_tokens };
    expect(await model.generate(args)).toEqual(fx.expected.greedy_ids);
    expect(await model.generate({ ...args, useCache: false })).toEqual(fx.expected.greedy_ids);
    record('greedy_ids mismatches', name, 0);
  });

  it('greedy generation with an EOS override equals HF', async () => {
    const args = { inputIds: inp.input_ids, attentionMask: inp.attention_mask, maxNewTokens: inp.max_new_tokens, eosTokenId: inp.eos_token_id_override! };
    expect(await model.generate(args)).toEqual(fx.expected.greedy_ids_eos_override);
    expect(await model.generate({ ...args, useCache: false })).toEqual(fx.expected.greedy_ids_eos_override);
  });

  it('an eval forward outside tidy leaves only its outputs alive', () => {
    const before = memory().numTensors;
    const out = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels });
    // logits, loss, encoder and decoder last hidden states
    expect(memory().numTensors - before).toBe(4);
    out.logits.dispose();
    out.loss!.dispose();
    out.encoderLastHiddenState.dispose();
    out.decoderLastHiddenState.dispose();
    expect(memory().numTensors).toBe(before);
  });
});

function embedsOf(weight: import('@tpvjs/tensor').Tensor, ids: import('@tpvjs/tensor').Tensor) {
  // Plain gather through the engine, independent of the model's own embedding call.
  return tidy(() => {
    const rows = Array.from(ids.dataSync());
    const d = weight.shape[1]!;
    const w = weight.dataSync();
    const out = new Float32Array(rows.length * d);
    rows.forEach((r, i) => out.set(w.subarray(r * d, (r + 1) * d), i * d));
    return tensor(out, { shape: [...ids.shape, d] });
  });
}
