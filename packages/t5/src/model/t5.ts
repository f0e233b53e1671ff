/**
 * `T5ForConditionalGeneration`: a faithful port of HF's model of the same name (eval/train
 * semantics, tied-head rescale, label shifting, loss) plus greedy generation with a key/value cache
 * and PEFT-style soft prompts on the encoder side.
 */
import {
  type Generator,
  type Tensor,
  argmax,
  cast,
  cat,
  crossEntropy,
  embedding,
  expand,
  isGradEnabled,
  keep,
  linear,
  mul,
  narrow,
  ne,
  noGrad,
  ones,
  randn,
  reshape,
  tensor,
  tidy,
  unsqueeze,
} from '@tpvjs/tensor';
import { loadT5Config, type T5Config } from '../config/index.js';
import { resolveModelFile, type ResolveOptions } from '../hub/index.js';
import { loadT5Weights, openT5Checkpoint, t5ParameterSpecs } from '../weights/index.js';
import { T5InputError } from './errors.js';
import { type IdsInput, type MaskInput, IGNORE_INDEX, shiftRight, shiftRightArray, toIds, toMask } from './inputs.js';
import type { KeyValue } from './layers.js';
import { Embedding, Linear, Module, ParamTable, type RunState } from './module.js';
import { T5Stack, additiveKeyMask } from './stack.js';

/**
 * What the model needs from a soft prompt (implemented by `SoftPrompt` in `peft/`): the rows that
 * go in front of the encoder input, `[numVirtualTokens, d_model]`.
 */
export interface SoftPromptLike {
  /** Number of virtual tokens prepended to the encoder input. */
  readonly numVirtualTokens: number;
  /** The whole prompt table (only its `requiresGrad` is consulted here). */
  readonly table: Tensor;
  /** The encoder-side rows `[numVirtualTokens, tokenDim]`, differentiable w.r.t. the table. */
  encoderPrefix(): Tensor;
}

/** Encoder-side inputs shared by {@link T5ForConditionalGeneration.forward}, `encode` and `generate`. */
export interface T5EncoderInput {
  /** Encoder token ids `[B, L]` (nested arrays or an int32 tensor). Give this or `inputsEmbeds`. */
  inputIds?: IdsInput;
  /** 1 for tokens, 0 for padding, `[B, L]`; all ones when absent. */
  attentionMask?: MaskInput;
  /** Encoder input embeddings `[B, L, d_model]` instead of `inputIds`. */
  inputsEmbeds?: Tensor;
  /**
   * A PEFT prompt-tuning table: its first `numVirtualTokens` rows go in front of the encoder input
   * embeddings and the attention mask gets as many leading ones. The decoder is untouched.
   */
  softPrompt?: SoftPromptLike;
}

/** Arguments of {@link T5ForConditionalGeneration.forward}. */
export interface T5ForwardInput extends T5EncoderInput {
  /** Targets `[B, T]`; −100 marks positions the loss skips. Without `decoderInputIds` the decoder input is `shiftRight(labels)`. */
  labels?: IdsInput;
  /** Decoder input ids `[B, T]`; default `shiftRight(labels)`. */
  decoderInputIds?: IdsInput;
  /** 1/0 mask over decoder positions `[B, T]` (combined with the causal mask); all ones when absent, as in HF. */
  decoderAttentionMask?: MaskInput;
  /** Also return per-block residual streams (see {@link T5Output.encoderHiddenStates}). */
  outputHiddenStates?: boolean;
}

/** Result of {@link T5ForConditionalGeneration.forward}. */
export interface T5Output {
  /** `[B, T, vocab]`. */
  logits: Tensor;
  /** Mean cross-entropy over labels ≠ −100 (one mean over the batch), when labels were given. */
  loss?: Tensor;
  /** Encoder output after `final_layer_norm`, `[B, n + L, d_model]` (n = soft prompt length), pad positions included. */
  encoderLastHiddenState: Tensor;
  /** Decoder output after `final_layer_norm`, before the tied-head rescale, `[B, T, d_model]`. */
  decoderLastHiddenState: Tensor;
  /**
   * With `outputHiddenStates`: entry i is the residual stream entering encoder block i, the last
   * entry the last block's output before `final_layer_norm` (unlike HF's last entry).
   */
  encoderHiddenStates?: Tensor[];
  /** As {@link T5Output.encoderHiddenStates}, for the decoder. */
  decoderHiddenStates?: Tensor[];
}

/** Result of {@link T5ForConditionalGeneration.encode}. */
export interface T5EncoderOutput {
  /** `[B, n + L, d_model]`. */
  lastHiddenState: Tensor;
  /** The 0/1 float mask over encoder positions `[B, n + L]` (soft prompt included), or null for all ones. */
  attentionMask: Tensor | null;
  /** See {@link T5Output.encoderHiddenStates}. */
  hiddenStates?: Tensor[];
}

/** Arguments of {@link T5ForConditionalGeneration.generate}. */
export interface T5GenerateInput extends T5EncoderInput {
  /** Most tokens to generate after the start token (default 19: HF's `max_length` 20 counts the start token). */
  maxNewTokens?: number;
  /**
   * Token(s) that end a row; replaces the config's `eos_token_id` (so the old EOS becomes an
   * ordinary token). `null` disables stopping: rows run for `maxNewTokens`.
   */
  eosTokenId?: number | readonly number[] | null;
  /** Decode with a key/value cache (default true); false recomputes the decoder over the whole prefix each step. */
  useCache?: boolean;
  /**
   * Called after each step with the last-position logits `[B, vocab]`; the tensor is freed when the
   * callback returns. For inspection and tests.
   */
  onStep?: (info: { step: number; logits: Tensor }) => void;
}

/** Options of {@link T5ForConditionalGeneration.fromPretrained}. */
export interface T5FromPretrainedOptions extends ResolveOptions {
  /** Make every weight trainable (default false: frozen, so forward records no graph for the weights). */
  trainable?: boolean;
  /** Source of dropout masks in training mode (default: the engine's default generator). */
  generator?: Generator;
}

/** Options of {@link T5ForConditionalGeneration.fromConfig}. */
export interface T5FromConfigOptions {
  /** Generator for the random initialisation (default: the engine's default generator). */
  generator?: Generator;
  /** Make every weight trainable (default false). */
  trainable?: boolean;
}

/**
 * T5 encoder–decoder with a language-modelling head, HF's `T5ForConditionalGeneration` in float32.
 * Parameters have HF's state-dict names ({@link Module.namedParameters}). A model starts in eval
 * mode (as `from_pretrained` leaves it) with frozen weights.
 *
 * Memory: when no graph is needed (eval, or frozen weights and no trainable input), `forward`
 * frees its intermediates itself and only the outputs remain; when a graph is recorded, call it
 * inside `tidy` (the graph's intermediates must live until `backward`).
 */
export class T5ForConditionalGeneration extends Module {
  /** The validated config. */
  readonly config: T5Config;
  /** Token embedding shared by encoder and decoder (and the LM head when tied). */
  readonly shared: Embedding;
  /** The encoder stack. */
  readonly encoder: T5Stack;
  /** The decoder stack. */
  readonly decoder: T5Stack;
  /** The separate LM head, or null when the head is tied to `shared`. */
  readonly lm_head: Linear | null;
  readonly #state: RunState = { training: false, generator: null };
  #disposed = false;

  /**
   * Builds the model from parameters named like HF's state dict (as {@link loadT5Weights}
   * returns them). The model takes ownership of the tensors.
   */
  constructor(config: T5Config, params: ReadonlyMap<string, Tensor>, options: { generator?: Generator } = {}) {
    super();
    const table = new ParamTable(params);
    this.config = config;
    this.shared = this.registerModule('shared', new Embedding(table, 'shared', config.vocabSize, config.dModel));
    this.encoder = this.registerModule('encoder', new T5Stack(config, table, 'encoder', this.#state));
    this.decoder = this.registerModule('decoder', new T5Stack(config, table, 'decoder', this.#state));
    this.lm_head = config.tieWordEmbeddings ? null : this.registerModule('lm_head', new Linear(table, 'lm_head', config.vocabSize, config.dModel));
    this.#state.generator = options.generator ?? null;
    // Parameters outlive any tidy scope they were created in.
    for (const t of this.parameters()) keep(t);
  }

  /**
   * Loads a model from a local directory or a Hub id (`t5-base`, `google/flan-t5-base@rev`):
   * `config.json` plus `model.safetensors` or a sharded `model.safetensors.index.json`. F16/BF16
   * weights are widened exactly to float32. Tensors are read and uploaded one at a time.
   *
   * @throws `T5ConfigError` for a bad config, `T5WeightsError` for weights that do not match it,
   *   `HubError` when a file cannot be found or downloaded
   */
  static async fromPretrained(dirOrHubId: string, options: T5FromPretrainedOptions = {}): Promise<T5ForConditionalGeneration> {
    const { trainable, generator, ...resolve } = options;
    const config = loadT5Config(await resolveModelFile(dirOrHubId, 'config.json', resolve));
    const ckpt = await openT5Checkpoint(dirOrHubId, resolve);
    let params: Map<string, Tensor>;
    try {
      params = loadT5Weights(config, ckpt, { requiresGrad: trainable ?? false });
    } finally {
      ckpt.close();
    }
    return new T5ForConditionalGeneration(config, params, generator ? { generator } : {});
  }

  /**
   * A randomly initialised model with HF's `_init_weights` scales (`initializer_factor` f):
   * embeddings and an untied head N(0, f²); q N(0, f²/(d_model·d_kv)); k, v N(0, f²/d_model);
   * o N(0, f²/(H·d_kv)); relative bias and wi* N(0, f²/d_model); wo N(0, f²/d_ff); norms 1.
   */
  static fromConfig(config: T5Config, options: T5FromConfigOptions = {}): T5ForConditionalGeneration {
    const f = config.initializerFactor;
    const params = new Map<string, Tensor>();
    for (const s of t5ParameterSpecs(config)) {
      const n = s.name;
      let std: number | null;
      if (n.endsWith('layer_norm.weight')) std = null;
      else if (n === 'shared.weight' || n === 'lm_head.weight') std = f;
      else if (n.endsWith('.q.weight')) std = f * (config.dModel * config.dKv) ** -0.5;
      else if (n.endsWith('.o.weight')) std = f * config.innerDim ** -0.5;
      else if (n.endsWith('.wo.weight')) std = f * config.dFf ** -0.5;
      else std = f * config.dModel ** -0.5; // k, v, relative_attention_bias, wi, wi_0, wi_1
      const t = tidy(() => (std === null ? ones(s.shape) : mul(randn(s.shape, options.generator ? { generator: options.generator } : {}), std)));
      if (options.trainable) t.requiresGrad_(true);
      params.set(n, t);
    }
    return new T5ForConditionalGeneration(config, params);
  }

  /** Whether dropout is active. */
  get training(): boolean {
    return this.#state.training;
  }

  /** The generator dropout draws from (null: the engine's default generator). */
  get generator(): Generator | null {
    return this.#state.generator;
  }

  set generator(g: Generator | null) {
    this.#state.generator = g;
  }

  /**
   * Training mode: dropout with the config's `dropout_rate` everywhere HF applies it. With a
   * `generator`, dropout masks come from it, so a run is reproducible by re-seeding it.
   */
  train(generator?: Generator): this {
    this.#state.training = true;
    if (generator) this.#state.generator = generator;
    return this;
  }

  /** Evaluation mode: no dropout. */
  eval(): this {
    this.#state.training = false;
    return this;
  }

  /** Marks every weight trainable (or frozen). */
  requiresGrad_(flag = true): this {
    for (const t of this.parameters()) t.requiresGrad_(flag);
    return this;
  }

  /** Frees every weight; the model is unusable afterwards. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    for (const t of this.parameters()) t.dispose();
    this.#disposed = true;
  }

  /** Whether {@link T5ForConditionalGeneration.dispose} was called. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /**
   * Teacher-forced forward pass: encoder, decoder on `decoderInputIds` (default
   * `shiftRight(labels)`), logits, and the loss when `labels` are given.
   *
   * @throws {@link T5InputError} for an empty batch, ragged rows, ids outside the vocabulary,
   *   mismatched shapes or a soft prompt of the wrong width
   */
  forward(input: T5ForwardInput): T5Output {
    this.#alive();
    const run = (): T5Output => {
      const enc = this.#encode(input, input.outputHiddenStates ?? false);
      const b = enc.lastHiddenState.shape[0]!;
      const { decoderIds, labels } = this.#decoderInputs(input, b);
      const t = decoderIds.shape[1]!;
      const decMask = input.decoderAttentionMask !== undefined ? toMask(input.decoderAttentionMask, 'decoderAttentionMask', [b, t]) : null;
      const dec = this.decoder.forward({
        inputsEmbeds: embedding(this.shared.weight, decoderIds),
        attentionMask: decMask,
        encoderHiddenStates: enc.lastHiddenState,
        encoderKeyMask: enc.attentionMask ? additiveKeyMask(enc.attentionMask) : null,
        outputHiddenStates: input.outputHiddenStates ?? false,
      });
      const logits = this.#lmHead(dec.lastHiddenState);
      const out: T5Output = { logits, encoderLastHiddenState: enc.lastHiddenState, decoderLastHiddenState: dec.lastHiddenState };
      if (labels) out.loss = crossEntropy(logits, labels, { ignoreIndex: IGNORE_INDEX });
      if (enc.hiddenStates) out.encoderHiddenStates = enc.hiddenStates;
      if (dec.hiddenStates) out.decoderHiddenStates = dec.hiddenStates;
      return out;
    };
    return this.#needsGraph(input) ? run() : tidy(run);
  }

  /** Runs only the encoder (with the soft prompt, if any). Same memory rules as `forward`. */
  encode(input: T5EncoderInput & { outputHiddenStates?: boolean }): T5EncoderOutput {
    this.#alive();
    const run = () => this.#encode(input, input.outputHiddenStates ?? false);
    return this.#needsGraph(input) ? run() : tidy(run);
  }

  /**
   * Greedy decoding like HF `generate(..., do_sample=False, num_beams=1)`: the encoder runs once;
   * each row starts with `decoder_start_token_id`, takes the argmax (first maximum on ties) at each
   * step, gets `pad_token_id` after it has emitted EOS, and decoding stops when every row has
   * emitted EOS or after `maxNewTokens` tokens. With the cache (default) cross-attention keys/values
   * are computed once and self-attention keys/values grow by one position per step; per-step
   * intermediates are freed, so memory stays flat apart from the cache. Without an
   * `attentionMask`, the mask is inferred like HF (`inputIds ≠ pad`, unless pad is an EOS id).
   * Dropout follows the model's mode, as in HF (call `eval()` for deterministic decoding).
   *
   * @returns one row per batch row, starting with the decoder start token; all rows have the same
   *   length, `1 + steps`
   */
  async generate(input: T5GenerateInput): Promise<number[][]> {
    this.#alive();
    const c = this.config;
    const maxNewTokens = input.maxNewTokens ?? 19;
    if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) {
      throw new T5InputError('BAD_ARGUMENT', `must be a non-negative integer, got ${maxNewTokens}`, 'maxNewTokens');
    }
    const eosIn = input.eosTokenId === undefined ? c.eosTokenId : input.eosTokenId;
    const eos: readonly number[] = eosIn === null ? [] : typeof eosIn === 'number' ? [eosIn] : eosIn;
    for (const e of eos) {
      if (!Number.isSafeInteger(e) || e < 0 || e >= c.vocabSize) throw new T5InputError('ID_OUT_OF_RANGE', `EOS id ${e} is outside the vocabulary [0, ${c.vocabSize})`, 'eosTokenId');
    }
    const useCache = input.useCache ?? true;
    const blocks = this.decoder.block;

    const enc = noGrad(() =>
      tidy(() => {
        const e = this.#encode(this.#withInferredMask(input, eos), false);
        const keyMask = e.attentionMask ? additiveKeyMask(e.attentionMask) : null;
        const cross = useCache ? blocks.map((blk) => blk.crossAttention!.projectKeyValue(e.lastHiddenState)) : null;
        return { hidden: e.lastHiddenState, keyMask, cross };
      }),
    );
    const owned: Tensor[] = [enc.hidden, ...(enc.keyMask ? [enc.keyMask] : []), ...(enc.cross ?? []).flatMap((kv) => [kv.kT, kv.v])];
    for (const t of owned) keep(t);
    let selfKv: KeyValue[] | null = null;
    const b = enc.hidden.shape[0]!;
    const seqs: number[][] = Array.from({ length: b }, () => [c.decoderStartTokenId]);
    const unfinished: boolean[] = new Array<boolean>(b).fill(true);
    try {
      for (let step = 0; step < maxNewTokens; step++) {
        const out = noGrad(() =>
          tidy(() => {
            let last: Tensor;
            let present: KeyValue[] | null = null;
            if (useCache) {
              const tokens = tensor(Int32Array.from(seqs, (r) => r[r.length - 1]!), { shape: [b, 1], dtype: 'int32' });
              const dec = this.decoder.forward({
                inputsEmbeds: embedding(this.shared.weight, tokens),
                attentionMask: null,
                encoderKeyMask: enc.keyMask,
                past: blocks.map((_, i) => ({ ...(selfKv ? { self: selfKv[i]! } : {}), cross: enc.cross![i]! })),
                pastLength: step,
              });
              last = dec.lastHiddenState;
              present = dec.cache.map((x) => x.self!);
            } else {
              const flat = Int32Array.from(seqs.flat());
              const ids = tensor(flat, { shape: [b, step + 1], dtype: 'int32' });
              const dec = this.decoder.forward({
                inputsEmbeds: embedding(this.shared.weight, ids),
                attentionMask: null,
                encoderHiddenStates: enc.hidden,
                encoderKeyMask: enc.keyMask,
              });
              last = narrow(dec.lastHiddenState, 1, step, 1);
            }
            const logits = reshape(this.#lmHead(last), [b, c.vocabSize]);
            input.onStep?.({ step, logits });
            return { next: argmax(logits, -1), present };
          }),
        );
        keep(out.next);
        if (out.present) {
          for (const kv of out.present) {
            keep(kv.kT);
            keep(kv.v);
          }
          // The new cache was built by concatenation, so the old one is no longer referenced.
          if (selfKv) for (const kv of selfKv) disposeKv(kv);
          selfKv = out.present;
        }
        const next = await out.next.data();
        out.next.dispose();
        for (let r = 0; r < b; r++) {
          const tok = eos.length > 0 && !unfinished[r] ? c.padTokenId : next[r]!;
          seqs[r]!.push(tok);
          if (eos.includes(tok)) unfinished[r] = false;
        }
        if (eos.length > 0 && !unfinished.includes(true)) break;
      }
    } finally {
      for (const t of owned) t.dispose();
      if (selfKv) for (const kv of selfKv) disposeKv(kv);
    }
    return seqs;
  }

  /** HF's attention-mask inference for `generate` without a mask: ids ≠ pad, unless pad is an EOS id. */
  #withInferredMask(input: T5EncoderInput, eos: readonly number[]): T5EncoderInput {
    if (input.attentionMask !== undefined || input.inputIds === undefined || eos.includes(this.config.padTokenId)) return input;
    const { ids } = toIds(input.inputIds, 'inputIds', this.config.vocabSize);
    return { ...input, inputIds: ids, attentionMask: cast(ne(ids, this.config.padTokenId), 'float32') };
  }

  #alive(): void {
    if (this.#disposed) throw new T5InputError('DISPOSED', 'the model was disposed');
  }

  /** Whether the forward pass must keep its intermediates for a later `backward`. */
  #needsGraph(input: T5EncoderInput): boolean {
    if (!isGradEnabled()) return false;
    if (input.inputsEmbeds?.requiresGrad) return true;
    if (input.softPrompt?.table.requiresGrad) return true;
    return this.parameters().some((p) => p.requiresGrad);
  }

  #lmHead(h: Tensor): Tensor {
    if (this.lm_head) return linear(h, this.lm_head.weight);
    // Tied head: HF rescales by d_model^-0.5 before projecting with the shared embedding.
    return linear(mul(h, this.config.dModel ** -0.5), this.shared.weight);
  }

  #encode(input: T5EncoderInput, outputHiddenStates: boolean): T5EncoderOutput {
    const c = this.config;
    if (input.inputIds !== undefined && input.inputsEmbeds !== undefined) {
      throw new T5InputError('BAD_ARGUMENT', 'give inputIds or inputsEmbeds, not both', 'inputsEmbeds');
    }
    let embeds: Tensor;
    if (input.inputIds !== undefined) {
      const { ids } = toIds(input.inputIds, 'inputIds', c.vocabSize);
      embeds = embedding(this.shared.weight, ids);
    } else if (input.inputsEmbeds !== undefined) {
      const e = input.inputsEmbeds;
      if (e.rank !== 3 || e.shape[2] !== c.dModel) {
        throw new T5InputError('SHAPE', `expected [batch, length, ${c.dModel}], got [${e.shape.join(', ')}]`, 'inputsEmbeds');
      }
      if (e.shape[0] === 0 || e.shape[1] === 0) throw new T5InputError('EMPTY_BATCH', `the batch is empty ([${e.shape.join(', ')}])`, 'inputsEmbeds');
      if (e.dtype !== 'float32') throw new T5InputError('DTYPE', `inputsEmbeds must be float32, got ${e.dtype}`, 'inputsEmbeds');
      embeds = e;
    } else {
      throw new T5InputError('MISSING_INPUT', 'give inputIds or inputsEmbeds', 'inputIds');
    }
    const [b, l] = embeds.shape as [number, number, number];
    let mask = input.attentionMask !== undefined ? toMask(input.attentionMask, 'attentionMask', [b, l]) : null;
    if (input.softPrompt) {
      // PEFT PROMPT_TUNING for seq2seq: cat(table[0:n] for every row, embeddings) and n leading ones.
      const sp = input.softPrompt;
      const prefix = sp.encoderPrefix();
      const n = sp.numVirtualTokens;
      if (prefix.rank !== 2 || prefix.shape[0] !== n || prefix.shape[1] !== c.dModel) {
        throw new T5InputError('SHAPE', `soft prompt rows have shape [${prefix.shape.join(', ')}], this model needs [${n}, ${c.dModel}] (d_model ${c.dModel})`, 'softPrompt');
      }
      embeds = cat([expand(unsqueeze(prefix, 0), [b, n, c.dModel]), embeds], 1);
      mask = cat([ones([b, n]), mask ?? ones([b, l])], 1);
    }
    const out = this.encoder.forward({ inputsEmbeds: embeds, attentionMask: mask, outputHiddenStates });
    return { lastHiddenState: out.lastHiddenState, attentionMask: mask, ...(out.hiddenStates ? { hiddenStates: out.hiddenStates } : {}) };
  }

  #decoderInputs(input: T5ForwardInput, batch: number): { decoderIds: Tensor; labels: Tensor | null } {
    const c = this.config;
    let labels: Tensor | null = null;
    if (input.labels !== undefined) labels = toIds(input.labels, 'labels', c.vocabSize, true).ids;
    let decoderIds: Tensor;
    if (input.decoderInputIds !== undefined) {
      decoderIds = toIds(input.decoderInputIds, 'decoderInputIds', c.vocabSize).ids;
    } else if (input.labels !== undefined) {
      decoderIds = Array.isArray(input.labels)
        ? tensor(Int32Array.from(shiftRightArray(input.labels as number[][], c.decoderStartTokenId, c.padTokenId).flat()), { shape: labels!.shape, dtype: 'int32' })
        : shiftRight(labels!, c.decoderStartTokenId, c.padTokenId);
    } else {
      throw new T5InputError('MISSING_INPUT', 'give decoderInputIds or labels (the decoder input is shiftRight(labels))', 'decoderInputIds');
    }
    if (decoderIds.shape[0] !== batch) {
      throw new T5InputError('SHAPE', `decoder batch ${decoderIds.shape[0]} differs from encoder batch ${batch}`, input.decoderInputIds !== undefined ? 'decoderInputIds' : 'labels');
    }
    if (labels && (labels.shape[0] !== decoderIds.shape[0] || labels.shape[1] !== decoderIds.shape[1])) {
      throw new T5InputError('SHAPE', `labels [${labels.shape.join(', ')}] do not match decoderInputIds [${decoderIds.shape.join(', ')}]`, 'labels');
    }
    return { decoderIds, labels };
  }
}

function disposeKv(kv: KeyValue): void {
  kv.kT.dispose();
  kv.v.dispose();
}
