/** Codes for {@link TensorError}, so callers can branch on the kind of failure. */
export type TensorErrorCode =
  | 'SHAPE'
  | 'DTYPE'
  | 'ARGUMENT'
  | 'DISPOSED'
  | 'BACKEND'
  | 'AUTOGRAD'
  | 'OUT_OF_MEMORY'
  | 'VALIDATION'
  | 'DEVICE_LOST'
  | 'NO_ADAPTER';

/** A typed error thrown by the tensor engine; `code` says what kind of problem it is. */
export class TensorError extends Error {
  /** The kind of failure. */
  readonly code: TensorErrorCode;
  constructor(code: TensorErrorCode, message: string) {
    super(message);
    this.name = 'TensorError';
    this.code = code;
  }
}
