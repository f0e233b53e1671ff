/**
 * The PEFT prompt-tuning table for seq2seq T5 and its adapter folder format
 * (`adapter_config.json` + `adapter_model.safetensors` with one tensor `prompt_embeddings`).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { SafetensorsError, SafetensorsFile, type Tensor, keep, narrow, tensor, writeSafetensors } from '@tpvjs/tensor';
import { isHubError, resolveModelFile, type ResolveOptions } from '../hub/index.js';
import type { SoftPromptLike } from '../model/index.js';
import { type PromptTuningConfig, parsePromptTuningConfig, promptTuningConfig, serializePromptTuningConfig } from './config.js';
import { PeftError } from './errors.js';

/** File names of a PEFT adapter folder. */
export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
/** Safetensors file of a PEFT adapter. */
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';
/** The one tensor a prompt-tuning adapter holds. */
export const PROMPT_EMBEDDINGS_KEY = 'prompt_embeddings';

/** What the soft prompt needs to know about a model to check it fits (a `T5ForConditionalGeneration` is one). */
export interface PromptModel {
  /** The model's config; `dModel` must equal the prompt's width. */
  readonly config: { readonly dModel: number; readonly numLayers: number; readonly numHeads: number; readonly vocabSize: number };
  /** The shared token embedding `[vocab, d_model]`. */
  readonly shared: { readonly weight: Tensor };
}

/** Options of {@link SoftPrompt.fromPeft}. */
export interface FromPeftOptions extends ResolveOptions {
  /** Check that the prompt fits this model (`token_dim` = `d_model`). */
  model?: PromptModel;
  /** Make the table trainable (default false). */
  requiresGrad?: boolean;
}

/**
 * Options of {@link SoftPrompt.savePeft}: values for `adapter_config.json` (each overrides what the
 * prompt carries) and whether an existing folder may be written into.
 */
export interface SavePeftOptions {
  /** Write into a folder that exists and is not empty, replacing the two adapter files (default false). */
  overwrite?: boolean;
  /** `base_model_name_or_path`, e.g. `t5-base`. */
  baseModelNameOrPath?: string | null;
  /** `tokenizer_name_or_path`. */
  tokenizerNameOrPath?: string | null;
  /** `num_attention_heads` of the base model. */
  numAttentionHeads?: number | null;
  /** `num_layers` of the base model. */
  numLayers?: number | null;
  /** `prompt_tuning_init` (`RANDOM` / `TEXT`). */
  promptTuningInit?: string;
  /** `prompt_tuning_init_text`. */
  promptTuningInitText?: string | null;
  /** `revision` of the base model. */
  revision?: string | null;
  /** `inference_mode`; default true, which PEFT's `save_pretrained` forces. */
  inferenceMode?: boolean;
  /** Extra keys to write (e.g. TPV's `origin_prompts`), merged over those the prompt carries. */
  extra?: Record<string, unknown>;
}

/**
 * A prompt-tuning table `[numTransformerSubmodules · numVirtualTokens, tokenDim]` (PEFT's
 * `PromptEmbedding` for `SEQ_2_SEQ_LM`). Only rows `[0, numVirtualTokens)` are used: they go in
 * front of the encoder input embeddings; the remaining rows never affect outputs, so their
 * gradient is exactly zero, as in PEFT.
 */
export class SoftPrompt implements SoftPromptLike {
  /** The whole table; a leaf that may require grad. */
  readonly table: Tensor;
  /** Virtual tokens per submodule (the encoder prefix length). */
  readonly numVirtualTokens: number;
  /** Table rows per virtual token (2 for seq2seq). */
  readonly numTransformerSubmodules: number;
  /** Row width (= the model's `d_model`). */
  readonly tokenDim: number;
  /** Adapter settings carried for saving (init mode, base model, extra keys). */
  readonly config: PromptTuningConfig;

  /**
   * Wraps a table tensor (the prompt takes ownership and keeps it out of `tidy` scopes).
   * @throws {@link PeftError} `SHAPE_MISMATCH` if the table is not `[submodules · n, d]`
   */
  constructor(table: Tensor, options: { numVirtualTokens: number; numTransformerSubmodules?: number; config?: Partial<Omit<PromptTuningConfig, 'peftType' | 'taskType'>> }) {
    const n = options.numVirtualTokens;
    const s = options.numTransformerSubmodules ?? options.config?.numTransformerSubmodules ?? 2;
    if (!Number.isSafeInteger(n) || n <= 0) throw new PeftError('BAD_ARGUMENT', `numVirtualTokens must be a positive integer, got ${n}`);
    if (!Number.isSafeInteger(s) || s <= 0) throw new PeftError('BAD_ARGUMENT', `numTransformerSubmodules must be a positive integer, got ${s}`);
    if (table.rank !== 2 || table.shape[0] !== s * n) {
      throw new PeftError('SHAPE_MISMATCH', `the prompt table must be [${s} × ${n} = ${s * n}, token_dim], got [${table.shape.join(', ')}]`);
    }
    if (table.dtype !== 'float32') throw new PeftError('BAD_ARGUMENT', `the prompt table must be float32, got ${table.dtype}`);
    this.table = keep(table);
    this.numVirtualTokens = n;
    this.numTransformerSubmodules = s;
    this.tokenDim = table.shape[1]!;
    this.config = promptTuningConfig({ ...options.config, numVirtualTokens: n, tokenDim: this.tokenDim, numTransformerSubmodules: s });
  }

  /**
   * A prompt from host values, row-major `[submodules · n, d]`.
   * @throws {@link PeftError} `SHAPE_MISMATCH` when the sizes disagree
   */
  static fromArray(data: Float32Array | readonly (readonly number[])[], options: { numVirtualTokens: number; numTransformerSubmodules?: number; tokenDim?: number; requiresGrad?: boolean }): SoftPrompt {
    const s = options.numTransformerSubmodules ?? 2;
    const rows = s * options.numVirtualTokens;
    let flat: Float32Array;
    let d: number;
    if (data instanceof Float32Array) {
      d = options.tokenDim ?? data.length / rows;
      flat = data;
    } else {
      d = data[0]?.length ?? 0;
      if (data.some((r) => r.length !== d)) throw new PeftError('SHAPE_MISMATCH', 'prompt rows have different lengths');
      flat = Float32Array.from(data.flat());
    }
    if (!Number.isSafeInteger(d) || d <= 0 || flat.length !== rows * d) {
      throw new PeftError('SHAPE_MISMATCH', `${flat.length} values do not make a [${rows}, token_dim] table`);
    }
    const t = tensor(flat, { shape: [rows, d] });
    if (options.requiresGrad) t.requiresGrad_(true);
    return new SoftPrompt(t, { numVirtualTokens: options.numVirtualTokens, numTransformerSubmodules: s });
  }

  /**
   * Loads a PEFT prompt-tuning adapter (a local folder or a Hub id). Checks are strict, like PEFT's
   * `load_state_dict(strict=True)`: the file must hold exactly `prompt_embeddings` with shape
   * `[num_transformer_submodules · num_virtual_tokens, token_dim]`; F16/BF16 tables are widened to
   * float32 exactly.
   *
   * @throws {@link PeftError} `MISSING_FILE`, `BAD_CONFIG`, `UNSUPPORTED`, `SHAPE_MISMATCH`,
   *   `BAD_FILE`, or `MODEL_MISMATCH` when `options.model` has another width
   */
  static async fromPeft(dirOrHubId: string, options: FromPeftOptions = {}): Promise<SoftPrompt> {
    const { model, requiresGrad, ...resolve } = options;
    const configPath = await resolveAdapterFile(dirOrHubId, ADAPTER_CONFIG_NAME, resolve);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    } catch (cause) {
      throw new PeftError('BAD_CONFIG', `cannot read ${ADAPTER_CONFIG_NAME}: ${(cause as Error).message}`, { path: dirOrHubId, cause });
    }
    const config = parsePromptTuningConfig(json, dirOrHubId);
    if (model && model.config.dModel !== config.tokenDim) {
      throw new PeftError('MODEL_MISMATCH', `token_dim ${config.tokenDim} does not match the model's d_model ${model.config.dModel}`, { path: dirOrHubId });
    }
    let weightsPath: string;
    try {
      weightsPath = await resolveAdapterFile(dirOrHubId, ADAPTER_WEIGHTS_NAME, resolve);
    } catch (err) {
      if (err instanceof PeftError && err.code === 'MISSING_FILE' && hasLocalFile(dirOrHubId, 'adapter_model.bin')) {
        throw new PeftError('UNSUPPORTED', 'the adapter is a pickled adapter_model.bin; only adapter_model.safetensors is read ' +
          '(re-save it with PEFT\'s save_pretrained(safe_serialization=True))', { path: dirOrHubId });
      }
      throw err;
    }
    const rows = config.numTransformerSubmodules * config.numVirtualTokens;
    let data: Float32Array;
    let f: SafetensorsFile | undefined;
    try {
      f = SafetensorsFile.open(weightsPath);
      const names = f.names();
      if (!f.has(PROMPT_EMBEDDINGS_KEY)) throw new PeftError('BAD_FILE', `${ADAPTER_WEIGHTS_NAME} has no '${PROMPT_EMBEDDINGS_KEY}' tensor (it has: ${names.join(', ') || 'none'})`, { path: dirOrHubId });
      const extra = names.filter((n) => n !== PROMPT_EMBEDDINGS_KEY);
      if (extra.length > 0) throw new PeftError('BAD_FILE', `${ADAPTER_WEIGHTS_NAME} holds unexpected tensors: ${extra.join(', ')}`, { path: dirOrHubId });
      const e = f.entry(PROMPT_EMBEDDINGS_KEY);
      if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) throw new PeftError('BAD_FILE', `'${PROMPT_EMBEDDINGS_KEY}' is ${e.dtype}, not a float tensor`, { path: dirOrHubId });
      if (e.shape.length !== 2 || e.shape[0] !== rows || e.shape[1] !== config.tokenDim) {
        throw new PeftError('SHAPE_MISMATCH', `'${PROMPT_EMBEDDINGS_KEY}' has shape [${e.shape.join(', ')}], the config needs ` +
          `[${config.numTransformerSubmodules} × ${config.numVirtualTokens} = ${rows}, ${config.tokenDim}]`, { path: dirOrHubId });
      }
      data = f.readFloat32(PROMPT_EMBEDDINGS_KEY).data;
    } catch (err) {
      if (err instanceof SafetensorsError) throw new PeftError('BAD_FILE', err.message, { path: dirOrHubId, cause: err });
      throw err;
    } finally {
      f?.close();
    }
    const t = tensor(data, { shape: [rows, config.tokenDim] });
    if (requiresGrad) t.requiresGrad_(true);
    return new SoftPrompt(t, { numVirtualTokens: config.numVirtualTokens, numTransformerSubmodules: config.numTransformerSubmodules, config });
  }

  /** Whether the table is trainable. */
  get requiresGrad(): boolean {
    return this.table.requiresGrad;
  }

  /** Makes the table trainable (or frozen). */
  requiresGrad_(flag = true): this {
    this.table.requiresGrad_(flag);
    return this;
  }

  /** The table, for an optimiser. */
  parameters(): Tensor[] {
    return [this.table];
  }

  /** Rows `[0, numVirtualTokens)`: the encoder prefix (a slice, so gradients reach the table). */
  encoderPrefix(): Tensor {
    return narrow(this.table, 0, 0, this.numVirtualTokens);
  }

  /**
   * Checks that the prompt fits `model`.
   * @throws {@link PeftError} `MODEL_MISMATCH` when `token_dim` ≠ `d_model`
   */
  checkModel(model: PromptModel): void {
    if (model.config.dModel !== this.tokenDim) {
      throw new PeftError('MODEL_MISMATCH', `the prompt's token_dim ${this.tokenDim} does not match the model's d_model ${model.config.dModel}`);
    }
  }

  /** The table's values, row-major. */
  async data(): Promise<Float32Array> {
    return Float32Array.from(await this.table.data());
  }

  /**
   * Writes a PEFT adapter folder: `adapter_model.safetensors` (one F32 tensor `prompt_embeddings`,
   * metadata `{"format": "pt"}`) and `adapter_config.json` (PEFT v0.9 keys, sorted, indent 2).
   * A new folder is built under a temporary name and renamed into place, so it appears complete or
   * not at all; an existing non-empty folder is refused unless `overwrite` is set, in which case
   * each file is replaced atomically.
   *
   * @throws {@link PeftError} `EXISTS` for a non-empty folder without `overwrite`, `IO` on write failure
   */
  async savePeft(dir: string, options: SavePeftOptions = {}): Promise<void> {
    const c = this.config;
    const out: PromptTuningConfig = {
      ...c,
      baseModelNameOrPath: options.baseModelNameOrPath !== undefined ? options.baseModelNameOrPath : c.baseModelNameOrPath,
      tokenizerNameOrPath: options.tokenizerNameOrPath !== undefined ? options.tokenizerNameOrPath : c.tokenizerNameOrPath,
      numAttentionHeads: options.numAttentionHeads !== undefined ? options.numAttentionHeads : c.numAttentionHeads,
      numLayers: options.numLayers !== undefined ? options.numLayers : c.numLayers,
      promptTuningInit: options.promptTuningInit ?? c.promptTuningInit,
      promptTuningInitText: options.promptTuningInitText !== undefined ? options.promptTuningInitText : c.promptTuningInitText,
      revision: options.revision !== undefined ? options.revision : c.revision,
      inferenceMode: options.inferenceMode ?? true,
      extra: { ...c.extra, ...options.extra },
    };
    const configText = serializePromptTuningConfig(out);
    const values = Float32Array.from(await this.table.data());
    const tensors = { [PROMPT_EMBEDDINGS_KEY]: { dtype: 'F32' as const, shape: [...this.table.shape], data: values } };

    const writeInto = (folder: string) => {
      writeSafetensors(nodePath.join(folder, ADAPTER_WEIGHTS_NAME), tensors, { format: 'pt' });
      writeFileAtomic(nodePath.join(folder, ADAPTER_CONFIG_NAME), configText);
    };
    try {
      const existing = listDir(dir);
      if (existing !== null) {
        if (existing.length > 0 && !options.overwrite) {
          throw new PeftError('EXISTS', `the folder exists and is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''}); pass { overwrite: true } to replace the adapter files`, { path: dir });
        }
        writeInto(dir);
        return;
      }
      fs.mkdirSync(nodePath.dirname(nodePath.resolve(dir)), { recursive: true });
      const tmp = `${nodePath.resolve(dir)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
      fs.mkdirSync(tmp);
      try {
        writeInto(tmp);
        fs.renameSync(tmp, dir);
      } catch (err) {
        fs.rmSync(tmp, { recursive: true, force: true });
        // Someone created the folder meanwhile: same answer as if it had existed before.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new PeftError('EXISTS', 'the folder appeared while saving; not overwritten', { path: dir, cause: err });
        throw err;
      }
    } catch (err) {
      if (err instanceof PeftError) throw err;
      throw new PeftError('IO', `cannot save: ${(err as Error).message}`, { path: dir, cause: err });
    }
  }

  /** Frees the table. */
  dispose(): void {
    this.table.dispose();
  }
}

/** Entries of `dir`, or null when it does not exist. */
function listDir(dir: string): string[] | null {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Temp file + fsync + rename, so a reader never sees half a config. */
function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

async function resolveAdapterFile(dirOrHubId: string, filename: string, options: ResolveOptions): Promise<string> {
  try {
    return await resolveModelFile(dirOrHubId, filename, options);
  } catch (err) {
    if (isHubError(err, 'NOT_FOUND') || isHubError(err, 'LOCAL_FILE_MISSING')) {
      throw new PeftError('MISSING_FILE', `no ${filename}`, { path: dirOrHubId, cause: err });
    }
    throw err;
  }
}

/** Only looked up locally: probing the Hub for a pickle would download it. */
function hasLocalFile(dir: string, filename: string): boolean {
  return fs.existsSync(nodePath.join(dir, filename));
}
