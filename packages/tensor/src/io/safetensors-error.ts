/**
 * Machine-readable reason for a {@link SafetensorsError}.
 *
 * Callers branch on these (e.g. a loader may retry on `IO` but never on `BAD_HEADER`), so each code
 * names one distinct kind of defect rather than one code path:
 *
 * - `TRUNCATED`: the file ends before the prefix, the header or the data the header describes.
 * - `HEADER_TOO_LARGE`: the declared header length exceeds the cap (defends against huge allocations).
 * - `HEADER_NOT_JSON`: the header is not UTF-8, does not start with `{`, or is not JSON.
 * - `BAD_HEADER`: the JSON is well-formed but not a valid safetensors header (wrong field types).
 * - `BAD_METADATA`: `__metadata__` is not a string-to-string map.
 * - `UNKNOWN_DTYPE`: a dtype this package does not read or write.
 * - `SHAPE_MISMATCH`: byte size (or data length when writing) disagrees with the shape and dtype.
 * - `OFFSET_OUT_OF_RANGE`: offsets are reversed or point outside the data region.
 * - `OVERLAP`: two tensors share bytes.
 * - `NOT_CONTIGUOUS`: a gap between tensors or unclaimed trailing bytes (rejected like the Rust crate).
 * - `MISSING_TENSOR`: the requested name is not in the file.
 * - `INVALID_ARGUMENT`: the caller passed something unusable (bad shape, reserved name, out-of-range value).
 * - `CLOSED`: the file was used after `SafetensorsFile.close()`.
 * - `IO`: the operating system refused a read, write or rename.
 */
export type SafetensorsErrorCode =
  | 'TRUNCATED'
  | 'HEADER_TOO_LARGE'
  | 'HEADER_NOT_JSON'
  | 'BAD_HEADER'
  | 'BAD_METADATA'
  | 'UNKNOWN_DTYPE'
  | 'SHAPE_MISMATCH'
  | 'OFFSET_OUT_OF_RANGE'
  | 'OVERLAP'
  | 'NOT_CONTIGUOUS'
  | 'MISSING_TENSOR'
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'IO';

/** Where an error happened; kept as fields so callers need not parse the message. */
export interface SafetensorsErrorContext {
  /** File being read or written; absent for in-memory buffers. */
  path?: string;
  /** Tensor the problem concerns, when it concerns one. */
  tensor?: string;
  /** Underlying error (typically from `node:fs`). */
  cause?: unknown;
}

/**
 * The only exception type the safetensors reader and writer throw for bad input or I/O failure, so that
 * a caller can tell a corrupt or unreadable file apart from a programming error with one `instanceof`.
 */
export class SafetensorsError extends Error {
  /** Kind of failure; stable across releases, unlike the message text. */
  readonly code: SafetensorsErrorCode;
  /** File the error concerns, if any. */
  readonly path?: string;
  /** Tensor the error concerns, if any. */
  readonly tensor?: string;
  /** The problem alone, without the file/tensor prefix that `message` carries. */
  readonly detail: string;

  /**
   * @param code - kind of failure
   * @param detail - what is wrong, phrased for a human; the file and tensor are prepended automatically
   * @param context - file, tensor and underlying cause
   */
  constructor(code: SafetensorsErrorCode, detail: string, context: SafetensorsErrorContext = {}) {
    const where = context.path !== undefined ? `safetensors file '${context.path}'` : 'safetensors data';
    const what = context.tensor !== undefined ? `, tensor '${context.tensor}'` : '';
    super(`${where}${what}: ${detail} [${code}]`, context.cause !== undefined ? { cause: context.cause } : undefined);
    this.name = 'SafetensorsError';
    this.code = code;
    this.detail = detail;
    if (context.path !== undefined) this.path = context.path;
    if (context.tensor !== undefined) this.tensor = context.tensor;
  }
}
