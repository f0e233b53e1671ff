/**
 * Machine-readable reason for a {@link PeftError}.
 *
 * - `MISSING_FILE`: `adapter_config.json` or `adapter_model.safetensors` is absent.
 * - `BAD_CONFIG`: `adapter_config.json` is not JSON or has wrongly typed / out-of-range values.
 * - `UNSUPPORTED`: another PEFT method or task (LoRA, causal LM, ...), or a pickled `adapter_model.bin`.
 * - `SHAPE_MISMATCH`: the table's shape disagrees with `numTransformerSubmodules × numVirtualTokens × token_dim`.
 * - `MODEL_MISMATCH`: the prompt's width differs from the model's `d_model`.
 * - `BAD_FILE`: the safetensors file is corrupt, or holds other tensors or a non-float table.
 * - `EXISTS`: the target folder exists and is not empty, and `overwrite` was not set.
 * - `IO`: the file system refused a read or write.
 * - `BAD_ARGUMENT`: an option out of range (zero virtual tokens, an origin index below 0, ...).
 */
export type PeftErrorCode =
  | 'MISSING_FILE'
  | 'BAD_CONFIG'
  | 'UNSUPPORTED'
  | 'SHAPE_MISMATCH'
  | 'MODEL_MISMATCH'
  | 'BAD_FILE'
  | 'EXISTS'
  | 'IO'
  | 'BAD_ARGUMENT';

/** The error thrown by soft-prompt creation, loading and saving. */
export class PeftError extends Error {
  /** Kind of failure. */
  readonly code: PeftErrorCode;
  /** Folder or file concerned, when there is one. */
  readonly path: string | undefined;

  /**
   * @param code - kind of failure
   * @param message - what is wrong
   * @param details - the path concerned and the underlying cause
   */
  constructor(code: PeftErrorCode, message: string, details: { path?: string; cause?: unknown } = {}) {
    const where = details.path !== undefined ? `PEFT adapter '${details.path}': ` : '';
    super(`${where}${message} [${code}]`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'PeftError';
    this.code = code;
    this.path = details.path;
  }
}
