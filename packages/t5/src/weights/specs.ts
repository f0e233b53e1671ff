/**
 * The HF state-dict names and shapes of every T5 parameter, derived from a config. This is the
 * single source of truth that the loader checks checkpoints against and that the model takes its
 * tensors from, so a name can never be spelled two ways.
 */
import type { T5Config } from '../config/index.js';

/** Name (HF state-dict path) and shape of one parameter. */
export interface T5ParameterSpec {
  /** e.g. `encoder.block.0.layer.0.SelfAttention.q.weight`. */
  readonly name: string;
  /** nn.Linear layout `[out_features, in_features]` for projections. */
  readonly shape: readonly number[];
}

/**
 * Tensors some checkpoints carry that the model does not need: copies of `shared.weight` under the
 * per-stack embedding names (HF ties them), and a relative-attention table that old T5 checkpoints
 * stored for the first cross-attention layer, which HF's `T5ForConditionalGeneration` lists in
 * `_keys_to_ignore_on_load_unexpected` (the original t5-base checkpoint has it).
 */
export const T5_IGNORED_TENSORS: readonly string[] = [
  'encoder.embed_tokens.weight',
  'decoder.embed_tokens.weight',
  'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight',
];

function attention(prefix: string, c: T5Config, relativeBias: boolean): T5ParameterSpec[] {
  const out: T5ParameterSpec[] = [
    { name: `${prefix}.q.weight`, shape: [c.innerDim, c.dModel] },
    { name: `${prefix}.k.weight`, shape: [c.innerDim, c.dModel] },
    { name: `${prefix}.v.weight`, shape: [c.innerDim, c.dModel] },
    { name: `${prefix}.o.weight`, shape: [c.dModel, c.innerDim] },
  ];
  if (relativeBias) out.push({ name: `${prefix}.relative_attention_bias.weight`, shape: [c.relativeAttentionNumBuckets, c.numHeads] });
  return out;
}

function feedForward(prefix: string, c: T5Config): T5ParameterSpec[] {
  const wi = c.isGatedAct
    ? [
        { name: `${prefix}.DenseReluDense.wi_0.weight`, shape: [c.dFf, c.dModel] },
        { name: `${prefix}.DenseReluDense.wi_1.weight`, shape: [c.dFf, c.dModel] },
      ]
    : [{ name: `${prefix}.DenseReluDense.wi.weight`, shape: [c.dFf, c.dModel] }];
  return [...wi, { name: `${prefix}.DenseReluDense.wo.weight`, shape: [c.dModel, c.dFf] }, { name: `${prefix}.layer_norm.weight`, shape: [c.dModel] }];
}

/**
 * Every parameter of `T5ForConditionalGeneration` for `config`, in HF's `named_parameters()` order
 * (tied models have no `lm_head.weight`: the head is `shared.weight`).
 */
export function t5ParameterSpecs(config: T5Config): T5ParameterSpec[] {
  const c = config;
  const specs: T5ParameterSpec[] = [{ name: 'shared.weight', shape: [c.vocabSize, c.dModel] }];
  for (const [stack, n] of [['encoder', c.numLayers], ['decoder', c.numDecoderLayers]] as const) {
    for (let i = 0; i < n; i++) {
      const b = `${stack}.block.${i}`;
      specs.push(...attention(`${b}.layer.0.SelfAttention`, c, i === 0));
      specs.push({ name: `${b}.layer.0.layer_norm.weight`, shape: [c.dModel] });
      let ff = 1;
      if (stack === 'decoder') {
        specs.push(...attention(`${b}.layer.1.EncDecAttention`, c, false));
        specs.push({ name: `${b}.layer.1.layer_norm.weight`, shape: [c.dModel] });
        ff = 2;
      }
      specs.push(...feedForward(`${b}.layer.${ff}`, c));
    }
    specs.push({ name: `${stack}.final_layer_norm.weight`, shape: [c.dModel] });
  }
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.dModel] });
  return specs;
}
