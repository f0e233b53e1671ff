/**
 * Parsing of Hugging Face T5 `config.json` files, with the defaults of `transformers`'
 * `configuration_t5.py` (`T5Config.__init__`) for every key that may be absent.
 */
import { readFileSync } from 'node:fs';
import { T5ConfigError } from './errors.js';

/**
 * Dense activations a T5 feed-forward block can use, spelled as in HF's `ACT2FN`.
 * `gelu_new`, `gelu_fast` and `gelu_pytorch_tanh` are all the tanh approximation of GELU;
 * `gelu` is the exact (erf) one; `swish` is another name for `silu`.
 */
export type T5Activation = 'relu' | 'gelu' | 'gelu_new' | 'gelu_fast' | 'gelu_pytorch_tanh' | 'silu' | 'swish';

const ACTIVATIONS: readonly T5Activation[] = ['relu', 'gelu', 'gelu_new', 'gelu_fast', 'gelu_pytorch_tanh', 'silu', 'swish'];

/** Model types whose checkpoints have exactly the T5 architecture implemented here. */
const SUPPORTED_MODEL_TYPES = ['t5', 'mt5'];

/**
 * A validated T5 configuration. Field names are the camelCase of the HF keys; every field is
 * filled (HF defaults where the file has no value), so code never re-applies defaults.
 */
export interface T5Config {
  /** `vocab_size`: rows of the shared embedding (default 32128). */
  readonly vocabSize: number;
  /** `d_model`: width of the residual stream (required). */
  readonly dModel: number;
  /** `d_kv`: width of one attention head (default 64). */
  readonly dKv: number;
  /** `d_ff`: inner width of the feed-forward block (default 2048). */
  readonly dFf: number;
  /** `num_layers`: encoder blocks (default 6). */
  readonly numLayers: number;
  /** `num_decoder_layers`: decoder blocks (default: `num_layers`). */
  readonly numDecoderLayers: number;
  /** `num_heads`: attention heads (default 8). */
  readonly numHeads: number;
  /** `num_heads · d_kv`: width of the q/k/v projections; need not equal `d_model` (T5 v1.1). */
  readonly innerDim: number;
  /** `relative_attention_num_buckets` (default 32). */
  readonly relativeAttentionNumBuckets: number;
  /** `relative_attention_max_distance` (default 128). */
  readonly relativeAttentionMaxDistance: number;
  /** `dropout_rate`, used everywhere HF applies `nn.Dropout` (default 0.1). */
  readonly dropoutRate: number;
  /** `layer_norm_epsilon` of the RMS norms (default 1e-6). */
  readonly layerNormEpsilon: number;
  /** `initializer_factor`, used only by {@link T5Config} consumers that initialise weights (default 1). */
  readonly initializerFactor: number;
  /** `feed_forward_proj` as written (default `"relu"`). */
  readonly feedForwardProj: string;
  /** Activation of the feed-forward block (`"gated-gelu"` means `gelu_new`, as in HF). */
  readonly denseActFn: T5Activation;
  /** Whether the feed-forward block is gated (`wi_0`, `wi_1`) rather than plain (`wi`). */
  readonly isGatedAct: boolean;
  /** `tie_word_embeddings` (default true): LM head = shared embedding, with the d_model^-0.5 rescale. */
  readonly tieWordEmbeddings: boolean;
  /** `pad_token_id` (default 0). */
  readonly padTokenId: number;
  /** `eos_token_id` (default 1); a list where the config gives several. */
  readonly eosTokenId: number | readonly number[];
  /** `decoder_start_token_id` (default: `pad_token_id`, which is what every T5 checkpoint uses). */
  readonly decoderStartTokenId: number;
  /** `model_type` (default `"t5"`). */
  readonly modelType: string;
  /** The JSON object the config was parsed from, untouched (for round trips and unknown keys). */
  readonly raw: Readonly<Record<string, unknown>>;
}

interface Ctx {
  readonly obj: Record<string, unknown>;
  readonly source: string | undefined;
}

function present(ctx: Ctx, key: string): boolean {
  return Object.hasOwn(ctx.obj, key) && ctx.obj[key] !== null && ctx.obj[key] !== undefined;
}

function fail(ctx: Ctx, code: ConstructorParameters<typeof T5ConfigError>[0], key: string | undefined, message: string): never {
  throw new T5ConfigError(code, message, { ...(key !== undefined ? { key } : {}), ...(ctx.source !== undefined ? { source: ctx.source } : {}) });
}

/** A positive (or, with `min: 0`, non-negative) integer, defaulting when absent. */
function int(ctx: Ctx, key: string, def: number | undefined, min = 1): number {
  if (!present(ctx, key)) {
    if (def === undefined) fail(ctx, 'MISSING_KEY', key, `'${key}' is missing and has no default`);
    return def;
  }
  const v = ctx.obj[key];
  if (typeof v !== 'number') fail(ctx, 'BAD_TYPE', key, `'${key}' must be a number, got ${JSON.stringify(v)}`);
  if (!Number.isSafeInteger(v)) fail(ctx, 'BAD_VALUE', key, `'${key}' must be an integer, got ${v}`);
  if (v < min) fail(ctx, 'BAD_VALUE', key, `'${key}' must be at least ${min}, got ${v}`);
  return v;
}

function num(ctx: Ctx, key: string, def: number): number {
  if (!present(ctx, key)) return def;
  const v = ctx.obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(ctx, 'BAD_TYPE', key, `'${key}' must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(ctx: Ctx, key: string, def: boolean): boolean {
  if (!present(ctx, key)) return def;
  const v = ctx.obj[key];
  if (typeof v !== 'boolean') fail(ctx, 'BAD_TYPE', key, `'${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function str(ctx: Ctx, key: string, def: string): string {
  if (!present(ctx, key)) return def;
  const v = ctx.obj[key];
  if (typeof v !== 'string') fail(ctx, 'BAD_TYPE', key, `'${key}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(ctx: Ctx, key: string, def: number): number | number[] {
  if (!present(ctx, key)) return def;
  const v = ctx.obj[key];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) return v as number[];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return fail(ctx, 'BAD_VALUE', key, `'${key}' must be a non-negative integer token id (or a list of them), got ${JSON.stringify(v)}`);
}

function isActivation(s: string): s is T5Activation {
  return (ACTIVATIONS as readonly string[]).includes(s);
}

/**
 * Builds a {@link T5Config} from the parsed JSON of a HF `config.json`.
 *
 * Missing keys take HF's defaults (`num_decoder_layers = num_layers`, `tie_word_embeddings = true`,
 * `feed_forward_proj = "relu"`, `layer_norm_epsilon = 1e-6`, `relative_attention_max_distance = 128`,
 * ...), except `d_model`, whose HF default (512) would silently build the wrong model for any
 * checkpoint that is not t5-small: a config without it is rejected.
 *
 * @param json - the parsed `config.json`
 * @param source - file name for error messages
 * @throws {@link T5ConfigError} for a missing `d_model`, wrong types, out-of-range or contradictory
 *   values and unknown activations
 */
export function parseT5Config(json: unknown, source?: string): T5Config {
  const ctx: Ctx = { obj: json as Record<string, unknown>, source };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(ctx, 'NOT_AN_OBJECT', undefined, `expected a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);
  }

  const modelType = str(ctx, 'model_type', 't5');
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    fail(ctx, 'UNSUPPORTED_MODEL', 'model_type', `model_type '${modelType}' is not supported (expected one of ${SUPPORTED_MODEL_TYPES.join(', ')}); ` +
      'variants such as umt5 or longt5 have a different architecture');
  }

  if (!present(ctx, 'd_model')) {
    fail(ctx, 'MISSING_KEY', 'd_model', "'d_model' is missing; without it the model width is unknown (is this a T5 config.json?)");
  }
  const dModel = int(ctx, 'd_model', undefined);
  const vocabSize = int(ctx, 'vocab_size', 32128);
  const dKv = int(ctx, 'd_kv', 64);
  const dFf = int(ctx, 'd_ff', 2048);
  const numLayers = int(ctx, 'num_layers', 6);
  const numDecoderLayers = int(ctx, 'num_decoder_layers', numLayers);
  const numHeads = int(ctx, 'num_heads', 8);
  const innerDim = numHeads * dKv;
  if (!Number.isSafeInteger(innerDim) || innerDim > 1 << 24) {
    fail(ctx, 'BAD_VALUE', 'num_heads', `num_heads (${numHeads}) × d_kv (${dKv}) = ${innerDim} is not a usable attention width`);
  }
  // A head wider than the model or more heads than model dimensions is never a real checkpoint;
  // these catch configs whose d_kv/num_heads were swapped or mistyped.
  if (dKv > 16 * dModel) fail(ctx, 'BAD_VALUE', 'd_kv', `d_kv (${dKv}) is far wider than d_model (${dModel})`);
  if (numHeads > 16 * dModel) fail(ctx, 'BAD_VALUE', 'num_heads', `num_heads (${numHeads}) exceeds 16 × d_model (${dModel})`);

  const numBuckets = int(ctx, 'relative_attention_num_buckets', 32);
  const maxDistance = int(ctx, 'relative_attention_max_distance', 128);
  // The bucket function needs at least one exact bucket per direction (num_buckets/4 ≥ 1 when
  // bidirectional) and a log range above the exact range, or it divides by log(≤ 1).
  if (numBuckets < 4) fail(ctx, 'BAD_VALUE', 'relative_attention_num_buckets', `relative_attention_num_buckets must be at least 4, got ${numBuckets}`);
  if (maxDistance <= numBuckets / 2) {
    fail(ctx, 'BAD_VALUE', 'relative_attention_max_distance',
      `relative_attention_max_distance (${maxDistance}) must exceed half of relative_attention_num_buckets (${numBuckets})`);
  }

  const dropoutRate = num(ctx, 'dropout_rate', 0.1);
  if (dropoutRate < 0 || dropoutRate >= 1) fail(ctx, 'BAD_VALUE', 'dropout_rate', `dropout_rate must be in [0, 1), got ${dropoutRate}`);
  const layerNormEpsilon = num(ctx, 'layer_norm_epsilon', 1e-6);
  if (!(layerNormEpsilon > 0)) fail(ctx, 'BAD_VALUE', 'layer_norm_epsilon', `layer_norm_epsilon must be positive, got ${layerNormEpsilon}`);
  const initializerFactor = num(ctx, 'initializer_factor', 1.0);

  // T5Config.__init__: "gated-X" means gated with activation X; anything else with a dash is invalid.
  const feedForwardProj = str(ctx, 'feed_forward_proj', 'relu');
  const parts = feedForwardProj.split('-');
  if ((parts.length > 1 && parts[0] !== 'gated') || parts.length > 2) {
    fail(ctx, 'BAD_VALUE', 'feed_forward_proj',
      `feed_forward_proj '${feedForwardProj}' is not of the form 'gated-{ACT_FN}' or '{ACT_FN}' (e.g. 'gated-gelu' or 'relu')`);
  }
  const isGatedAct = parts[0] === 'gated';
  // Backwards compatibility in HF: "gated-gelu" means the tanh GELU (gelu_new), not the erf one.
  const derivedAct = feedForwardProj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
  if (!isActivation(derivedAct)) {
    fail(ctx, 'UNKNOWN_ACTIVATION', 'feed_forward_proj', `unknown activation '${derivedAct}' in feed_forward_proj '${feedForwardProj}' (known: ${ACTIVATIONS.join(', ')})`);
  }
  // HF writes dense_act_fn / is_gated_act next to feed_forward_proj; they are derived values, so a
  // disagreement means the file was edited inconsistently and no single reading is safe.
  if (present(ctx, 'dense_act_fn')) {
    const given = str(ctx, 'dense_act_fn', derivedAct);
    if (!isActivation(given)) fail(ctx, 'UNKNOWN_ACTIVATION', 'dense_act_fn', `unknown activation '${given}' (known: ${ACTIVATIONS.join(', ')})`);
    if (given !== derivedAct) {
      fail(ctx, 'CONTRADICTION', 'dense_act_fn', `dense_act_fn '${given}' contradicts feed_forward_proj '${feedForwardProj}' (which means '${derivedAct}')`);
    }
  }
  if (present(ctx, 'is_gated_act') && bool(ctx, 'is_gated_act', isGatedAct) !== isGatedAct) {
    fail(ctx, 'CONTRADICTION', 'is_gated_act', `is_gated_act ${String(ctx.obj['is_gated_act'])} contradicts feed_forward_proj '${feedForwardProj}'`);
  }

  const tieWordEmbeddings = bool(ctx, 'tie_word_embeddings', true);
  const padTokenId = tokenIds(ctx, 'pad_token_id', 0);
  if (typeof padTokenId !== 'number') fail(ctx, 'BAD_VALUE', 'pad_token_id', 'pad_token_id must be a single token id');
  const eosTokenId = tokenIds(ctx, 'eos_token_id', 1);
  const decoderStartTokenId = tokenIds(ctx, 'decoder_start_token_id', padTokenId);
  if (typeof decoderStartTokenId !== 'number') fail(ctx, 'BAD_VALUE', 'decoder_start_token_id', 'decoder_start_token_id must be a single token id');
  for (const [key, id] of [['pad_token_id', padTokenId], ['decoder_start_token_id', decoderStartTokenId]] as const) {
    if (id >= vocabSize) fail(ctx, 'BAD_VALUE', key, `${key} ${id} is outside the vocabulary (vocab_size ${vocabSize})`);
  }
  for (const id of Array.isArray(eosTokenId) ? eosTokenId : [eosTokenId]) {
    if (id >= vocabSize) fail(ctx, 'BAD_VALUE', 'eos_token_id', `eos_token_id ${id} is outside the vocabulary (vocab_size ${vocabSize})`);
  }

  return Object.freeze({
    vocabSize,
    dModel,
    dKv,
    dFf,
    numLayers,
    numDecoderLayers,
    numHeads,
    innerDim,
    relativeAttentionNumBuckets: numBuckets,
    relativeAttentionMaxDistance: maxDistance,
    dropoutRate,
    layerNormEpsilon,
    initializerFactor,
    feedForwardProj,
    denseActFn: derivedAct,
    isGatedAct,
    tieWordEmbeddings,
    padTokenId,
    eosTokenId: Array.isArray(eosTokenId) ? Object.freeze([...eosTokenId]) : eosTokenId,
    decoderStartTokenId,
    modelType,
    raw: Object.freeze({ ...(json as Record<string, unknown>) }),
  });
}

/**
 * Reads and parses a `config.json` file.
 * @throws {@link T5ConfigError} `IO` when unreadable, `NOT_AN_OBJECT` when not JSON, else as {@link parseT5Config}
 */
export function loadT5Config(path: string): T5Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new T5ConfigError('IO', `cannot read: ${(cause as Error).message}`, { source: path, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new T5ConfigError('NOT_AN_OBJECT', `not valid JSON: ${(cause as Error).message}`, { source: path, cause });
  }
  return parseT5Config(json, path);
}

/**
 * Converts a config back to HF's snake_case keys (the unknown keys of `raw` are kept), e.g. to
 * write a `config.json` next to saved weights.
 */
export function t5ConfigToJson(config: T5Config): Record<string, unknown> {
  return {
    ...config.raw,
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    d_model: config.dModel,
    d_kv: config.dKv,
    d_ff: config.dFf,
    num_layers: config.numLayers,
    num_decoder_layers: config.numDecoderLayers,
    num_heads: config.numHeads,
    relative_attention_num_buckets: config.relativeAttentionNumBuckets,
    relative_attention_max_distance: config.relativeAttentionMaxDistance,
    dropout_rate: config.dropoutRate,
    layer_norm_epsilon: config.layerNormEpsilon,
    initializer_factor: config.initializerFactor,
    feed_forward_proj: config.feedForwardProj,
    dense_act_fn: config.denseActFn,
    is_gated_act: config.isGatedAct,
    tie_word_embeddings: config.tieWordEmbeddings,
    pad_token_id: config.padTokenId,
    eos_token_id: config.eosTokenId,
    decoder_start_token_id: config.decoderStartTokenId,
  };
}
