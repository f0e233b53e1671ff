/**
 * A SentencePiece processor (normalizer + unigram segmenter + decoder) with the
 * behaviour of libsentencepiece's `SentencePieceProcessor` for unigram models.
 *
 * This layer knows nothing about T5 or Hugging Face: no EOS, no `<extra_id_N>`, no
 * added-token splitting — see `t5-tokenizer.ts` for that.
 *
 * @module
 */

import { Normalizer, SPACE_SYMBOL, validUtf8Len } from './charsmap.js';
import { TokenizerError } from './errors.js';
import { ModelType, PieceType, parseModelProto, type SentencePieceModelProto } from './protobuf.js';
import { UnigramModel, type EncodedPiece } from './unigram.js';

const MODEL_TYPE_NAMES: Record<number, string> = { 1: 'UNIGRAM', 2: 'BPE', 3: 'WORD', 4: 'CHAR' };

const utf8Decoder = new TextDecoder();

/**
 * SentencePiece's unigram encoder/decoder for one model.
 *
 * @example
 * ```ts
 * const sp = SentencePieceProcessor.fromBytes(readFileSync('spiece.model'));
 * sp.encodeIds('Hello world'); // [8774, 296] for T5
 * ```
 */
export class SentencePieceProcessor {
  /** The decoded model. */
  readonly proto: SentencePieceModelProto;
  /** The normalizer built from the model's `NormalizerSpec`. */
  readonly normalizer: Normalizer;
  /** The segmenter. */
  readonly model: UnigramModel;
  /** Text that decoding `<unk>` produces (`TrainerSpec.unk_surface`, default " ⁇ "). */
  readonly unkSurface: string;
  private readonly ids = new Map<string, number>();

  /**
   * @param proto - a decoded model (from {@link parseModelProto} or `tokenizer.json`).
   * @param source - file name for error messages.
   * @throws {@link TokenizerError} `UNSUPPORTED_MODEL` for non-unigram models;
   *   `INVALID_MODEL` when there is not exactly one `<unk>` piece or pieces repeat.
   */
  constructor(proto: SentencePieceModelProto, source = '<model>') {
    const { pieces, trainerSpec, normalizerSpec } = proto;
    if (trainerSpec.modelType !== ModelType.UNIGRAM) {
      const name = MODEL_TYPE_NAMES[trainerSpec.modelType] ?? `type ${trainerSpec.modelType}`;
      throw new TokenizerError('UNSUPPORTED_MODEL', `${source}: ${name} SentencePiece models are not supported (only UNIGRAM)`, {
        file: source,
      });
    }
    // Like sentencepiece, the unk id is wherever the single UNKNOWN piece is.
    const unkIds: number[] = [];
    pieces.forEach((p, i) => {
      if (p.type === PieceType.UNKNOWN) unkIds.push(i);
    });
    if (unkIds.length !== 1) {
      throw new TokenizerError(
        'INVALID_MODEL',
        `${source}: a SentencePiece model needs exactly one <unk> (UNKNOWN) piece, found ${unkIds.length}`,
        { file: source },
      );
    }
    this.proto = proto;
    this.unkSurface = trainerSpec.unkSurface;
    this.model = new UnigramModel(pieces, { unkId: unkIds[0]!, byteFallback: trainerSpec.byteFallback, source });
    this.normalizer = new Normalizer({
      precompiledCharsmap: normalizerSpec.precompiledCharsmap,
      addDummyPrefix: normalizerSpec.addDummyPrefix,
      removeExtraWhitespaces: normalizerSpec.removeExtraWhitespaces,
      escapeWhitespaces: normalizerSpec.escapeWhitespaces,
      treatWhitespaceAsSuffix: trainerSpec.treatWhitespaceAsSuffix,
      userDefinedSymbols: pieces.filter((p) => p.type === PieceType.USER_DEFINED).map((p) => p.piece),
      source,
    });
    pieces.forEach((p, i) => {
      if (!this.ids.has(p.piece)) this.ids.set(p.piece, i);
    });
  }

  /**
   * Loads a `.model` file's bytes.
   *
   * @throws {@link TokenizerError} see {@link parseModelProto} and the constructor.
   */
  static fromBytes(bytes: Uint8Array, source = '<buffer>'): SentencePieceProcessor {
    return new SentencePieceProcessor(parseModelProto(bytes, source), source);
  }

  /** Number of pieces in the model (32000 for T5's `spiece.model`). */
  get pieceSize(): number {
    return this.proto.pieces.length;
  }

  /** Id of `<unk>`. */
  get unkId(): number {
    return this.model.unkId;
  }

  /** The normalized form of `text`, with spaces shown as `▁`. */
  normalize(text: string): string {
    return utf8Decoder.decode(this.normalizer.normalize(text));
  }

  /** Normalizes and segments `text`; unknown runs come back as one `<unk>` each. */
  encode(text: string): EncodedPiece[] {
    return this.model.encode(this.normalizer.normalize(text));
  }

  /** `SentencePieceProcessor::EncodeAsIds`. */
  encodeIds(text: string): number[] {
    return this.encode(text).map((p) => p.id);
  }

  /**
   * `SentencePieceProcessor::EncodeAsPieces`: piece strings; an unknown run is returned
   * as the normalized characters it covers (not as `<unk>`), like libsentencepiece.
   */
  encodePieces(text: string): string[] {
    return this.encode(text).map((p) => utf8Decoder.decode(p.surface));
  }

  /**
   * The piece string of an id.
   * @throws {@link TokenizerError} `ID_OUT_OF_RANGE` for ids outside `[0, pieceSize)`.
   */
  idToPiece(id: number): string {
    const p = Number.isInteger(id) ? this.proto.pieces[id] : undefined;
    if (p === undefined) {
      throw new TokenizerError('ID_OUT_OF_RANGE', `token id ${id} is outside [0, ${this.pieceSize})`);
    }
    return p.piece;
  }

  /** The id of a piece string, or the unk id when the piece is not in the vocabulary. */
  pieceToId(piece: string): number {
    return this.ids.get(piece) ?? this.unkId;
  }

  /** The {@link PieceType} of an id (`undefined` when out of range). */
  pieceType(id: number): number | undefined {
    return this.proto.pieces[id]?.type;
  }

  /**
   * `SentencePieceProcessor::DecodeIds`: control pieces vanish, `<unk>` becomes
   * {@link SentencePieceProcessor.unkSurface}, byte pieces are reassembled as UTF-8, `▁`
   * becomes a space, and the `▁` that starts the text is dropped.
   *
   * @throws {@link TokenizerError} `ID_OUT_OF_RANGE` for ids outside `[0, pieceSize)`.
   */
  decodeIds(ids: readonly number[]): string {
    const out = new DecodeBuffer(this.stripsLeadingSpace);
    for (const id of ids) {
      const piece = this.idToPiece(id);
      const type = this.pieceType(id);
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) out.appendText(this.unkSurface);
      else if (type === PieceType.BYTE) out.appendByte(parseInt(piece.slice(3, 5), 16));
      else out.appendPiece(piece);
    }
    return out.finish();
  }

  /**
   * Whether decoding removes the `▁` that starts the text: it stands for the dummy
   * prefix, or for whitespace the normalizer would have removed anyway.
   */
  get stripsLeadingSpace(): boolean {
    const spec = this.proto.normalizerSpec;
    return spec.addDummyPrefix || spec.removeExtraWhitespaces;
  }
}

/**
 * Accumulates decoded text with sentencepiece's rules: a piece's leading `▁` is dropped
 * while the output is still empty; byte pieces are buffered and flushed as UTF-8 (each
 * malformed byte becomes U+FFFD).
 */
export class DecodeBuffer {
  private text = '';
  private bytes: number[] = [];

  /** @param stripLeadingSpace - drop the `▁` at the very start of the output. */
  constructor(private readonly stripLeadingSpace: boolean) {}

  /** Appends a vocabulary piece (`▁` → space). */
  appendPiece(piece: string): void {
    this.flush();
    let p = piece;
    if (this.stripLeadingSpace && this.text.length === 0 && p.startsWith(SPACE_SYMBOL)) p = p.slice(1);
    this.text += p.replaceAll(SPACE_SYMBOL, ' ');
  }

  /** Appends literal text (unk surface, special token). */
  appendText(s: string): void {
    this.flush();
    this.text += s;
  }

  /** Appends one byte of a byte-fallback sequence. */
  appendByte(b: number): void {
    this.bytes.push(b);
  }

  /** Returns the decoded text. */
  finish(): string {
    this.flush();
    return this.text;
  }

  private flush(): void {
    if (this.bytes.length === 0) return;
    const bytes = Uint8Array.from(this.bytes);
    this.bytes = [];
    let s = '';
    for (let i = 0; i < bytes.length; ) {
      const len = validUtf8Len(bytes, i, bytes.length);
      if (len === 0) {
        s += '\uFFFD';
        i += 1;
      } else {
        s += utf8Decoder.decode(bytes.subarray(i, i + len));
        i += len;
      }
    }
    this.text += s;
  }
}
