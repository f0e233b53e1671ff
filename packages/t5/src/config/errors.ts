/**
 * Machine-readable reason for a {@link T5ConfigError}.
 *
 * - `NOT_AN_OBJECT`: the config is not a JSON object (or the file is not JSON).
 * - `MISSING_KEY`: a key with no sensible default is absent (`d_model`).
 * - `BAD_TYPE`: a value has the wrong JSON type (a string where a number belongs, ...).
 * - `BAD_VALUE`: a value is of the right type but out of range (zero heads, negative epsilon, ...).
 * - `UNKNOWN_ACTIVATION`: `feed_forward_proj` / `dense_act_fn` names an activation this port lacks.
 * - `CONTRADICTION`: two keys disagree (`feed_forward_proj: "relu"` with `is_gated_act: true`, ...).
 * - `UNSUPPORTED_MODEL`: `model_type` is not a T5 variant this port implements.
 * - `IO`: the file could not be read.
 */
export type T5ConfigErrorCode =
  | 'NOT_AN_OBJECT'
  | 'MISSING_KEY'
  | 'BAD_TYPE'
  | 'BAD_VALUE'
  | 'UNKNOWN_ACTIVATION'
  | 'CONTRADICTION'
  | 'UNSUPPORTED_MODEL'
  | 'IO';

/**
 * The error thrown for an unusable T5 `config.json`. `key` names the offending config key so that
 * callers (and humans) need not parse the message.
 */
export class T5ConfigError extends Error {
  /** Kind of failure; stable across releases, unlike the message. */
  readonly code: T5ConfigErrorCode;
  /** The config key the problem concerns, when it concerns one. */
  readonly key: string | undefined;
  /** File the config came from, when known. */
  readonly source: string | undefined;

  /**
   * @param code - kind of failure
   * @param message - what is wrong and, where possible, what would be right
   * @param details - the key and the file concerned
   */
  constructor(code: T5ConfigErrorCode, message: string, details: { key?: string; source?: string; cause?: unknown } = {}) {
    const where = details.source !== undefined ? `T5 config '${details.source}'` : 'T5 config';
    super(`${where}: ${message} [${code}]`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'T5ConfigError';
    this.code = code;
    this.key = details.key;
    this.source = details.source;
  }
}
