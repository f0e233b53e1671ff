/**
 * PEFT's `PromptTuningConfig` for seq2seq T5, read from and written to `adapter_config.json`
 * with the key set of PEFT v0.9.0 (the version the Task Prompt Vectors code pins).
 */
import { PeftError } from './errors.js';
import { pythonJsonDumps } from './python-json.js';

/** The prompt-tuning settings of one adapter, camelCase of PEFT's keys. */
export interface PromptTuningConfig {
  /** Always `PROMPT_TUNING`. */
  readonly peftType: 'PROMPT_TUNING';
  /** Always `SEQ_2_SEQ_LM`. */
  readonly taskType: 'SEQ_2_SEQ_LM';
  /** Virtual tokens per transformer submodule (the encoder prefix length). */
  readonly numVirtualTokens: number;
  /** Width of each row (= the model's `d_model`). */
  readonly tokenDim: number;
  /** Table rows per virtual token: 2 for seq2seq (encoder and decoder halves; only the first is used). */
  readonly numTransformerSubmodules: number;
  /** `num_attention_heads` of the base model (informational in PEFT). */
  readonly numAttentionHeads: number | null;
  /** `num_layers` of the base model (informational in PEFT). */
  readonly numLayers: number | null;
  /** `RANDOM` or `TEXT` (how the table was initialised). */
  readonly promptTuningInit: string;
  /** The init text for `TEXT`. */
  readonly promptTuningInitText: string | null;
  /** Tokenizer used for the init text. */
  readonly tokenizerNameOrPath: string | null;
  /** Tokenizer keyword arguments (PEFT ≥ 0.8). */
  readonly tokenizerKwargs: Readonly<Record<string, unknown>> | null;
  /** Base model the adapter was trained on (e.g. `t5-base`). */
  readonly baseModelNameOrPath: string | null;
  /** Revision of the base model. */
  readonly revision: string | null;
  /** PEFT sets this to true when saving. */
  readonly inferenceMode: boolean;
  /** `auto_mapping` (null for built-in models). */
  readonly autoMapping: unknown;
  /**
   * Every other key of the file (e.g. TPV's `origin_prompts` / `init_prompts`, newer PEFT's
   * `peft_version`), kept as read so that saving does not drop them.
   */
  readonly extra: Readonly<Record<string, unknown>>;
}

const KNOWN_KEYS = new Set([
  'peft_type', 'task_type', 'num_virtual_tokens', 'token_dim', 'num_transformer_submodules', 'num_attention_heads', 'num_layers',
  'prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_name_or_path', 'tokenizer_kwargs', 'base_model_name_or_path',
  'revision', 'inference_mode', 'auto_mapping',
]);

/**
 * Fills a config from the few values that matter; the rest take PEFT's defaults
 * (`RANDOM` init, no tokenizer, `inference_mode` false).
 */
export function promptTuningConfig(values: Partial<Omit<PromptTuningConfig, 'peftType' | 'taskType'>> & { numVirtualTokens: number; tokenDim: number }): PromptTuningConfig {
  return {
    peftType: 'PROMPT_TUNING',
    taskType: 'SEQ_2_SEQ_LM',
    numTransformerSubmodules: 2,
    numAttentionHeads: null,
    numLayers: null,
    promptTuningInit: 'RANDOM',
    promptTuningInitText: null,
    tokenizerNameOrPath: null,
    tokenizerKwargs: null,
    baseModelNameOrPath: null,
    revision: null,
    inferenceMode: false,
    autoMapping: null,
    extra: {},
    ...values,
  };
}

/**
 * Parses an `adapter_config.json` object, with PEFT's defaults (`num_transformer_submodules` = 2
 * for seq2seq when null or absent).
 * @throws {@link PeftError} `UNSUPPORTED` for other methods or tasks, `BAD_CONFIG` for bad values
 */
export function parsePromptTuningConfig(json: unknown, path?: string): PromptTuningConfig {
  const at = path !== undefined ? { path } : {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PeftError('BAD_CONFIG', 'adapter_config.json is not a JSON object', at);
  const o = json as Record<string, unknown>;
  if (o['peft_type'] !== 'PROMPT_TUNING') {
    throw new PeftError('UNSUPPORTED', `peft_type is ${JSON.stringify(o['peft_type'])}; only PROMPT_TUNING adapters are supported`, at);
  }
  if (o['task_type'] !== 'SEQ_2_SEQ_LM') {
    throw new PeftError('UNSUPPORTED', `task_type is ${JSON.stringify(o['task_type'])}; only SEQ_2_SEQ_LM (T5) prompts are supported, ` +
      'other tasks lay the table out differently', at);
  }
  const posInt = (key: string, def?: number): number => {
    const v = o[key];
    if ((v === undefined || v === null) && def !== undefined) return def;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new PeftError('BAD_CONFIG', `${key} must be a positive integer, got ${JSON.stringify(v)}`, at);
    return v;
  };
  const optInt = (key: string): number | null => (o[key] === undefined || o[key] === null ? null : posInt(key));
  const optStr = (key: string): string | null => {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw new PeftError('BAD_CONFIG', `${key} must be a string or null, got ${JSON.stringify(v)}`, at);
    return v;
  };
  const kwargs = o['tokenizer_kwargs'];
  if (kwargs !== undefined && kwargs !== null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) {
    throw new PeftError('BAD_CONFIG', 'tokenizer_kwargs must be an object or null', at);
  }
  const inference = o['inference_mode'];
  if (inference !== undefined && typeof inference !== 'boolean') throw new PeftError('BAD_CONFIG', 'inference_mode must be true or false', at);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!KNOWN_KEYS.has(k)) extra[k] = v;
  return {
    peftType: 'PROMPT_TUNING',
    taskType: 'SEQ_2_SEQ_LM',
    numVirtualTokens: posInt('num_virtual_tokens'),
    tokenDim: posInt('token_dim'),
    numTransformerSubmodules: posInt('num_transformer_submodules', 2),
    numAttentionHeads: optInt('num_attention_heads'),
    numLayers: optInt('num_layers'),
    promptTuningInit: optStr('prompt_tuning_init') ?? 'RANDOM',
    promptTuningInitText: optStr('prompt_tuning_init_text'),
    tokenizerNameOrPath: optStr('tokenizer_name_or_path'),
    tokenizerKwargs: (kwargs as Record<string, unknown> | null | undefined) ?? null,
    baseModelNameOrPath: optStr('base_model_name_or_path'),
    revision: optStr('revision'),
    inferenceMode: inference ?? false,
    autoMapping: o['auto_mapping'] ?? null,
    extra,
  };
}

/**
 * The `adapter_config.json` text PEFT v0.9.0 writes: the dataclass's keys (plus `extra`), sorted,
 * indented by 2, no trailing newline.
 */
export function serializePromptTuningConfig(c: PromptTuningConfig): string {
  return pythonJsonDumps({
    ...c.extra,
    auto_mapping: c.autoMapping ?? null,
    base_model_name_or_path: c.baseModelNameOrPath,
    inference_mode: c.inferenceMode,
    num_attention_heads: c.numAttentionHeads,
    num_layers: c.numLayers,
    num_transformer_submodules: c.numTransformerSubmodules,
    num_virtual_tokens: c.numVirtualTokens,
    peft_type: c.peftType,
    prompt_tuning_init: c.promptTuningInit,
    prompt_tuning_init_text: c.promptTuningInitText,
    revision: c.revision,
    task_type: c.taskType,
    token_dim: c.tokenDim,
    tokenizer_kwargs: c.tokenizerKwargs,
    tokenizer_name_or_path: c.tokenizerNameOrPath,
  });
}
