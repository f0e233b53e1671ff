/**
 * `T5Stack`: the encoder or the decoder, i.e. embeddings dropout, the blocks with the shared
 * relative position bias, the final RMS norm and dropout.
 */
import { type Tensor, add, minimum, reshape, tensor, where } from '@tpvjs/tensor';
import type { T5Config } from '../config/index.js';
import { type BlockCache, T5Block, T5LayerNorm } from './layers.js';
import { Module, type ParamTable, type RunState, applyDropout } from './module.js';

/**
 * `torch.finfo(torch.float32).min`, the value HF adds to masked attention scores. Masks hold
 * exactly this (never a sum of two of them, which would overflow to −∞), so a fully masked row
 * gives a uniform softmax as in HF rather than NaN.
 */
export const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * `(1 − mask) · finfo.min` as `[B, 1, 1, L]`: the additive key-padding mask HF builds from a 0/1
 * attention mask (`invert_attention_mask`).
 */
export function additiveKeyMask(mask: Tensor): Tensor {
  const [b, l] = mask.shape as [number, number];
  return reshape(where(mask.eq(0), FLOAT32_MIN, 0), [b, 1, 1, l]);
}

/**
 * The causal mask `[1, 1, Lq, Lk]` for queries at absolute positions `offset … offset+Lq−1`:
 * `finfo.min` where the key is in the query's future. Null when no key is in the future (one new
 * query over a cache), which saves the addition.
 */
export function causalMask(queryLength: number, keyLength: number, offset: number): Tensor | null {
  // Row 0 (the earliest query) has the most future keys; if it has none, no row has any.
  if (offset + 1 >= keyLength) return null;
  const data = new Float32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = offset + i + 1; j < keyLength; j++) data[i * keyLength + j] = FLOAT32_MIN;
  }
  return tensor(data, { shape: [1, 1, queryLength, keyLength] });
}

/** Arguments of {@link T5Stack.forward}. */
export interface T5StackInput {
  /** Input embeddings `[B, L, d_model]` (the shared embedding of the ids, or custom embeddings). */
  inputsEmbeds: Tensor;
  /**
   * 0/1 float mask over the self-attention keys, `[B, pastLength + L]`; null means all ones. In
   * the decoder it is combined with the causal mask.
   */
  attentionMask: Tensor | null;
  /** Decoder only: the encoder output `[B, Lenc, d_model]` (may be null when `past` holds its keys/values). */
  encoderHiddenStates?: Tensor | null;
  /** Decoder only: additive encoder key mask `[B, 1, 1, Lenc]` from {@link additiveKeyMask}; null when nothing is padded. */
  encoderKeyMask?: Tensor | null;
  /** Decoder only: per-block cache of earlier steps. */
  past?: readonly (BlockCache | undefined)[] | null;
  /** Number of positions already in `past` (the absolute position of the first new query). */
  pastLength?: number;
  /** Also return the residual stream entering each block and leaving the last one. */
  outputHiddenStates?: boolean;
}

/** Result of {@link T5Stack.forward}. */
export interface T5StackOutput {
  /** After `final_layer_norm` (and dropout). */
  lastHiddenState: Tensor;
  /**
   * With `outputHiddenStates`: entry i is the residual stream entering block i (entry 0 the
   * embeddings after dropout) and the last entry is the output of the last block **before**
   * `final_layer_norm`.
   */
  hiddenStates?: Tensor[];
  /** Per-block keys/values (self, and cross in the decoder) for incremental decoding. */
  cache: BlockCache[];
}

/** The encoder or decoder stack. */
export class T5Stack extends Module {
  /** The blocks; block 0's self-attention owns the relative bias table. */
  readonly block: readonly T5Block[];
  /** Norm applied after the last block. */
  readonly final_layer_norm: T5LayerNorm;
  /** Whether this is the decoder. */
  readonly isDecoder: boolean;
  readonly #state: RunState;
  readonly #p: number;

  /**
   * @param prefix - `encoder` or `decoder`
   */
  constructor(config: T5Config, params: ParamTable, prefix: 'encoder' | 'decoder', state: RunState) {
    super();
    const isDecoder = prefix === 'decoder';
    const n = isDecoder ? config.numDecoderLayers : config.numLayers;
    const blocks: T5Block[] = [];
    for (let i = 0; i < n; i++) {
      blocks.push(this.registerModule(`block.${i}`, new T5Block(config, params, `${prefix}.block.${i}`, { isDecoder, hasRelativeAttentionBias: i === 0 }, state)));
    }
    this.block = blocks;
    this.final_layer_norm = this.registerModule('final_layer_norm', new T5LayerNorm(params, `${prefix}.final_layer_norm`, config.dModel, config.layerNormEpsilon));
    this.isDecoder = isDecoder;
    this.#state = state;
    this.#p = config.dropoutRate;
  }

  /**
   * The position bias `[1, H, Lq, Lk]` that every block of this stack adds to its self-attention
   * scores (masks not included).
   */
  positionBias(queryLength: number, keyLength: number, queryOffset = 0): Tensor {
    return this.block[0]!.selfAttention.computeBias(queryLength, keyLength, queryOffset);
  }

  /** Runs the stack; see {@link T5StackInput}. */
  forward(input: T5StackInput): T5StackOutput {
    const pastLength = input.pastLength ?? 0;
    const lq = input.inputsEmbeds.shape[1]!;
    const lk = pastLength + lq;
    // Computed once with block 0's table and reused unchanged by every block, as in HF.
    const pb = this.positionBias(lq, lk, pastLength);
    const keyPad = input.attentionMask ? additiveKeyMask(input.attentionMask) : null;
    let mask = keyPad;
    if (this.isDecoder) {
      const causal = causalMask(lq, lk, pastLength);
      // Both masks hold 0 or finfo.min; the minimum keeps finfo.min without overflowing to −∞.
      mask = causal && keyPad ? minimum(causal, keyPad) : (causal ?? keyPad);
    }
    const bias = mask ? add(pb, mask) : pb;
    const encoder = this.isDecoder ? { states: input.encoderHiddenStates ?? null, mask: input.encoderKeyMask ?? null } : null;

    let h = applyDropout(input.inputsEmbeds, this.#p, this.#state);
    const hiddenStates: Tensor[] | undefined = input.outputHiddenStates ? [] : undefined;
    const cache: BlockCache[] = [];
    this.block.forEach((blk, i) => {
      hiddenStates?.push(h);
      const out = blk.forward(h, bias, encoder, input.past?.[i]);
      h = out.hidden;
      cache.push(out.cache);
    });
    hiddenStates?.push(h);
    const last = applyDropout(this.final_layer_norm.forward(h), this.#p, this.#state);
    return { lastHiddenState: last, ...(hiddenStates ? { hiddenStates } : {}), cache };
  }
}
