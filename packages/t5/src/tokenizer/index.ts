/**
 * T5 tokenizer: a dependency-free reimplementation of SentencePiece (unigram) with
 * id-for-id parity with libsentencepiece and Hugging Face's `T5Tokenizer`.
 *
 * @module
 */

export { TokenizerError } from './errors.js';
export type { TokenizerErrorCode, TokenizerErrorOptions } from './errors.js';

export { T5Tokenizer } from './t5-tokenizer.js';
export type {
  BatchEncoding,
  DecodeOptions,
  EncodeBatchOptions,
  EncodeOptions,
  FromPretrainedOptions,
  T5TokenizerBytesOptions,
  T5TokenizerOptions,
} from './t5-tokenizer.js';

export { SentencePieceProcessor, DecodeBuffer } from './sentencepiece.js';
export { Normalizer, PrecompiledCharsmap, DartsDoubleArray, SPACE_SYMBOL } from './charsmap.js';
export type { NormalizerOptions } from './charsmap.js';
export { UnigramModel, UNK_PENALTY } from './unigram.js';
export type { EncodedPiece, UnigramModelOptions } from './unigram.js';
export { parseModelProto, PieceType, ModelType, ProtoReader, DEFAULT_UNK_SURFACE } from './protobuf.js';
export type { ModelPiece, NormalizerSpec, SentencePieceModelProto, TrainerSpec } from './protobuf.js';
export { parseTokenizerJson } from './tokenizer-json.js';
export type { AddedToken, TokenizerJsonModel } from './tokenizer-json.js';
