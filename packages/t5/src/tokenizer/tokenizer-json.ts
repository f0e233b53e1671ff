/**
 * Loads a SentencePiece unigram model from a Hugging Face fast-tokenizer file
 * (`tokenizer.json`), as written by `transformers`' `SpmConverter` for T5.
 *
 * The result is the same {@link SentencePieceModelProto} the `.model` loader gives,
 * so encoding goes through the *same* sentencepiece algorithm either way. We do
 * not replay the `tokenizers` pipeline (Metaspace split, `Replace` regex...):
 * the goal is libsentencepiece parity, and the JSON is only a different container
 * for the same vocabulary, scores and charsmap.
 *
 * @module
 */

import { TokenizerError } from './errors.js';
import {
  DEFAULT_UNK_SURFACE,
  ModelType,
  PieceType,
  type ModelPiece,
  type NormalizerSpec,
  type SentencePieceModelProto,
  type TrainerSpec,
} from './protobuf.js';

/** A token Hugging Face matches in the raw text before running the model (`added_tokens`). */
export interface AddedToken {
  /** Vocabulary id. */
  readonly id: number;
  /** The literal text, e.g. `<extra_id_0>`. */
  readonly content: string;
  /** Special tokens are dropped by `decode(..., { skipSpecialTokens: true })`. */
  readonly special: boolean;
}

/** What {@link parseTokenizerJson} extracts from a `tokenizer.json`. */
export interface TokenizerJsonModel {
  /** The model, in the `.model` file's shape. */
  readonly proto: SentencePieceModelProto;
  /** `added_tokens`, in file order. */
  readonly addedTokens: readonly AddedToken[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Flattens a normalizer / pre-tokenizer that may be a `Sequence` of others. */
function flatten(node: Json | undefined, listKey: string): JsonObject[] {
  if (!isObject(node)) return [];
  const list = node[listKey];
  if (node['type'] === 'Sequence' && Array.isArray(list)) return list.flatMap((n) => flatten(n, listKey));
  return [node];
}

/**
 * Decodes the text of a `tokenizer.json`.
 *
 * Piece types are inferred as sentencepiece would have them: `unk_id` is UNKNOWN,
 * special added tokens (`<pad>`, `</s>`, `<extra_id_N>`) are CONTROL (never produced by
 * segmentation, since Hugging Face splits them out of the text beforehand), non-special
 * added tokens are USER_DEFINED, `<0xXX>` pieces are BYTE when `byte_fallback` is on,
 * everything else NORMAL. Scores are rounded to float32, which restores the exact
 * values of the `.model` file (the JSON holds them printed from float32).
 *
 * Whitespace handling: `add_dummy_prefix` follows the Metaspace pre-tokenizer
 * (`prepend_scheme` / `add_prefix_space`); `remove_extra_whitespaces` is on when the
 * normalizer collapses spaces (`Replace` of `" {2,}"`) or strips them (`Strip`).
 *
 * @param json - the file's text, or the already parsed object.
 * @param source - file name for error messages.
 * @throws {@link TokenizerError} `INVALID_TOKENIZER_JSON` for malformed JSON or a JSON file
 *   that is not a tokenizer description; `UNSUPPORTED_MODEL` for non-Unigram models.
 */
export function parseTokenizerJson(json: string | object, source = '<tokenizer.json>'): TokenizerJsonModel {
  const fail = (why: string, cause?: unknown): never => {
    throw new TokenizerError('INVALID_TOKENIZER_JSON', `${source}: ${why}`, { file: source, cause });
  };
  let root: Json;
  if (typeof json === 'string') {
    try {
      root = JSON.parse(json) as Json;
    } catch (e) {
      return fail(`not valid JSON (${(e as Error).message})`, e);
    }
  } else {
    root = json as Json;
  }
  if (!isObject(root)) return fail('expected a JSON object');
  const model = root['model'];
  if (!isObject(model)) return fail('not a Hugging Face tokenizer.json (no "model" section)');
  if (model['type'] !== 'Unigram') {
    throw new TokenizerError(
      'UNSUPPORTED_MODEL',
      `${source}: model type ${JSON.stringify(model['type'] ?? null)} is not supported (only Unigram)`,
      { file: source },
    );
  }
  const vocab = model['vocab'];
  if (!Array.isArray(vocab) || vocab.length === 0) return fail('model.vocab must be a non-empty [piece, score] list');

  const unkId = model['unk_id'];
  if (typeof unkId !== 'number' || !Number.isInteger(unkId) || unkId < 0 || unkId >= vocab.length) {
    return fail(`model.unk_id ${JSON.stringify(unkId ?? null)} is not a vocabulary id`);
  }
  const byteFallback = model['byte_fallback'] === true;

  const addedTokens: AddedToken[] = [];
  const rawAdded = root['added_tokens'];
  if (rawAdded !== undefined && rawAdded !== null) {
    if (!Array.isArray(rawAdded)) return fail('added_tokens must be a list');
    for (const t of rawAdded) {
      if (!isObject(t) || typeof t['id'] !== 'number' || !Number.isInteger(t['id']) || t['id'] < 0 || typeof t['content'] !== 'string') {
        return fail(`malformed added token ${JSON.stringify(t)}`);
      }
      // Added tokens extend the vocabulary contiguously; a wild id would mean a huge sparse table.
      if (t['id'] > vocab.length + rawAdded.length) return fail(`added token id ${t['id']} is far past the vocabulary size`);
      addedTokens.push({ id: t['id'], content: t['content'], special: t['special'] === true });
    }
  }

  const size = addedTokens.reduce((n, t) => Math.max(n, t.id + 1), vocab.length);
  const pieces: ModelPiece[] = new Array<ModelPiece>(size);
  for (let id = 0; id < vocab.length; id++) {
    const entry = vocab[id];
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      return fail(`model.vocab[${id}] is not a [piece, score] pair`);
    }
    let type: PieceType = PieceType.NORMAL;
    if (id === unkId) type = PieceType.UNKNOWN;
    else if (byteFallback && /^<0x[0-9A-F]{2}>$/.test(entry[0])) type = PieceType.BYTE;
    pieces[id] = { piece: entry[0], score: Math.fround(entry[1]), type };
  }
  for (const t of addedTokens) {
    if (t.id === unkId) continue;
    const type = t.special ? PieceType.CONTROL : PieceType.USER_DEFINED;
    pieces[t.id] = { piece: t.content, score: pieces[t.id]?.score ?? 0, type };
  }
  // Ids with neither a vocab entry nor an added token (never seen in practice) stay unusable.
  for (let id = 0; id < size; id++) pieces[id] ??= { piece: '', score: 0, type: PieceType.UNUSED };

  const trainerSpec: TrainerSpec = {
    modelType: ModelType.UNIGRAM,
    vocabSize: size,
    unkId,
    bosId: -1,
    eosId: addedTokens.find((t) => t.content === '</s>')?.id ?? -1,
    padId: addedTokens.find((t) => t.content === '<pad>')?.id ?? -1,
    unkSurface: DEFAULT_UNK_SURFACE,
    byteFallback,
    treatWhitespaceAsSuffix: false,
  };

  const normalizers = flatten(root['normalizer'], 'normalizers');
  let precompiledCharsmap: Uint8Array = new Uint8Array(0);
  let removeExtraWhitespaces = false;
  for (const n of normalizers) {
    if (n['type'] === 'Precompiled') {
      const b64 = n['precompiled_charsmap'];
      if (typeof b64 !== 'string') return fail('Precompiled normalizer without a base64 precompiled_charsmap');
      try {
        precompiledCharsmap = decodeBase64(b64);
      } catch (e) {
        return fail('precompiled_charsmap is not valid base64', e);
      }
    } else if (n['type'] === 'Replace') {
      const pattern = n['pattern'];
      const text = isObject(pattern) ? (pattern['Regex'] ?? pattern['String']) : undefined;
      if (text === ' {2,}') removeExtraWhitespaces = true;
    } else if (n['type'] === 'Strip') {
      removeExtraWhitespaces = true;
    }
  }

  let addDummyPrefix = true;
  for (const p of [...flatten(root['pre_tokenizer'], 'pretokenizers'), ...flatten(root['decoder'], 'decoders')]) {
    if (p['type'] !== 'Metaspace') continue;
    const scheme = p['prepend_scheme'];
    if (typeof scheme === 'string') addDummyPrefix = scheme !== 'never';
    else if (typeof p['add_prefix_space'] === 'boolean') addDummyPrefix = p['add_prefix_space'];
    break;
  }

  const normalizerSpec: NormalizerSpec = {
    name: precompiledCharsmap.length > 0 ? 'precompiled' : 'identity',
    precompiledCharsmap,
    addDummyPrefix,
    removeExtraWhitespaces,
    escapeWhitespaces: true,
  };
  return { proto: { pieces, trainerSpec, normalizerSpec }, addedTokens };
}

/** Base64 → bytes without relying on Node's `Buffer` (so this module also runs in browsers). */
function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
