/**
 * Typed errors of the task prompt vector module. Callers branch on `code` rather than on messages, the
 * same way `TaskError` works under `tasks/`.
 */

/**
 * Machine-readable reasons a vector operation can fail.
 *
 * - `SHAPE_MISMATCH`: two operands (or a vector and a prompt) have different shapes.
 * - `MODEL_MISMATCH`: two operands were made for different models.
 * - `NON_FINITE`: an input or a result holds NaN or ±Infinity.
 * - `BAD_ARGUMENT`: the caller passed something unusable (negative density, bad λ, wrong type, ...).
 * - `BAD_TASKS`: a task name or task expression cannot be parsed.
 * - `EMPTY`: an operation needs at least one vector (or a shape for the empty sum).
 * - `BAD_SCORE`: a λ-search evaluator returned something that is not a finite number.
 * - `USAGE`: a CLI invocation is malformed (unknown flag, missing argument).
 */
export type VectorErrorCode =
  | 'SHAPE_MISMATCH'
  | 'MODEL_MISMATCH'
  | 'NON_FINITE'
  | 'BAD_ARGUMENT'
  | 'BAD_TASKS'
  | 'EMPTY'
  | 'BAD_SCORE'
  | 'USAGE';

/**
 * Error thrown by vector arithmetic, similarity, merging, λ search and the CLI handlers for bad
 * arguments. File problems are {@link VectorFileError}s instead, so a caller can tell "this file is
 * corrupt" from "you combined incompatible vectors".
 */
export class VectorError extends Error {
  /** What went wrong, see {@link VectorErrorCode}. */
  readonly code: VectorErrorCode;
  /** Structured context (shapes, model ids, index of the offending element, ...). */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code - the failure kind.
   * @param message - a human-readable explanation.
   * @param details - structured context.
   */
  constructor(code: VectorErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'VectorError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Machine-readable reasons reading or writing a `.tpv` file or a PEFT adapter folder can fail.
 *
 * - `IO`: the operating system refused a read, write, rename or mkdir.
 * - `NOT_FOUND`: the file or folder does not exist.
 * - `EXISTS`: an output that must be new already exists.
 * - `TOO_LARGE`: the file, a declared shape or a header is above the configured limits; refused before
 *   allocating anything of that size.
 * - `DECODE`: the bytes are not a (single, well-formed, within-limits) MessagePack value / JSON / safetensors header.
 * - `BAD_MAGIC`: the value is not a `.tpv` record (missing or wrong `magic`).
 * - `UNSUPPORTED_VERSION`: a `schemaVersion` this reader does not know.
 * - `BAD_FIELD`: a field is missing, has the wrong type, or an unknown field is present.
 * - `BAD_DATA`: the numeric payload disagrees with the shape and dtype, or is not a normalised pair.
 * - `NON_FINITE`: the payload holds NaN or ±Infinity.
 * - `SHAPE_MISMATCH`: the stored shape differs from the expected one (refused unless `force`).
 * - `MODEL_MISMATCH`: the stored model id differs from the expected one (refused unless `force`).
 * - `BAD_PEFT`: a PEFT adapter folder is malformed (config, tensor name, dtype, shape).
 * - `INTERNAL`: a validation step failed in an unforeseen way; always a bug in this module (the fuzz
 *   test asserts it never happens), reported as a typed error rather than a crash.
 */
export type VectorFileErrorCode =
  | 'IO'
  | 'NOT_FOUND'
  | 'EXISTS'
  | 'TOO_LARGE'
  | 'DECODE'
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_FIELD'
  | 'BAD_DATA'
  | 'NON_FINITE'
  | 'SHAPE_MISMATCH'
  | 'MODEL_MISMATCH'
  | 'BAD_PEFT'
  | 'INTERNAL';

/** Where a {@link VectorFileError} happened; fields so callers need not parse the message. */
export interface VectorFileErrorContext {
  /** The file or folder concerned, when there is one (absent for in-memory bytes). */
  path?: string;
  /** The record field concerned (`shape`, `data`, `tasks.mnli_text`, ...). */
  field?: string;
  /** The underlying error (from `node:fs`, the MessagePack decoder, `JSON.parse`). */
  cause?: unknown;
}

/**
 * The only error type the `.tpv` and PEFT readers and writers throw for bad input or I/O failure, so a
 * caller (the CLI) can report a corrupt file with one `instanceof` and never show a stack trace.
 */
export class VectorFileError extends Error {
  /** Kind of failure; stable across releases, unlike the message text. */
  readonly code: VectorFileErrorCode;
  /** File or folder the error concerns, if any. */
  readonly path?: string;
  /** Record field the error concerns, if any. */
  readonly field?: string;

  /**
   * @param code - the failure kind.
   * @param message - a human-readable explanation (the path and field are prefixed automatically).
   * @param context - path, field and cause.
   */
  constructor(code: VectorFileErrorCode, message: string, context: VectorFileErrorContext = {}) {
    const where = [context.path, context.field !== undefined ? `field ${context.field}` : undefined]
      .filter((s) => s !== undefined)
      .join(', ');
    super(where.length > 0 ? `${where}: ${message}` : message, context.cause !== undefined ? { cause: context.cause } : undefined);
    this.name = 'VectorFileError';
    this.code = code;
    if (context.path !== undefined) this.path = context.path;
    if (context.field !== undefined) this.field = context.field;
  }
}

/**
 * Type guard for {@link VectorError}, optionally of one code.
 *
 * @param err - anything caught.
 * @param code - when given, also require this code.
 */
export function isVectorError(err: unknown, code?: VectorErrorCode): err is VectorError {
  return err instanceof VectorError && (code === undefined || err.code === code);
}

/**
 * Type guard for {@link VectorFileError}, optionally of one code.
 *
 * @param err - anything caught.
 * @param code - when given, also require this code.
 */
export function isVectorFileError(err: unknown, code?: VectorFileErrorCode): err is VectorFileError {
  return err instanceof VectorFileError && (code === undefined || err.code === code);
}
