/** T5 config parsing: HF defaults, the gated-gelu rule, and typed errors for unusable configs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadT5Config, parseT5Config, t5ConfigToJson } from './config.js';
import { T5ConfigError } from './errors.js';
import { ORACLE_DIR, ORACLE_MODELS } from '../model/__tests__/oracle.js';

function expectConfigError(json: unknown, code: T5ConfigError['code'], key?: string): T5ConfigError {
  try {
    parseT5Config(json);
  } catch (err) {
    expect(err).toBeInstanceOf(T5ConfigError);
    expect((err as T5ConfigError).code).toBe(code);
    if (key !== undefined) expect((err as T5ConfigError).key).toBe(key);
    return err as T5ConfigError;
  }
  throw new Error(`expected T5ConfigError ${code}`);
}

describe('parseT5Config', () => {
  it.each(ORACLE_MODELS)('reads the %s fixture config', (name) => {
    const c = loadT5Config(`${ORACLE_DIR}${name}/config.json`);
    const gated = name.startsWith('v11');
    expect(c.dModel).toBe(64);
    expect(c.isGatedAct).toBe(gated);
    expect(c.denseActFn).toBe(gated ? 'gelu_new' : 'relu');
    expect(c.tieWordEmbeddings).toBe(!gated);
    expect(c.numLayers).toBe(gated ? 3 : 2);
    expect(c.numDecoderLayers).toBe(2);
    expect(c.innerDim).toBe(gated ? 48 : 64);
  });

  it('applies HF defaults for every missing key except d_model', () => {
    const c = parseT5Config({ d_model: 768 });
    expect(c).toMatchObject({
      vocabSize: 32128, dKv: 64, dFf: 2048, numLayers: 6, numDecoderLayers: 6, numHeads: 8, innerDim: 512,
      relativeAttentionNumBuckets: 32, relativeAttentionMaxDistance: 128, dropoutRate: 0.1, layerNormEpsilon: 1e-6,
      initializerFactor: 1, feedForwardProj: 'relu', denseActFn: 'relu', isGatedAct: false, tieWordEmbeddings: true,
      padTokenId: 0, eosTokenId: 1, decoderStartTokenId: 0, modelType: 't5',
    });
    expect(parseT5Config({ d_model: 8, num_layers: 3 }).numDecoderLayers).toBe(3);
    expect(parseT5Config({ d_model: 8, num_layers: 3, num_decoder_layers: null }).numDecoderLayers).toBe(3);
  });

  it('reads gated-gelu as the tanh GELU (gelu_new) and gated-silu as gated silu', () => {
    expect(parseT5Config({ d_model: 8, feed_forward_proj: 'gated-gelu' })).toMatchObject({ isGatedAct: true, denseActFn: 'gelu_new' });
    expect(parseT5Config({ d_model: 8, feed_forward_proj: 'gated-silu' })).toMatchObject({ isGatedAct: true, denseActFn: 'silu' });
    expect(parseT5Config({ d_model: 8, feed_forward_proj: 'gelu' })).toMatchObject({ isGatedAct: false, denseActFn: 'gelu' });
  });

  it('rejects a config without d_model', () => {
    const e = expectConfigError({ vocab_size: 512, num_heads: 4 }, 'MISSING_KEY', 'd_model');
    expect(e.message).toMatch(/d_model/);
  });

  it('rejects unknown activations and malformed feed_forward_proj', () => {
    expectConfigError({ d_model: 8, feed_forward_proj: 'gated-mish' }, 'UNKNOWN_ACTIVATION', 'feed_forward_proj');
    expectConfigError({ d_model: 8, feed_forward_proj: 'swiglu' }, 'UNKNOWN_ACTIVATION', 'feed_forward_proj');
    expectConfigError({ d_model: 8, feed_forward_proj: 'double-gelu' }, 'BAD_VALUE', 'feed_forward_proj');
    expectConfigError({ d_model: 8, feed_forward_proj: 'gated-gelu-new' }, 'BAD_VALUE', 'feed_forward_proj');
    expectConfigError({ d_model: 8, dense_act_fn: 'mish' }, 'UNKNOWN_ACTIVATION', 'dense_act_fn');
  });

  it('rejects contradictory keys', () => {
    expectConfigError({ d_model: 8, feed_forward_proj: 'relu', is_gated_act: true }, 'CONTRADICTION', 'is_gated_act');
    expectConfigError({ d_model: 8, feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu' }, 'CONTRADICTION', 'dense_act_fn');
  });

  it('rejects nonsensical sizes and types', () => {
    expectConfigError({ d_model: 0 }, 'BAD_VALUE', 'd_model');
    expectConfigError({ d_model: -64 }, 'BAD_VALUE', 'd_model');
    expectConfigError({ d_model: 64.5 }, 'BAD_VALUE', 'd_model');
    expectConfigError({ d_model: '64' }, 'BAD_TYPE', 'd_model');
    expectConfigError({ d_model: 64, num_heads: 0 }, 'BAD_VALUE', 'num_heads');
    expectConfigError({ d_model: 64, d_kv: 0 }, 'BAD_VALUE', 'd_kv');
    expectConfigError({ d_model: 64, d_kv: 4096 }, 'BAD_VALUE', 'd_kv');
    expectConfigError({ d_model: 64, num_heads: 2 ** 20 }, 'BAD_VALUE', 'num_heads');
    expectConfigError({ d_model: 64, relative_attention_num_buckets: 2 }, 'BAD_VALUE', 'relative_attention_num_buckets');
    expectConfigError({ d_model: 64, relative_attention_max_distance: 16 }, 'BAD_VALUE', 'relative_attention_max_distance');
    expectConfigError({ d_model: 64, dropout_rate: 1 }, 'BAD_VALUE', 'dropout_rate');
    expectConfigError({ d_model: 64, layer_norm_epsilon: 0 }, 'BAD_VALUE', 'layer_norm_epsilon');
    expectConfigError({ d_model: 64, tie_word_embeddings: 'yes' }, 'BAD_TYPE', 'tie_word_embeddings');
    expectConfigError({ d_model: 64, vocab_size: 10, eos_token_id: 10 }, 'BAD_VALUE', 'eos_token_id');
    expectConfigError({ d_model: 64, model_type: 'umt5' }, 'UNSUPPORTED_MODEL', 'model_type');
    expectConfigError([1, 2], 'NOT_AN_OBJECT');
    expectConfigError(null, 'NOT_AN_OBJECT');
  });

  it('names the file in errors from loadT5Config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 't5cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'config.json'), '{"vocab_size": 5}');
      expect(() => loadT5Config(path.join(dir, 'config.json'))).toThrow(/config\.json.*d_model/);
      fs.writeFileSync(path.join(dir, 'bad.json'), '{');
      expect(() => loadT5Config(path.join(dir, 'bad.json'))).toThrow(T5ConfigError);
      expect(() => loadT5Config(path.join(dir, 'none.json'))).toThrow(expect.objectContaining({ code: 'IO' }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('round-trips through t5ConfigToJson (property)', () => {
    const activation = fc.constantFrom('relu', 'gated-gelu', 'gelu', 'gated-silu', 'gelu_new');
    fc.assert(
      fc.property(
        fc.record({
          d_model: fc.integer({ min: 8, max: 4096 }),
          d_kv: fc.integer({ min: 1, max: 128 }),
          num_heads: fc.integer({ min: 1, max: 32 }),
          num_layers: fc.integer({ min: 1, max: 24 }),
          relative_attention_num_buckets: fc.integer({ min: 4, max: 64 }),
          feed_forward_proj: activation,
          tie_word_embeddings: fc.boolean(),
        }),
        (raw) => {
          const c = parseT5Config(raw);
          const again = parseT5Config(t5ConfigToJson(c));
          expect({ ...again, raw: null }).toEqual({ ...c, raw: null });
        },
      ),
    );
  });
});
