/**
 * Machine-readable reason for a {@link T5InputError}.
 *
 * - `EMPTY_BATCH`: no rows, or rows of length zero.
 * - `RAGGED`: nested-array rows of different lengths.
 * - `SHAPE`: a tensor of the wrong rank, or two inputs whose shapes disagree.
 * - `DTYPE`: ids that are not int32 (or a mask that is not numeric/bool).
 * - `ID_OUT_OF_RANGE`: a token id outside `[0, vocab_size)` (labels may also be −100), or not an integer.
 * - `BAD_MASK`: an attention mask with values other than 0 and 1.
 * - `MISSING_INPUT`: neither ids nor embeddings, or no decoder input and no labels.
 * - `BAD_ARGUMENT`: an option out of range (negative `maxNewTokens`, ...).
 * - `DISPOSED`: the model was used after `dispose()`.
 */
export type T5InputErrorCode =
  | 'EMPTY_BATCH'
  | 'RAGGED'
  | 'SHAPE'
  | 'DTYPE'
  | 'ID_OUT_OF_RANGE'
  | 'BAD_MASK'
  | 'MISSING_INPUT'
  | 'BAD_ARGUMENT'
  | 'DISPOSED';

/** The error thrown when `forward` or `generate` is given unusable inputs. */
export class T5InputError extends Error {
  /** Kind of failure. */
  readonly code: T5InputErrorCode;
  /** Which argument is wrong (`inputIds`, `labels`, ...). */
  readonly argument: string | undefined;

  /**
   * @param code - kind of failure
   * @param message - what is wrong
   * @param argument - the argument concerned
   */
  constructor(code: T5InputErrorCode, message: string, argument?: string) {
    super(`${argument !== undefined ? `${argument}: ` : ''}${message} [${code}]`);
    this.name = 'T5InputError';
    this.code = code;
    this.argument = argument;
  }
}
