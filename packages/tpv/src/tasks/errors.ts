/**
 * Machine-readable reasons a task, split or loader operation can fail.
 *
 * - `UNKNOWN_TASK`: the name is not in the registry.
 * - `MISSING_FIELD`: a row lacks an input field or the label column (or holds null there).
 * - `BAD_FIELD`: an input field is present but is not a string.
 * - `BAD_LABEL`: a label value is not one of the task's classes.
 * - `MISSING_SPLIT`: an original split the split rules need was not supplied.
 * - `SPLIT_ERROR`: the Hugging Face split/sampling algorithm would raise here
 *   (too few rows, a class with a single member, sizes that do not fit, ...).
 * - `PARSE_ERROR`: a data file is malformed.
 * - `LOAD_ERROR`: a data file or directory could not be found or read.
 */
export type TaskErrorCode =
  | 'UNKNOWN_TASK'
  | 'MISSING_FIELD'
  | 'BAD_FIELD'
  | 'BAD_LABEL'
  | 'MISSING_SPLIT'
  | 'SPLIT_ERROR'
  | 'PARSE_ERROR'
  | 'LOAD_ERROR';

/**
 * Error thrown by everything under `tasks/`. Callers switch on {@link TaskError.code}
 * rather than parsing messages; `details` carries the structured context
 * (task name, row index, field, known names, ...).
 */
export class TaskError extends Error {
  /** What went wrong, see {@link TaskErrorCode}. */
  readonly code: TaskErrorCode;
  /** Structured context for the failure; keys depend on the code. */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code - the failure kind.
   * @param message - a human-readable explanation.
   * @param details - structured context (e.g. `{ task, field, rowIndex }`).
   */
  constructor(code: TaskErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'TaskError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Type guard for {@link TaskError}, optionally of one code.
 *
 * @param err - anything caught.
 * @param code - when given, also require this code.
 */
export function isTaskError(err: unknown, code?: TaskErrorCode): err is TaskError {
  return err instanceof TaskError && (code === undefined || err.code === code);
}
