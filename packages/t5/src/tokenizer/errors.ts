/**
 * Typed errors raised by the T5 tokenizer.
 *
 * Every failure the tokenizer can report carries a machine-readable `code` so that
 * callers (the model loader, the CLI, tests) can branch on the kind of problem
 * without parsing messages, while the message itself names the file or value at
 * fault so that a human reading a log knows what to fix.
 *
 * @module
 */

/**
 * Machine-readable reason for a {@link TokenizerError}.
 *
 * - `FILE_NOT_FOUND`: no tokenizer file could be found / read at the given location.
 * - `EMPTY_FILE`: the file exists but has zero bytes.
 * - `NOT_SENTENCEPIECE`: the bytes are not a SentencePiece `ModelProto` (malformed protobuf,
 *   a JSON or text file, random bytes...).
 * - `INVALID_MODEL`: the file parses, but the model it describes is inconsistent
 *   (no `<unk>` piece, duplicated pieces, ...).
 * - `UNSUPPORTED_MODEL`: a valid model of a kind this tokenizer does not implement (BPE, WORD, CHAR).
 * - `INVALID_TOKENIZER_JSON`: a JSON file that is not a usable Hugging Face `tokenizer.json`.
 * - `INVALID_CHARSMAP`: the precompiled normalization charsmap blob is broken.
 * - `ID_OUT_OF_RANGE`: a token id outside `[0, vocabSize)` (or not an integer) was given.
 * - `EMPTY_BATCH`: {@link T5Tokenizer.encodeBatch} was called with no texts.
 * - `INVALID_ARGUMENT`: any other bad option (e.g. a non-positive `maxLength`).
 */
export type TokenizerErrorCode =
  | 'FILE_NOT_FOUND'
  | 'EMPTY_FILE'
  | 'NOT_SENTENCEPIECE'
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_MODEL'
  | 'INVALID_TOKENIZER_JSON'
  | 'INVALID_CHARSMAP'
  | 'ID_OUT_OF_RANGE'
  | 'EMPTY_BATCH'
  | 'INVALID_ARGUMENT';

/** Extra, optional context attached to a {@link TokenizerError}. */
export interface TokenizerErrorOptions {
  /** The file the problem was found in, when there is one. */
  readonly file?: string;
  /** The underlying error (I/O error, JSON syntax error...), kept for debugging. */
  readonly cause?: unknown;
}

/**
 * The single error type thrown by this tokenizer.
 *
 * @example
 * ```ts
 * try {
 *   T5Tokenizer.fromFile('config.json');
 * } catch (e) {
 *   if (e instanceof TokenizerError && e.code === 'INVALID_TOKENIZER_JSON') { ... }
 * }
 * ```
 */
export class TokenizerError extends Error {
  /** Machine-readable reason; see {@link TokenizerErrorCode}. */
  readonly code: TokenizerErrorCode;
  /** The file involved, when the error is about a file. */
  readonly file: string | undefined;

  /**
   * @param code - machine-readable reason.
   * @param message - human-readable explanation; should name the file / value at fault.
   * @param options - optional file name and cause.
   */
  constructor(code: TokenizerErrorCode, message: string, options: TokenizerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenizerError';
    this.code = code;
    this.file = options.file;
  }
}
