/**
 * Machine-readable reason for a {@link T5WeightsError}.
 *
 * - `MISSING_TENSOR`: the config needs a tensor the checkpoint lacks.
 * - `UNEXPECTED_TENSOR`: the checkpoint holds a tensor this architecture has no place for.
 * - `SHAPE_MISMATCH`: a tensor exists but its shape disagrees with the config.
 * - `BAD_DTYPE`: a tensor is not floating point (F32, F16, BF16 or F64).
 * - `ARCHITECTURE_MISMATCH`: the checkpoint is for another architecture than the config describes
 *   (other feed-forward kind, layer count, widths, tying), reported once with the differences
 *   instead of as dozens of per-tensor problems.
 * - `BAD_INDEX`: a sharded checkpoint's `model.safetensors.index.json` is malformed or inconsistent.
 * - `NO_WEIGHTS`: neither `model.safetensors` nor `model.safetensors.index.json` exists.
 * - `BAD_FILE`: a safetensors file is corrupt or unreadable (the cause is attached).
 */
export type T5WeightsErrorCode =
  | 'MISSING_TENSOR'
  | 'UNEXPECTED_TENSOR'
  | 'SHAPE_MISMATCH'
  | 'BAD_DTYPE'
  | 'ARCHITECTURE_MISMATCH'
  | 'BAD_INDEX'
  | 'NO_WEIGHTS'
  | 'BAD_FILE';

/** One problem found while checking a checkpoint against a config. */
export interface T5WeightsProblem {
  /** Kind of problem. */
  readonly code: 'MISSING_TENSOR' | 'UNEXPECTED_TENSOR' | 'SHAPE_MISMATCH' | 'BAD_DTYPE';
  /** HF state-dict name of the tensor. */
  readonly tensor: string;
  /** Human-readable detail (expected vs. found). */
  readonly detail: string;
}

/**
 * The error thrown when T5 weights cannot be loaded for a config. `tensor` names the (first)
 * offending tensor; `problems` lists every problem found, so a caller can show them all.
 */
export class T5WeightsError extends Error {
  /** Kind of failure. */
  readonly code: T5WeightsErrorCode;
  /** The first tensor concerned, when the problem concerns tensors. */
  readonly tensor: string | undefined;
  /** Every problem found (empty for file-level failures). */
  readonly problems: readonly T5WeightsProblem[];
  /** File or directory the weights came from. */
  readonly source: string | undefined;

  /**
   * @param code - kind of failure
   * @param message - what is wrong
   * @param details - the tensor, the full problem list, the file and the underlying cause
   */
  constructor(
    code: T5WeightsErrorCode,
    message: string,
    details: { tensor?: string; problems?: readonly T5WeightsProblem[]; source?: string; cause?: unknown } = {},
  ) {
    const where = details.source !== undefined ? `T5 weights '${details.source}'` : 'T5 weights';
    super(`${where}: ${message} [${code}]`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'T5WeightsError';
    this.code = code;
    this.tensor = details.tensor;
    this.problems = details.problems ?? [];
    this.source = details.source;
  }
}
