/**
 * A tiny protobuf wire-format reader, and a decoder for SentencePiece's `ModelProto`
 * (`sentencepiece_model.proto`) built on it.
 *
 * We only need to *read* one well-known message type, so instead of depending on a
 * protobuf runtime and a generated schema we decode the handful of fields the
 * tokenizer uses by field number. Unknown fields are skipped (as every protobuf
 * parser does) so newer `.model` files with extra fields still load; but the wire
 * format itself is validated strictly (wire types, lengths, nesting) because that
 * is what tells a real model apart from a JSON file or random bytes.
 *
 * @module
 */

import { TokenizerError } from './errors.js';

/** Protobuf wire types (the low 3 bits of a field tag). */
const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** Thrown internally on malformed wire data; converted to a {@link TokenizerError} by callers. */
class WireFormatError extends Error {}

/**
 * Sequential reader over a protobuf-encoded byte range.
 *
 * Varints are returned as JavaScript numbers. SentencePiece only stores small
 * integers (ids, sizes, enums, booleans), but negative `int32` values such as
 * `pad_id = -1` are written as 10-byte varints, so we keep the low 32 bits
 * separately to be able to recover the signed value exactly.
 */
export class ProtoReader {
  private pos: number;
  private readonly view: DataView;

  /**
   * @param bytes - the buffer holding the message.
   * @param start - first byte of the message (default 0).
   * @param end - one past the last byte of the message (default `bytes.length`).
   */
  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte of the message has been consumed. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Reads a base-128 varint of at most 10 bytes.
   *
   * @returns `lo`: the low 32 bits as an unsigned number; `value`: the whole value as a
   *   (possibly imprecise above 2^53) non-negative number.
   */
  readVarint(): { lo: number; value: number } {
    let lo = 0;
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const b = this.bytes[this.pos++]!;
      const payload = b & 0x7f;
      if (i < 5) lo = (lo + payload * 2 ** (7 * i)) % 2 ** 32;
      value += payload * multiplier;
      multiplier *= 128;
      if ((b & 0x80) === 0) {
        // The 10th byte may only carry the single remaining bit of a 64-bit value.
        if (i === 9 && payload > 1) throw new WireFormatError('varint longer than 64 bits');
        return { lo, value };
      }
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** Reads a varint and interprets it as a protobuf `int32` (two's complement of the low 32 bits). */
  readInt32(): number {
    return this.readVarint().lo | 0;
  }

  /** Reads a varint and interprets it as a protobuf `bool`. */
  readBool(): boolean {
    return this.readVarint().value !== 0;
  }

  /** Reads a field tag. */
  readTag(): { field: number; wireType: number } {
    const { value } = this.readVarint();
    const field = Math.floor(value / 8);
    const wireType = value % 8;
    if (field === 0 || field > 0x1fffffff) throw new WireFormatError(`invalid field number ${field}`);
    return { field, wireType };
  }

  /** Reads a length-delimited payload and returns a view on it (no copy). */
  readBytes(): Uint8Array {
    const { value: len } = this.readVarint();
    if (len > this.end - this.pos) throw new WireFormatError('length-delimited field runs past the end');
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Reads a length-delimited payload and returns a sub-reader over it. */
  readMessage(): ProtoReader {
    const b = this.readBytes();
    return new ProtoReader(b);
  }

  /** Reads a length-delimited payload as a strict UTF-8 string. */
  readString(): string {
    const b = this.readBytes();
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new WireFormatError('string field is not valid UTF-8');
    }
  }

  /** Reads a little-endian IEEE-754 single-precision float (wire type FIXED32). */
  readFloat(): number {
    if (this.end - this.pos < 4) throw new WireFormatError('truncated fixed32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /**
   * Skips a field's payload. Groups (deprecated, never used by SentencePiece) are
   * rejected: seeing one is a strong sign the input is not a protobuf at all
   * (e.g. `{` at the start of a JSON file decodes as a start-group tag).
   */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.readVarint();
        return;
      case WireType.FIXED64:
        if (this.end - this.pos < 8) throw new WireFormatError('truncated fixed64');
        this.pos += 8;
        return;
      case WireType.LENGTH_DELIMITED:
        this.readBytes();
        return;
      case WireType.FIXED32:
        if (this.end - this.pos < 4) throw new WireFormatError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
  }

  /** Throws unless `actual` is the wire type the schema requires for a field. */
  expect(field: number, actual: number, expected: number): void {
    if (actual !== expected) {
      throw new WireFormatError(`field ${field} has wire type ${actual}, expected ${expected}`);
    }
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * `ModelProto.SentencePiece.Type`: how a vocabulary entry takes part in encoding.
 *
 * - `NORMAL`: an ordinary piece, found by the segmentation.
 * - `UNKNOWN`: the `<unk>` piece (exactly one per model).
 * - `CONTROL`: invisible control symbol (`<pad>`, `</s>`); never produced from text by SentencePiece.
 * - `USER_DEFINED`: always segmented as one piece when it appears in the text.
 * - `UNUSED`: in the vocabulary but never produced.
 * - `BYTE`: `<0xXX>` byte-fallback piece.
 */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** Numeric value of one of the {@link PieceType} members. */
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** One entry of the vocabulary (`ModelProto.SentencePiece`). */
export interface ModelPiece {
  /** The piece text, with `▁` (U+2581) standing for a space. */
  readonly piece: string;
  /** Log-probability of the piece (unigram) — higher is more likely. */
  readonly score: number;
  /** How the piece is used; see {@link PieceType}. */
  readonly type: PieceType;
}

/** `TrainerSpec.ModelType` values. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

/** The subset of `TrainerSpec` the tokenizer needs (defaults as in `sentencepiece_model.proto`). */
export interface TrainerSpec {
  /** Segmentation algorithm; see {@link ModelType}. */
  modelType: number;
  /** Vocabulary size the model was trained for. */
  vocabSize: number;
  /** Id of `<unk>` (default 0). */
  unkId: number;
  /** Id of `<s>`, or -1 when absent (default 1). */
  bosId: number;
  /** Id of `</s>`, or -1 when absent (default 2). */
  eosId: number;
  /** Id of `<pad>`, or -1 when absent (default -1). */
  padId: number;
  /** Text emitted by decoding `<unk>` (default `" ⁇ "`). */
  unkSurface: string;
  /** Whether unknown characters are encoded as `<0xXX>` byte pieces. */
  byteFallback: boolean;
  /** Whether the whitespace marker is a suffix (`abc▁`) rather than a prefix. */
  treatWhitespaceAsSuffix: boolean;
}

/** The subset of `NormalizerSpec` the tokenizer needs (defaults as in `sentencepiece_model.proto`). */
export interface NormalizerSpec {
  /** Rule name, e.g. `nmt_nfkc` (informational only; the charsmap holds the rules). */
  name: string;
  /** Compiled normalization rules (see `charsmap.ts`); empty for identity. */
  precompiledCharsmap: Uint8Array;
  /** Prepend `▁` to the text so the first word looks like any other word. */
  addDummyPrefix: boolean;
  /** Drop leading/trailing whitespace and collapse runs of whitespace to one. */
  removeExtraWhitespaces: boolean;
  /** Replace ' ' by `▁` (U+2581) in the normalized text. */
  escapeWhitespaces: boolean;
}

/** A decoded SentencePiece model file. */
export interface SentencePieceModelProto {
  /** Vocabulary, in id order. */
  readonly pieces: readonly ModelPiece[];
  /** Training settings that matter at inference time. */
  readonly trainerSpec: TrainerSpec;
  /** Normalization settings. */
  readonly normalizerSpec: NormalizerSpec;
}

/** SentencePiece's default text for an unknown piece: " ⁇ " (U+2047 between spaces). */
export const DEFAULT_UNK_SURFACE = ' \u2047 ';

function defaultTrainerSpec(): TrainerSpec {
  return {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkSurface: DEFAULT_UNK_SURFACE,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
  };
}

function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
}

function readPiece(r: ProtoReader): ModelPiece {
  let piece = '';
  let score = 0;
  let type: number = PieceType.NORMAL;
  while (!r.done) {
    const { field, wireType } = r.readTag();
    switch (field) {
      case 1:
        r.expect(field, wireType, WireType.LENGTH_DELIMITED);
        piece = r.readString();
        break;
      case 2:
        r.expect(field, wireType, WireType.FIXED32);
        score = r.readFloat();
        break;
      case 3:
        r.expect(field, wireType, WireType.VARINT);
        type = r.readInt32();
        break;
      default:
        r.skip(wireType);
    }
  }
  if (type < PieceType.NORMAL || type > PieceType.BYTE) {
    throw new WireFormatError(`piece ${JSON.stringify(piece)} has unknown type ${type}`);
  }
  return { piece, score, type: type as PieceType };
}

function readTrainerSpec(r: ProtoReader): TrainerSpec {
  const spec = defaultTrainerSpec();
  while (!r.done) {
    const { field, wireType } = r.readTag();
    // Field numbers from sentencepiece_model.proto (TrainerSpec).
    const varint = (): number => {
      r.expect(field, wireType, WireType.VARINT);
      return r.readInt32();
    };
    switch (field) {
      case 3:
        spec.modelType = varint();
        break;
      case 4:
        spec.vocabSize = varint();
        break;
      case 24:
        spec.treatWhitespaceAsSuffix = varint() !== 0;
        break;
      case 35:
        spec.byteFallback = varint() !== 0;
        break;
      case 40:
        spec.unkId = varint();
        break;
      case 41:
        spec.bosId = varint();
        break;
      case 42:
        spec.eosId = varint();
        break;
      case 43:
        spec.padId = varint();
        break;
      case 44:
        r.expect(field, wireType, WireType.LENGTH_DELIMITED);
        spec.unkSurface = r.readString();
        break;
      default:
        r.skip(wireType);
    }
  }
  return spec;
}

function readNormalizerSpec(r: ProtoReader): NormalizerSpec {
  const spec = defaultNormalizerSpec();
  while (!r.done) {
    const { field, wireType } = r.readTag();
    switch (field) {
      case 1:
        r.expect(field, wireType, WireType.LENGTH_DELIMITED);
        spec.name = r.readString();
        break;
      case 2:
        r.expect(field, wireType, WireType.LENGTH_DELIMITED);
        // Copy: the caller's file buffer may be reused or be a pooled Node Buffer.
        spec.precompiledCharsmap = r.readBytes().slice();
        break;
      case 3:
        r.expect(field, wireType, WireType.VARINT);
        spec.addDummyPrefix = r.readBool();
        break;
      case 4:
        r.expect(field, wireType, WireType.VARINT);
        spec.removeExtraWhitespaces = r.readBool();
        break;
      case 5:
        r.expect(field, wireType, WireType.VARINT);
        spec.escapeWhitespaces = r.readBool();
        break;
      default:
        r.skip(wireType);
    }
  }
  return spec;
}

/**
 * Decodes a SentencePiece model file (`spiece.model`, `*.model`).
 *
 * Only the wire format and the fields the tokenizer needs are checked here; the
 * consistency of the vocabulary (one `<unk>`, no duplicates...) is checked when a
 * {@link SentencePieceProcessor} is built from the result.
 *
 * @param bytes - the whole file.
 * @param source - file name used in error messages.
 * @throws {@link TokenizerError} `EMPTY_FILE` for zero bytes; `NOT_SENTENCEPIECE` when the
 *   bytes are not a protobuf `ModelProto` with at least one piece.
 */
export function parseModelProto(bytes: Uint8Array, source = '<buffer>'): SentencePieceModelProto {
  if (bytes.length === 0) {
    throw new TokenizerError('EMPTY_FILE', `${source}: file is empty, expected a SentencePiece model`, {
      file: source,
    });
  }
  const pieces: ModelPiece[] = [];
  let trainerSpec = defaultTrainerSpec();
  let normalizerSpec = defaultNormalizerSpec();
  try {
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const { field, wireType } = r.readTag();
      switch (field) {
        case 1:
          r.expect(field, wireType, WireType.LENGTH_DELIMITED);
          pieces.push(readPiece(r.readMessage()));
          break;
        case 2:
          r.expect(field, wireType, WireType.LENGTH_DELIMITED);
          trainerSpec = readTrainerSpec(r.readMessage());
          break;
        case 3:
          r.expect(field, wireType, WireType.LENGTH_DELIMITED);
          normalizerSpec = readNormalizerSpec(r.readMessage());
          break;
        case 4: // self_test_data
        case 5: // denormalizer_spec
          r.expect(field, wireType, WireType.LENGTH_DELIMITED);
          r.readBytes();
          break;
        default:
          r.skip(wireType);
      }
    }
  } catch (e) {
    if (e instanceof WireFormatError) {
      throw new TokenizerError(
        'NOT_SENTENCEPIECE',
        `${source}: not a SentencePiece model (protobuf ModelProto): ${e.message}`,
        { file: source, cause: e },
      );
    }
    throw e;
  }
  if (pieces.length === 0) {
    throw new TokenizerError('NOT_SENTENCEPIECE', `${source}: not a SentencePiece model: it holds no pieces`, {
      file: source,
    });
  }
  return { pieces, trainerSpec, normalizerSpec };
}
