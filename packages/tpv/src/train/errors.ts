/** Codes for {@link TrainError}. */
export type TrainErrorCode =
  | 'OUTPUT_EXISTS'
  | 'NAN_LOSS'
  | 'BAD_PROMPT'
  | 'NO_DATA'
  | 'RESUME_MISMATCH'
  | 'INTERRUPTED'
  | 'BAD_OPTION';

/** A typed training error; `code` says what went wrong. */
export class TrainError extends Error {
  /** The kind of failure. */
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string) {
    super(message);
    this.name = 'TrainError';
    this.code = code;
  }
}
