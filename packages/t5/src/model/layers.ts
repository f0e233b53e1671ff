/**
 * The T5 layers, named and structured like HF's `modeling_t5.py` so that parameter paths are the
 * HF state-dict names. Every op follows HF's order of operations (no attention scaling, RMS norm
 * without mean or bias, pre-norm residual blocks, dropout where HF has `nn.Dropout`).
 */
import { type Tensor, add, cat, embedding, gelu, linear, matmul, mul, permute, relu, reshape, rmsNorm, silu, softmax, tensor } from '@tpvjs/tensor';
import type { T5Config } from '../config/index.js';
import { Embedding, Linear, Module, type ParamTable, type RunState, applyDropout } from './module.js';
import { relativePositionBuckets } from './position-bias.js';

/**
 * Keys and values of one attention layer, laid out for the score and output matmuls: keys
 * pre-transposed as `kT` `[B, H, d_kv, Lk]` (so `q · kT` needs no transpose per step) and values
 * `[B, H, Lk, d_kv]`.
 */
export interface KeyValue {
  /** Keys, transposed: `[B, H, d_kv, Lk]`. */
  readonly kT: Tensor;
  /** Values: `[B, H, Lk, d_kv]`. */
  readonly v: Tensor;
}

/** T5's layer norm: RMS normalisation with a learned scale, no mean subtraction, no bias. */
export class T5LayerNorm extends Module {
  /** Scale `[d_model]`. */
  readonly weight: Tensor;
  /** Epsilon added to the mean square. */
  readonly eps: number;
  /** Takes `${prefix}.weight`. */
  constructor(params: ParamTable, prefix: string, dModel: number, eps: number) {
    super();
    this.weight = this.registerParameter('weight', params.take(`${prefix}.weight`, [dModel]));
    this.eps = eps;
  }

  /** `weight · x · rsqrt(mean(x², −1) + eps)`. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/**
 * Multi-head attention without the 1/√d_kv scaling (T5 folds it into the initialisation). Only
 * block 0 of each stack owns a `relative_attention_bias` table; the stack computes the bias once
 * with it and passes it to every block.
 */
export class T5Attention extends Module {
  /** Query projection `[inner, d_model]`. */
  readonly q: Linear;
  /** Key projection `[inner, d_model]`. */
  readonly k: Linear;
  /** Value projection `[inner, d_model]`. */
  readonly v: Linear;
  /** Output projection `[d_model, inner]`. */
  readonly o: Linear;
  /** `[num_buckets, num_heads]`, only on block 0's self-attention. */
  readonly relative_attention_bias: Embedding | null;
  /** Whether this attention sits in the decoder (causal buckets). */
  readonly isDecoder: boolean;
  readonly #config: T5Config;
  readonly #state: RunState;

  /**
   * @param prefix - HF path of this module, e.g. `encoder.block.0.layer.0.SelfAttention`
   */
  constructor(config: T5Config, params: ParamTable, prefix: string, options: { isDecoder: boolean; hasRelativeAttentionBias: boolean }, state: RunState) {
    super();
    const c = config;
    this.q = this.registerModule('q', new Linear(params, `${prefix}.q`, c.innerDim, c.dModel));
    this.k = this.registerModule('k', new Linear(params, `${prefix}.k`, c.innerDim, c.dModel));
    this.v = this.registerModule('v', new Linear(params, `${prefix}.v`, c.innerDim, c.dModel));
    this.o = this.registerModule('o', new Linear(params, `${prefix}.o`, c.dModel, c.innerDim));
    this.relative_attention_bias = options.hasRelativeAttentionBias
      ? this.registerModule('relative_attention_bias', new Embedding(params, `${prefix}.relative_attention_bias`, c.relativeAttentionNumBuckets, c.numHeads))
      : null;
    this.isDecoder = options.isDecoder;
    this.#config = config;
    this.#state = state;
  }

  /**
   * The relative position bias `[1, H, queryLength, keyLength]` (HF `compute_bias`), without any
   * mask. Query i is at absolute position `queryOffset + i` (the cached length when decoding
   * step by step); buckets are bidirectional in the encoder and causal in the decoder.
   */
  computeBias(queryLength: number, keyLength: number, queryOffset = 0): Tensor {
    if (!this.relative_attention_bias) throw new Error('computeBias: this attention layer has no relative_attention_bias (only block 0 owns it)');
    const c = this.#config;
    const buckets = relativePositionBuckets(queryLength, keyLength, queryOffset, !this.isDecoder, c.relativeAttentionNumBuckets, c.relativeAttentionMaxDistance);
    const ids = tensor(buckets, { shape: [queryLength, keyLength], dtype: 'int32' });
    const values = embedding(this.relative_attention_bias.weight, ids); // [Lq, Lk, H]
    return reshape(permute(values, [2, 0, 1]), [1, c.numHeads, queryLength, keyLength]);
  }

  /** Projects `states` `[B, L, d_model]` to keys and values. */
  projectKeyValue(states: Tensor): KeyValue {
    const [b, l] = states.shape as [number, number, number];
    const c = this.#config;
    const k = reshape(linear(states, this.k.weight), [b, l, c.numHeads, c.dKv]);
    const v = reshape(linear(states, this.v.weight), [b, l, c.numHeads, c.dKv]);
    return { kT: permute(k, [0, 2, 3, 1]), v: permute(v, [0, 2, 1, 3]) };
  }

  /**
   * Attention of `hidden` `[B, Lq, d_model]` over `kv`, with `bias` (position bias plus additive
   * masks, broadcastable to `[B, H, Lq, Lk]`) added to the raw scores.
   */
  forward(hidden: Tensor, kv: KeyValue, bias: Tensor | null): Tensor {
    const [b, lq] = hidden.shape as [number, number, number];
    const c = this.#config;
    const q = permute(reshape(linear(hidden, this.q.weight), [b, lq, c.numHeads, c.dKv]), [0, 2, 1, 3]);
    const scores = matmul(q, kv.kT); // [B, H, Lq, Lk], deliberately unscaled
    // softmax(scores + bias) in one fused kernel: the biased scores are never materialised.
    const weights = applyDropout(softmax(scores, -1, bias ? { bias } : {}), c.dropoutRate, this.#state);
    const ctx = matmul(weights, kv.v); // [B, H, Lq, d_kv]
    const merged = reshape(permute(ctx, [0, 2, 1, 3]), [b, lq, c.innerDim]);
    return linear(merged, this.o.weight);
  }
}

/** `h + dropout(SelfAttention(layer_norm(h)))`, with an optional key/value cache. */
export class T5LayerSelfAttention extends Module {
  /** The attention. */
  readonly SelfAttention: T5Attention;
  /** Pre-norm. */
  readonly layer_norm: T5LayerNorm;
  readonly #state: RunState;
  readonly #p: number;

  /** @param prefix - e.g. `encoder.block.0.layer.0` */
  constructor(config: T5Config, params: ParamTable, prefix: string, options: { isDecoder: boolean; hasRelativeAttentionBias: boolean }, state: RunState) {
    super();
    this.SelfAttention = this.registerModule('SelfAttention', new T5Attention(config, params, `${prefix}.SelfAttention`, options, state));
    this.layer_norm = this.registerModule('layer_norm', new T5LayerNorm(params, `${prefix}.layer_norm`, config.dModel, config.layerNormEpsilon));
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /**
   * @param past - keys/values of earlier positions (decoding with a cache); the new ones are appended
   * @returns the new hidden states and the full keys/values (past + new), for the cache
   */
  forward(hidden: Tensor, bias: Tensor | null, past?: KeyValue): { hidden: Tensor; kv: KeyValue } {
    const normed = this.layer_norm.forward(hidden);
    const fresh = this.SelfAttention.projectKeyValue(normed);
    const kv = past ? { kT: cat([past.kT, fresh.kT], 3), v: cat([past.v, fresh.v], 2) } : fresh;
    const out = this.SelfAttention.forward(normed, kv, bias);
    return { hidden: add(hidden, applyDropout(out, this.#p, this.#state)), kv };
  }
}

/** `h + dropout(EncDecAttention(layer_norm(h), encoder_states))`; never has a relative bias. */
export class T5LayerCrossAttention extends Module {
  /** The cross-attention. */
  readonly EncDecAttention: T5Attention;
  /** Pre-norm. */
  readonly layer_norm: T5LayerNorm;
  readonly #state: RunState;
  readonly #p: number;

  /** @param prefix - e.g. `decoder.block.0.layer.1` */
  constructor(config: T5Config, params: ParamTable, prefix: string, state: RunState) {
    super();
    this.EncDecAttention = this.registerModule('EncDecAttention',
      new T5Attention(config, params, `${prefix}.EncDecAttention`, { isDecoder: true, hasRelativeAttentionBias: false }, state));
    this.layer_norm = this.registerModule('layer_norm', new T5LayerNorm(params, `${prefix}.layer_norm`, config.dModel, config.layerNormEpsilon));
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /**
   * @param encoderKv - keys/values of the encoder output (computed once per generation and reused)
   * @param encoderMask - additive key mask `[B, 1, 1, Lenc]`, or null when nothing is padded
   */
  forward(hidden: Tensor, encoderKv: KeyValue, encoderMask: Tensor | null): Tensor {
    const out = this.EncDecAttention.forward(this.layer_norm.forward(hidden), encoderKv, encoderMask);
    return add(hidden, applyDropout(out, this.#p, this.#state));
  }
}

function activation(name: T5Config['denseActFn']): (x: Tensor) => Tensor {
  switch (name) {
    case 'relu':
      return relu;
    case 'gelu':
      return (x) => gelu(x, 'none');
    case 'gelu_new':
    case 'gelu_fast':
    case 'gelu_pytorch_tanh':
      return (x) => gelu(x, 'tanh');
    case 'silu':
    case 'swish':
      return silu;
  }
}

/** Plain feed-forward: `wo(dropout(act(wi x)))`. */
export class T5DenseActDense extends Module {
  /** `[d_ff, d_model]`. */
  readonly wi: Linear;
  /** `[d_model, d_ff]`. */
  readonly wo: Linear;
  readonly #act: (x: Tensor) => Tensor;
  readonly #state: RunState;
  readonly #p: number;

  /** @param prefix - e.g. `encoder.block.0.layer.1.DenseReluDense` */
  constructor(config: T5Config, params: ParamTable, prefix: string, state: RunState) {
    super();
    this.wi = this.registerModule('wi', new Linear(params, `${prefix}.wi`, config.dFf, config.dModel));
    this.wo = this.registerModule('wo', new Linear(params, `${prefix}.wo`, config.dModel, config.dFf));
    this.#act = activation(config.denseActFn);
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /** Applies the block to `x` `[..., d_model]`. */
  forward(x: Tensor): Tensor {
    const h = applyDropout(this.#act(linear(x, this.wi.weight)), this.#p, this.#state);
    return linear(h, this.wo.weight);
  }
}

/** Gated feed-forward (T5 v1.1): `wo(dropout(act(wi_0 x) · wi_1 x))`. */
export class T5DenseGatedActDense extends Module {
  /** Gate projection `[d_ff, d_model]`. */
  readonly wi_0: Linear;
  /** Linear projection `[d_ff, d_model]`. */
  readonly wi_1: Linear;
  /** `[d_model, d_ff]`. */
  readonly wo: Linear;
  readonly #act: (x: Tensor) => Tensor;
  readonly #state: RunState;
  readonly #p: number;

  /** @param prefix - e.g. `encoder.block.0.layer.1.DenseReluDense` */
  constructor(config: T5Config, params: ParamTable, prefix: string, state: RunState) {
    super();
    this.wi_0 = this.registerModule('wi_0', new Linear(params, `${prefix}.wi_0`, config.dFf, config.dModel));
    this.wi_1 = this.registerModule('wi_1', new Linear(params, `${prefix}.wi_1`, config.dFf, config.dModel));
    this.wo = this.registerModule('wo', new Linear(params, `${prefix}.wo`, config.dModel, config.dFf));
    this.#act = activation(config.denseActFn);
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /** Applies the block to `x` `[..., d_model]`. */
  forward(x: Tensor): Tensor {
    const gated = mul(this.#act(linear(x, this.wi_0.weight)), linear(x, this.wi_1.weight));
    return linear(applyDropout(gated, this.#p, this.#state), this.wo.weight);
  }
}

/** `h + dropout(DenseReluDense(layer_norm(h)))`. */
export class T5LayerFF extends Module {
  /** The feed-forward block (HF keeps this name for the gated kind too). */
  readonly DenseReluDense: T5DenseActDense | T5DenseGatedActDense;
  /** Pre-norm. */
  readonly layer_norm: T5LayerNorm;
  readonly #state: RunState;
  readonly #p: number;

  /** @param prefix - e.g. `encoder.block.0.layer.1` */
  constructor(config: T5Config, params: ParamTable, prefix: string, state: RunState) {
    super();
    const ff = config.isGatedAct
      ? new T5DenseGatedActDense(config, params, `${prefix}.DenseReluDense`, state)
      : new T5DenseActDense(config, params, `${prefix}.DenseReluDense`, state);
    this.DenseReluDense = this.registerModule('DenseReluDense', ff);
    this.layer_norm = this.registerModule('layer_norm', new T5LayerNorm(params, `${prefix}.layer_norm`, config.dModel, config.layerNormEpsilon));
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /** Applies the residual feed-forward sub-layer. */
  forward(hidden: Tensor): Tensor {
    const out = this.DenseReluDense.forward(this.layer_norm.forward(hidden));
    return add(hidden, applyDropout(out, this.#p, this.#state));
  }
}

/** Per-block cache while decoding: self-attention keys/values so far, and the encoder's. */
export interface BlockCache {
  /** Self-attention keys/values of every position so far. */
  readonly self?: KeyValue;
  /** Cross-attention keys/values of the encoder output (constant during generation). */
  readonly cross?: KeyValue;
}

/** One encoder or decoder block: self-attention, (decoder only) cross-attention, feed-forward. */
export class T5Block extends Module {
  /** `[T5LayerSelfAttention, T5LayerFF]` or `[T5LayerSelfAttention, T5LayerCrossAttention, T5LayerFF]`. */
  readonly layer: readonly [T5LayerSelfAttention, T5LayerFF] | readonly [T5LayerSelfAttention, T5LayerCrossAttention, T5LayerFF];
  /** Whether this is a decoder block. */
  readonly isDecoder: boolean;

  /** @param prefix - e.g. `decoder.block.3` */
  constructor(config: T5Config, params: ParamTable, prefix: string, options: { isDecoder: boolean; hasRelativeAttentionBias: boolean }, state: RunState) {
    super();
    const self = this.registerModule('layer.0', new T5LayerSelfAttention(config, params, `${prefix}.layer.0`, options, state));
    if (options.isDecoder) {
      const cross = this.registerModule('layer.1', new T5LayerCrossAttention(config, params, `${prefix}.layer.1`, state));
      const ff = this.registerModule('layer.2', new T5LayerFF(config, params, `${prefix}.layer.2`, state));
      this.layer = [self, cross, ff];
    } else {
      const ff = this.registerModule('layer.1', new T5LayerFF(config, params, `${prefix}.layer.1`, state));
      this.layer = [self, ff];
    }
    this.isDecoder = options.isDecoder;
  }

  /** The self-attention of this block (block 0's owns the stack's relative bias table). */
  get selfAttention(): T5Attention {
    return this.layer[0].SelfAttention;
  }

  /** The cross-attention of a decoder block, else null. */
  get crossAttention(): T5Attention | null {
    return this.layer.length === 3 ? this.layer[1].EncDecAttention : null;
  }

  /**
   * Runs the block.
   * @param selfBias - position bias plus masks for self-attention, `[B or 1, H, Lq, Lk]`
   * @param encoder - the encoder output (unused when `past.cross` holds its keys/values) and its additive key mask
   * @param past - this block's cache from earlier decoding steps
   * @returns new hidden states and this block's updated cache
   */
  forward(
    hidden: Tensor,
    selfBias: Tensor | null,
    encoder: { states: Tensor | null; mask: Tensor | null } | null,
    past?: BlockCache,
  ): { hidden: Tensor; cache: BlockCache } {
    const sa = this.layer[0].forward(hidden, selfBias, past?.self);
    let h = sa.hidden;
    let cross: KeyValue | undefined;
    if (this.layer.length === 3) {
      if (!encoder) throw new Error('decoder block needs the encoder output');
      if (!past?.cross && !encoder.states) throw new Error('decoder block needs the encoder output or its cached keys/values');
      cross = past?.cross ?? this.layer[1].EncDecAttention.projectKeyValue(encoder.states!);
      h = this.layer[1].forward(h, cross, encoder.mask);
      h = this.layer[2].forward(h);
    } else {
      h = this.layer[1].forward(h);
    }
    return { hidden: h, cache: cross ? { self: sa.kv, cross } : { self: sa.kv } };
  }
}
