/**
 * The T5 tokenizer: libsentencepiece segmentation plus the Hugging Face
 * `T5Tokenizer` conventions on top (EOS appended, `<extra_id_N>` sentinels,
 * special tokens split out of the raw text, batching with padding/truncation).
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { TokenizerError } from './errors.js';
import { PieceType, parseModelProto } from './protobuf.js';
import { DecodeBuffer, SentencePieceProcessor } from './sentencepiece.js';
import { parseTokenizerJson, type AddedToken } from './tokenizer-json.js';

/** Options shared by every way of creating a {@link T5Tokenizer}. */
export interface T5TokenizerOptions {
  /**
   * Number of `<extra_id_N>` sentinel tokens appended after the SentencePiece vocabulary
   * when loading a `.model` file (T5: 100, giving ids 32000..32099 with
   * `<extra_id_0>` = 32099). Ignored for `tokenizer.json`, which lists them itself.
   * Default 100, or `extra_ids` from `tokenizer_config.json` in {@link T5Tokenizer.fromPretrained}.
   */
  readonly extraIds?: number | undefined;
  /**
   * Length used by `truncation: true` / `padding: 'max_length'` when no `maxLength` is
   * given (Hugging Face's `model_max_length`). Default 512.
   */
  readonly modelMaxLength?: number | undefined;
}

/** Options of {@link T5Tokenizer.fromBytes}. */
export interface T5TokenizerBytesOptions extends T5TokenizerOptions {
  /** Name used in error messages (and, if it ends with `.json`, to pick the format). */
  readonly source?: string | undefined;
  /** Force the file format instead of sniffing it from the name / first byte. */
  readonly format?: 'sentencepiece' | 'tokenizer.json' | undefined;
}

/** Options of {@link T5Tokenizer.fromPretrained}. */
export interface FromPretrainedOptions extends T5TokenizerOptions {
  /**
   * Maps a file name of the checkpoint (`spiece.model`, `tokenizer.json`,
   * `tokenizer_config.json`) to a local path, e.g. by downloading it from the Hub.
   * A rejected promise means "this file is not available". Without it, `dirOrId` is
   * a local directory.
   */
  readonly resolve?: ((file: string) => Promise<string>) | undefined;
}

/** Options of {@link T5Tokenizer.encode}. */
export interface EncodeOptions {
  /** Append `</s>` (id 1), as Hugging Face does for T5. Default true. */
  readonly addEos?: boolean | undefined;
}

/** Options of {@link T5Tokenizer.decode}. */
export interface DecodeOptions {
  /**
   * Drop special tokens (`<pad>`, `</s>`, `<unk>`, `<extra_id_N>`), like Hugging Face's
   * `skip_special_tokens`. Default false.
   */
  readonly skipSpecialTokens?: boolean | undefined;
}

/** Options of {@link T5Tokenizer.encodeBatch}; semantics of Hugging Face's tokenizer `__call__`. */
export interface EncodeBatchOptions extends EncodeOptions {
  /**
   * Target length for truncation and for `padding: 'max_length'`; defaults to
   * {@link T5Tokenizer.modelMaxLength} when one of those needs it.
   */
  readonly maxLength?: number | undefined;
  /** Cut sequences longer than `maxLength`, keeping `</s>` as the last token. Default false. */
  readonly truncation?: boolean | undefined;
  /**
   * `'longest'` (or `true`): pad to the longest sequence of the batch; `'max_length'`: pad
   * to `maxLength` (a longer, untruncated sequence stays longer, as in Hugging Face);
   * `false`: no padding (rows may differ in length). Padding is on the right with
   * `<pad>` (id 0) and attention 0. Default false.
   */
  readonly padding?: 'max_length' | 'longest' | boolean | undefined;
}

/** Result of {@link T5Tokenizer.encodeBatch}. */
export interface BatchEncoding {
  /** Token ids, one row per text. */
  readonly inputIds: number[][];
  /** 1 for real tokens, 0 for padding; same shape as `inputIds`. */
  readonly attentionMask: number[][];
}

const DEFAULT_EXTRA_IDS = 100;
const DEFAULT_MODEL_MAX_LENGTH = 512;

/**
 * T5's tokenizer, with exact id parity with libsentencepiece / Hugging Face's `T5Tokenizer`.
 *
 * @example
 * ```ts
 * const tok = await T5Tokenizer.fromPretrained('/models/t5-small');
 * tok.encode('translate English to German: Hello'); // [..., 1]
 * tok.decode([8774, 296]); // 'Hello world'
 * ```
 */
export class T5Tokenizer {
  /** The underlying SentencePiece processor (no T5 conventions). */
  readonly sentencePiece: SentencePieceProcessor;
  /** Total number of ids: SentencePiece pieces plus added tokens (32100 for T5). */
  readonly vocabSize: number;
  /** Id of `<pad>` (0 for T5); also the decoder start token of T5. */
  readonly padTokenId: number;
  /** Id of `</s>` (1 for T5). */
  readonly eosTokenId: number;
  /** Id of `<unk>` (2 for T5). */
  readonly unkTokenId: number;
  /** Default length for truncation / `'max_length'` padding (512 for T5). */
  readonly modelMaxLength: number;
  /** Tokens matched in the raw text before SentencePiece runs (special tokens, sentinels). */
  readonly addedTokens: readonly AddedToken[];

  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  /** Added tokens grouped by first UTF-16 unit, longest first, for leftmost-longest splitting. */
  private readonly addedByFirstChar = new Map<string, AddedToken[]>();
  private readonly specialIds = new Set<number>();

  private constructor(sp: SentencePieceProcessor, addedTokens: readonly AddedToken[], options: T5TokenizerOptions) {
    this.sentencePiece = sp;
    this.addedTokens = addedTokens;
    this.unkTokenId = sp.unkId;
    const { trainerSpec, pieces } = sp.proto;
    pieces.forEach((p, id) => {
      // HF treats the model's control pieces (<pad>, </s>) and <unk> as special tokens.
      if (p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN) this.specialIds.add(id);
    });
    for (const t of addedTokens) {
      if (t.content.length === 0) continue;
      this.addedById.set(t.id, t);
      if (!this.addedByContent.has(t.content)) this.addedByContent.set(t.content, t.id);
      if (t.special) this.specialIds.add(t.id);
      const first = t.content[0]!;
      const group = this.addedByFirstChar.get(first) ?? [];
      group.push(t);
      this.addedByFirstChar.set(first, group);
    }
    for (const group of this.addedByFirstChar.values()) group.sort((a, b) => b.content.length - a.content.length);
    this.vocabSize = addedTokens.reduce((n, t) => Math.max(n, t.id + 1), sp.pieceSize);
    this.padTokenId = trainerSpec.padId >= 0 ? trainerSpec.padId : (this.addedByContent.get('<pad>') ?? 0);
    this.eosTokenId = trainerSpec.eosId >= 0 ? trainerSpec.eosId : (this.addedByContent.get('</s>') ?? 1);
    const maxLen = options.modelMaxLength ?? DEFAULT_MODEL_MAX_LENGTH;
    if (!Number.isInteger(maxLen) || maxLen < 1) {
      throw new TokenizerError('INVALID_ARGUMENT', `modelMaxLength must be a positive integer, got ${maxLen}`);
    }
    this.modelMaxLength = maxLen;
  }

  /**
   * Builds a tokenizer from a SentencePiece `.model` file's bytes, adding `extraIds`
   * sentinels `<extra_id_0>` … after the pieces in reverse order (`<extra_id_0>` gets the
   * highest id), as Hugging Face's `T5Tokenizer` does.
   *
   * @throws {@link TokenizerError} `EMPTY_FILE`, `NOT_SENTENCEPIECE`, `INVALID_MODEL`, `UNSUPPORTED_MODEL`.
   */
  static fromSentencePieceModel(bytes: Uint8Array, options: T5TokenizerBytesOptions = {}): T5Tokenizer {
    const source = options.source ?? '<spiece.model>';
    const sp = new SentencePieceProcessor(parseModelProto(bytes, source), source);
    const extraIds = options.extraIds ?? DEFAULT_EXTRA_IDS;
    if (!Number.isInteger(extraIds) || extraIds < 0) {
      throw new TokenizerError('INVALID_ARGUMENT', `extraIds must be a non-negative integer, got ${extraIds}`);
    }
    const added: AddedToken[] = [];
    sp.proto.pieces.forEach((p, id) => {
      if (p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN) added.push({ id, content: p.piece, special: true });
    });
    for (let n = 0; n < extraIds; n++) {
      added.push({ id: sp.pieceSize + extraIds - 1 - n, content: `<extra_id_${n}>`, special: true });
    }
    return new T5Tokenizer(sp, added, options);
  }

  /**
   * Builds a tokenizer from a Hugging Face `tokenizer.json` (text or parsed object).
   *
   * @throws {@link TokenizerError} `INVALID_TOKENIZER_JSON`, `UNSUPPORTED_MODEL`, `INVALID_MODEL`.
   */
  static fromTokenizerJson(json: string | object, options: T5TokenizerBytesOptions = {}): T5Tokenizer {
    const source = options.source ?? '<tokenizer.json>';
    const { proto, addedTokens } = parseTokenizerJson(json, source);
    return new T5Tokenizer(new SentencePieceProcessor(proto, source), addedTokens, options);
  }

  /**
   * Builds a tokenizer from file bytes, detecting the format: `tokenizer.json` when the
   * source name ends in `.json` or the content starts with `{`, else a SentencePiece
   * model (a `ModelProto` always starts with a protobuf tag byte, never `{`).
   *
   * @throws {@link TokenizerError} `EMPTY_FILE` and the errors of the chosen loader.
   */
  static fromBytes(bytes: Uint8Array, options: T5TokenizerBytesOptions = {}): T5Tokenizer {
    const source = options.source ?? '<buffer>';
    if (bytes.length === 0) {
      throw new TokenizerError('EMPTY_FILE', `${source}: file is empty, expected spiece.model or tokenizer.json`, {
        file: source,
      });
    }
    const format = options.format ?? (looksLikeJson(bytes, source) ? 'tokenizer.json' : 'sentencepiece');
    if (format === 'tokenizer.json') {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch (e) {
        throw new TokenizerError('INVALID_TOKENIZER_JSON', `${source}: not UTF-8 text`, { file: source, cause: e });
      }
      return T5Tokenizer.fromTokenizerJson(text, { ...options, source });
    }
    return T5Tokenizer.fromSentencePieceModel(bytes, { ...options, source });
  }

  /**
   * Loads `spiece.model` (or any SentencePiece `.model`) or a `tokenizer.json`.
   *
   * @param path - path of the file.
   * @throws {@link TokenizerError} `FILE_NOT_FOUND` when it cannot be read, plus the
   *   errors of {@link T5Tokenizer.fromBytes}.
   */
  static fromFile(path: string, options: T5TokenizerOptions = {}): T5Tokenizer {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new TokenizerError('FILE_NOT_FOUND', `${path}: cannot read tokenizer file (${(e as Error).message})`, {
        file: path,
        cause: e,
      });
    }
    return T5Tokenizer.fromBytes(bytes, { ...options, source: path });
  }

  /**
   * Loads the tokenizer of a checkpoint: `spiece.model` when available (the reference
   * the ids were trained with), else `tokenizer.json`. `tokenizer_config.json`, when
   * present, supplies `extra_ids` and `model_max_length` unless given in `options`.
   *
   * @param dirOrId - a local directory, or (with `options.resolve`) anything the resolver
   *   understands, e.g. a Hub id.
   * @throws {@link TokenizerError} `FILE_NOT_FOUND` when neither file is available; a
   *   present but broken file is reported as such (no silent fallback).
   */
  static async fromPretrained(dirOrId: string, options: FromPretrainedOptions = {}): Promise<T5Tokenizer> {
    const resolve = options.resolve ?? ((file: string) => Promise.resolve(join(dirOrId, file)));
    const tried: string[] = [];
    const tryRead = async (file: string): Promise<{ path: string; bytes: Uint8Array } | undefined> => {
      let path: string;
      try {
        path = await resolve(file);
      } catch (e) {
        tried.push(`${file}: ${(e as Error)?.message ?? String(e)}`);
        return undefined;
      }
      try {
        return { path, bytes: await readFile(path) };
      } catch (e) {
        tried.push(`${path}: ${(e as Error).message}`);
        return undefined;
      }
    };

    const config = await readTokenizerConfig(tryRead);
    const merged: T5TokenizerOptions = {
      extraIds: options.extraIds ?? config.extraIds,
      modelMaxLength: options.modelMaxLength ?? config.modelMaxLength,
    };
    tried.length = 0; // tokenizer_config.json is optional: don't report it.

    const spm = await tryRead('spiece.model');
    if (spm) return T5Tokenizer.fromBytes(spm.bytes, { ...merged, source: spm.path, format: 'sentencepiece' });
    const json = await tryRead('tokenizer.json');
    if (json) return T5Tokenizer.fromBytes(json.bytes, { ...merged, source: json.path, format: 'tokenizer.json' });
    const hint = options.resolve ? '' : ' (for a Hub id, pass a resolve function)';
    throw new TokenizerError(
      'FILE_NOT_FOUND',
      `${dirOrId}: found neither spiece.model nor tokenizer.json${hint}: ${tried.join('; ')}`,
      { file: dirOrId },
    );
  }

  /**
   * Cuts the raw text around added tokens (leftmost, then longest match), as Hugging Face
   * does before running SentencePiece: `<extra_id_0>` typed in the text becomes that id.
   */
  private splitAddedTokens(text: string): Array<string | number> {
    if (this.addedByFirstChar.size === 0) return [text];
    const parts: Array<string | number> = [];
    let chunkStart = 0;
    for (let i = 0; i < text.length; ) {
      const group = this.addedByFirstChar.get(text[i]!);
      const hit = group?.find((t) => text.startsWith(t.content, i));
      if (hit) {
        if (i > chunkStart) parts.push(text.slice(chunkStart, i));
        parts.push(hit.id);
        i += hit.content.length;
        chunkStart = i;
      } else {
        i++;
      }
    }
    if (chunkStart < text.length) parts.push(text.slice(chunkStart));
    return parts;
  }

  /** Ids without EOS; each text chunk between added tokens is encoded on its own (HF legacy behaviour). */
  private encodeNoEos(text: string): number[] {
    const ids: number[] = [];
    for (const part of this.splitAddedTokens(text)) {
      if (typeof part === 'number') ids.push(part);
      else for (const p of this.sentencePiece.encode(part)) ids.push(p.id);
    }
    return ids;
  }

  /**
   * Encodes one text to ids: `sp.encode(text) + [</s>]` (HF `T5Tokenizer(text).input_ids`).
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = this.encodeNoEos(text);
    if (options.addEos ?? true) ids.push(this.eosTokenId);
    return ids;
  }

  /**
   * The pieces `text` is split into (no EOS). Each piece is the vocabulary string of its
   * id, so an unknown run reads `<unk>` (libsentencepiece's `EncodeAsPieces` would show
   * the unknown characters instead).
   */
  tokenize(text: string): string[] {
    return this.encodeNoEos(text).map((id) => this.idToPiece(id));
  }

  /**
   * Decodes ids to text the way libsentencepiece decodes pieces, with Hugging Face's
   * handling of special tokens: pieces are joined, `▁` becomes a space and the leading
   * space is dropped; `<unk>` becomes " ⁇ " (sentencepiece's unk surface); `<pad>`, `</s>`
   * and `<extra_id_N>` are written out literally unless `skipSpecialTokens` (which also
   * drops `<unk>`, as HF does). No clean-up of spaces around punctuation is applied
   * (T5's `clean_up_tokenization_spaces` is false).
   *
   * @throws {@link TokenizerError} `ID_OUT_OF_RANGE` for an id outside `[0, vocabSize)`.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const sp = this.sentencePiece;
    const out = new DecodeBuffer(sp.stripsLeadingSpace);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      this.checkId(id, i);
      if (this.specialIds.has(id)) {
        if (skip) continue;
        out.appendText(id === this.unkTokenId ? sp.unkSurface : this.idToPiece(id));
        continue;
      }
      if (id >= sp.pieceSize) {
        out.appendText(this.addedById.get(id)?.content ?? '');
        continue;
      }
      const type = sp.pieceType(id);
      if (type === PieceType.BYTE) out.appendByte(parseInt(sp.idToPiece(id).slice(3, 5), 16));
      else if (type !== PieceType.UNUSED) out.appendPiece(sp.idToPiece(id));
    }
    return out.finish();
  }

  /**
   * Encodes several texts at once, with Hugging Face semantics for truncation and padding.
   *
   * @throws {@link TokenizerError} `EMPTY_BATCH` for an empty list; `INVALID_ARGUMENT` for a
   *   `maxLength` that is not a positive integer.
   */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): BatchEncoding {
    if (texts.length === 0) throw new TokenizerError('EMPTY_BATCH', 'encodeBatch: the batch holds no texts');
    const { maxLength, truncation = false, padding = false } = options;
    const addEos = options.addEos ?? true;
    if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
      throw new TokenizerError('INVALID_ARGUMENT', `encodeBatch: maxLength must be a positive integer, got ${maxLength}`);
    }
    const limit = maxLength ?? this.modelMaxLength;
    const inputIds = texts.map((text) => {
      let ids = this.encodeNoEos(text);
      // HF truncates the text part so that, with the special tokens added back, the
      // sequence is `limit` long: </s> always survives as the last token.
      const room = addEos ? limit - 1 : limit;
      if (truncation && ids.length > room) ids = ids.slice(0, room);
      if (addEos) ids.push(this.eosTokenId);
      return ids;
    });
    const attentionMask = inputIds.map((ids) => ids.map(() => 1));
    const target =
      padding === 'max_length' ? limit : padding === 'longest' || padding === true ? inputIds.reduce((n, r) => Math.max(n, r.length), 0) : 0;
    for (let r = 0; r < inputIds.length; r++) {
      const row = inputIds[r]!;
      const mask = attentionMask[r]!;
      while (row.length < target) {
        row.push(this.padTokenId);
        mask.push(0);
      }
    }
    return { inputIds, attentionMask };
  }

  /**
   * The token string of an id (`▁Hello`, `</s>`, `<extra_id_0>`...).
   * @throws {@link TokenizerError} `ID_OUT_OF_RANGE` for an id outside `[0, vocabSize)`.
   */
  idToPiece(id: number): string {
    this.checkId(id);
    const added = this.addedById.get(id);
    if (added) return added.content;
    return id < this.sentencePiece.pieceSize ? this.sentencePiece.idToPiece(id) : '';
  }

  /** The id of a token string; unknown strings map to `unkTokenId` (as in HF and sentencepiece). */
  pieceToId(piece: string): number {
    return this.addedByContent.get(piece) ?? this.sentencePiece.pieceToId(piece);
  }

  /** True for ids that `skipSpecialTokens` removes (`<pad>`, `</s>`, `<unk>`, `<extra_id_N>`). */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The id of sentinel `<extra_id_n>`, or `undefined` if the vocabulary has no such token. */
  extraId(n: number): number | undefined {
    return this.addedByContent.get(`<extra_id_${n}>`);
  }

  /** SentencePiece's normalized form of `text` (NFKC-like rules, spaces as `▁`). */
  normalize(text: string): string {
    return this.sentencePiece.normalize(text);
  }

  private checkId(id: number, index?: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      const where = index === undefined ? '' : ` at position ${index}`;
      throw new TokenizerError('ID_OUT_OF_RANGE', `token id ${id}${where} is outside [0, ${this.vocabSize})`);
    }
  }
}

function looksLikeJson(bytes: Uint8Array, source: string): boolean {
  if (source.toLowerCase().endsWith('.json')) return true;
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x7b; // '{'
}

/** Reads the optional `tokenizer_config.json`; any problem just means "no settings". */
async function readTokenizerConfig(
  tryRead: (file: string) => Promise<{ path: string; bytes: Uint8Array } | undefined>,
): Promise<{ extraIds?: number; modelMaxLength?: number }> {
  const file = await tryRead('tokenizer_config.json');
  if (!file) return {};
  try {
    const cfg = JSON.parse(new TextDecoder().decode(file.bytes)) as Record<string, unknown>;
    const out: { extraIds?: number; modelMaxLength?: number } = {};
    const extra = cfg['extra_ids'];
    if (typeof extra === 'number' && Number.isInteger(extra) && extra >= 0) out.extraIds = extra;
    const maxLen = cfg['model_max_length'];
    // HF writes 1e30 ("VERY_LARGE_INTEGER") when there is no limit: keep our default then.
    if (typeof maxLen === 'number' && Number.isInteger(maxLen) && maxLen >= 1 && maxLen <= 1_000_000) out.modelMaxLength = maxLen;
    return out;
  } catch {
    return {};
  }
}
