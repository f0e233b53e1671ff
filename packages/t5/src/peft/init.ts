/**
 * Ways to initialise a soft prompt ("origins"): the paper's sampled-vocabulary init, PEFT's RANDOM
 * and PEFT's TEXT.
 */
import { Generator, type Tensor, embedding, noGrad, randn, tensor, tidy } from '@tpvjs/tensor';
import { PeftError } from './errors.js';
import { type PromptModel, SoftPrompt } from './soft-prompt.js';

/** Options shared by every init. */
export interface PromptInitOptions {
  /** Virtual tokens (the encoder prefix length), e.g. 50 for the paper's t5-base prompts. */
  numVirtualTokens: number;
  /** Table rows per virtual token (default 2, PEFT's value for seq2seq). */
  numTransformerSubmodules?: number;
  /** Make the table trainable (default false). */
  requiresGrad?: boolean;
}

/** Options of {@link sampledVocabInit}. */
export interface SampledVocabInitOptions extends PromptInitOptions {
  /** Seed of the origin sequence (default 1024, the seed of TPV's `create_origin.py`). */
  seed?: number;
  /** Which origin: the `index`-th draw from the seeded generator (the paper uses origins 0–9). */
  index?: number;
  /** Ids are drawn from `[0, range)` (default 5000: the lowest, most frequent T5 sentencepiece ids). */
  range?: number;
}

/** Options of {@link randomInit}. */
export interface RandomInitOptions extends PromptInitOptions {
  /** Source of the normal samples (default: a generator seeded with `seed`). */
  generator?: Generator;
  /** Seed when no generator is given (default 0). */
  seed?: number;
}

/** Options of {@link textInit}. */
export interface TextInitOptions extends PromptInitOptions {
  /** The init text, recorded as `prompt_tuning_init_text`. */
  initText?: string;
  /** The tokenizer that produced the ids, recorded as `tokenizer_name_or_path`. */
  tokenizerNameOrPath?: string;
}

function checkCount(name: string, v: number | undefined, min: number): number {
  if (v === undefined || !Number.isSafeInteger(v) || v < min) throw new PeftError('BAD_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

function rowsOf(o: PromptInitOptions): { n: number; s: number; total: number } {
  const n = checkCount('numVirtualTokens', o.numVirtualTokens, 1);
  const s = checkCount('numTransformerSubmodules', o.numTransformerSubmodules ?? 2, 1);
  return { n, s, total: n * s };
}

/** Word embeddings of `ids` as a fresh leaf tensor (no graph back to the model). */
function gatherRows(model: PromptModel, ids: readonly number[]): Tensor {
  return noGrad(() => tidy(() => embedding(model.shared.weight, tensor(Int32Array.from(ids), { shape: [ids.length], dtype: 'int32' }))));
}

function modelMeta(model: PromptModel) {
  return { numLayers: model.config.numLayers, numAttentionHeads: model.config.numHeads };
}

/**
 * The token ids of origin `index`: TPV seeds once and draws one permutation of `[0, range)` per
 * origin in order, keeping its first ids; here each origin is the `index`-th
 * `Generator.sampleWithoutReplacement(range, count)` of a generator seeded with `seed`. (Bit-exact
 * reproduction of numpy's MT19937 permutation is not attempted; any seeded distinct sample from
 * `[0, range)` is the method.)
 */
export function sampleVocabIds(options: { seed?: number; index?: number; range?: number; count: number }): number[] {
  const index = checkCount('index', options.index ?? 0, 0);
  const range = checkCount('range', options.range ?? 5000, 1);
  const count = checkCount('count', options.count, 1);
  if (count > range) throw new PeftError('BAD_ARGUMENT', `cannot draw ${count} distinct ids from [0, ${range})`);
  const gen = new Generator(options.seed ?? 1024);
  let ids: number[] = [];
  for (let i = 0; i <= index; i++) ids = gen.sampleWithoutReplacement(range, count);
  return ids;
}

/**
 * The paper's origin init (Lester et al.'s "sampled vocab"): the table rows are the word
 * embeddings of distinct ids drawn from `[0, range)` with a seeded generator, one draw per origin
 * index. Saved as `prompt_tuning_init: "RANDOM"`, which is what TPV's origins carry (PEFT v0.9 has
 * no other name for it).
 *
 * @throws {@link PeftError} `BAD_ARGUMENT` for a range beyond the vocabulary or too small for the table
 */
export function sampledVocabInit(model: PromptModel, options: SampledVocabInitOptions): SoftPrompt {
  const { n, s, total } = rowsOf(options);
  const range = options.range ?? 5000;
  if (range > model.config.vocabSize) throw new PeftError('BAD_ARGUMENT', `range ${range} exceeds the vocabulary size ${model.config.vocabSize}`);
  const ids = sampleVocabIds({ count: total, range, ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.index !== undefined ? { index: options.index } : {}) });
  const t = gatherRows(model, ids);
  if (options.requiresGrad) t.requiresGrad_(true);
  return new SoftPrompt(t, { numVirtualTokens: n, numTransformerSubmodules: s, config: { ...modelMeta(model), promptTuningInit: 'RANDOM' } });
}

/**
 * PEFT's RANDOM init: `nn.Embedding`'s N(0, 1) for every row, drawn from a seeded generator.
 * `model` may be a model or just `{ tokenDim }`.
 */
export function randomInit(model: PromptModel | { tokenDim: number }, options: RandomInitOptions): SoftPrompt {
  const { n, s, total } = rowsOf(options);
  const d = 'config' in model ? model.config.dModel : checkCount('tokenDim', model.tokenDim, 1);
  const gen = options.generator ?? new Generator(options.seed ?? 0);
  const t = randn([total, d], { generator: gen });
  if (options.requiresGrad) t.requiresGrad_(true);
  return new SoftPrompt(t, { numVirtualTokens: n, numTransformerSubmodules: s, config: { ...('config' in model ? modelMeta(model) : {}), promptTuningInit: 'RANDOM' } });
}

/**
 * PEFT's TEXT init: the word embeddings of the init text's token ids, cut to the table size or
 * repeated cyclically to fill it. Pass the ids as the T5 tokenizer returns them (with the final
 * `</s>`, as PEFT's `tokenizer(init_text)["input_ids"]` has it).
 *
 * @throws {@link PeftError} `BAD_ARGUMENT` for no ids or ids outside the vocabulary
 */
export function textInit(model: PromptModel, tokenIds: readonly number[], options: TextInitOptions): SoftPrompt {
  const { n, s, total } = rowsOf(options);
  if (tokenIds.length === 0) throw new PeftError('BAD_ARGUMENT', 'the init text has no token ids');
  for (const id of tokenIds) {
    if (!Number.isSafeInteger(id) || id < 0 || id >= model.config.vocabSize) {
      throw new PeftError('BAD_ARGUMENT', `init token id ${id} is outside the vocabulary [0, ${model.config.vocabSize})`);
    }
  }
  const ids = Array.from({ length: total }, (_, i) => tokenIds[i % tokenIds.length]!);
  const t = gatherRows(model, ids);
  if (options.requiresGrad) t.requiresGrad_(true);
  return new SoftPrompt(t, {
    numVirtualTokens: n,
    numTransformerSubmodules: s,
    config: {
      ...modelMeta(model),
      promptTuningInit: 'TEXT',
      promptTuningInitText: options.initText ?? null,
      tokenizerNameOrPath: options.tokenizerNameOrPath ?? null,
    },
  });
}
