/**
 * Turning raw dataset rows into seq2seq examples, the TS counterpart of each
 * TPV task's `preprocessor` + `Seq2SeqLM.formater`:
 * `source = " ".join([prefix] + input_texts)`, `target = label word`.
 */

import { TaskError } from './errors.js';
import { resolveTask, type TaskSpec } from './registry.js';

/** A raw dataset row as loaded from JSONL/CSV/Parquet (HF column names). */
export type RawRow = Readonly<Record<string, unknown>>;

/** A formatted example: model input text, target text and class id. */
export interface FormattedExample {
  /** `"<prefix> <segment> <segment> ..."`, e.g. `"mnli premise: ... hypothesis: ..."`. */
  readonly source: string;
  /** The label word (or the numeric string for numeric-label tasks). */
  readonly target: string;
  /** Class id: index into `task.labels`. */
  readonly label: number;
}

/** A tokenizer-like object; only `encode` is needed. */
export interface EncodeLike {
  /** Token ids of `text`. */
  encode(text: string): readonly number[] | ArrayLike<number>;
}

/** Options for {@link maxTargetLength}. */
export interface MaxTargetLengthOptions {
  /**
   * Whether `encode` already appends EOS, like HF `tokenizer.encode` does
   * (default `true`). Set `false` for a bare SentencePiece encoder, and one is
   * added to every length.
   */
  readonly encodeAddsEos?: boolean;
  /** Returned when the task has no label list (reference default 128). */
  readonly defaultMaxLength?: number;
}

const isMissing = (v: unknown): boolean => v === undefined || v === null;

/**
 * Class id of a raw row, validating it against the task's labels.
 *
 * Accepts an integer, or an integer-looking string (CSV/TSV loaders keep
 * strings, where HF's pandas-based CSV reader would have inferred ints).
 * For SciTail (`classNames`), a class-name string (`"neutral"`) is mapped
 * through the alphabetical `class_encode_column` order; an integer is taken
 * as already encoded.
 *
 * @param task - spec or name.
 * @param row - the raw row.
 * @param rowIndex - position of the row, for error messages.
 * @throws {@link TaskError} `MISSING_FIELD` when the label column is absent/null, `BAD_LABEL` when out of range.
 */
export function labelId(task: TaskSpec | string, row: RawRow, rowIndex = 0): number {
  const spec = resolveTask(task);
  const col = spec.labelColumn;
  const raw = row[col];
  if (isMissing(raw)) {
    throw new TaskError('MISSING_FIELD', `Task ${spec.name}: row ${rowIndex} has no label column "${col}".`, {
      task: spec.name,
      field: col,
      rowIndex,
    });
  }
  let id: number | undefined;
  if (typeof raw === 'string' && spec.classNames) {
    const k = spec.classNames.indexOf(raw);
    id = k >= 0 ? k : undefined;
  } else if (typeof raw === 'number') {
    id = raw;
  } else if (typeof raw === 'bigint') {
    id = Number(raw);
  } else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) {
    id = Number(raw.trim());
  }
  if (id === undefined || !Number.isInteger(id) || id < 0 || id >= spec.labels.length) {
    throw new TaskError(
      'BAD_LABEL',
      `Task ${spec.name}: row ${rowIndex} has label ${JSON.stringify(typeof raw === 'bigint' ? raw.toString() : raw)} in "${col}", expected a class id in [0, ${spec.labels.length - 1}]${spec.classNames ? ` or one of ${spec.classNames.join(', ')}` : ''}.`,
      { task: spec.name, field: col, rowIndex, value: typeof raw === 'bigint' ? raw.toString() : raw },
    );
  }
  return id;
}

/**
 * Format one raw row into `{ source, target, label }`.
 *
 * @param task - spec or name.
 * @param row - the raw row (HF column names).
 * @param rowIndex - position of the row, for error messages.
 * @throws {@link TaskError} `MISSING_FIELD` (names field, task and row index), `BAD_FIELD` for a non-string input, `BAD_LABEL`.
 */
export function formatExample(task: TaskSpec | string, row: RawRow, rowIndex = 0): FormattedExample {
  const spec = resolveTask(task);
  const parts: string[] = [spec.prefix];
  for (const seg of spec.segments) {
    if ('text' in seg) {
      parts.push(seg.text);
      continue;
    }
    const v = row[seg.field];
    if (isMissing(v)) {
      throw new TaskError(
        'MISSING_FIELD',
        `Task ${spec.name}: row ${rowIndex} is missing field "${seg.field}".`,
        { task: spec.name, field: seg.field, rowIndex },
      );
    }
    if (typeof v !== 'string') {
      // Python's " ".join raises on non-str items; mirror that instead of coercing silently.
      throw new TaskError(
        'BAD_FIELD',
        `Task ${spec.name}: row ${rowIndex} field "${seg.field}" is a ${typeof v}, expected a string.`,
        { task: spec.name, field: seg.field, rowIndex },
      );
    }
    parts.push(v);
  }
  const label = labelId(spec, row, rowIndex);
  return { source: parts.join(' '), target: spec.labels[label]!, label };
}

/**
 * Format many rows; the error of the first bad row names its index.
 *
 * @param task - spec or name.
 * @param rows - raw rows.
 */
export function formatExamples(task: TaskSpec | string, rows: readonly RawRow[]): FormattedExample[] {
  const spec = resolveTask(task);
  return rows.map((r, i) => formatExample(spec, r, i));
}

/**
 * TPV `get_max_target_length`: the longest tokenized label word, EOS
 * included, over the task's label list. Targets are padded/truncated to it.
 *
 * @param task - spec or name.
 * @param tokenizer - anything with `encode(text) => ids`.
 * @param options - see {@link MaxTargetLengthOptions}.
 */
export function maxTargetLength(
  task: TaskSpec | string,
  tokenizer: EncodeLike,
  options: MaxTargetLengthOptions = {},
): number {
  const spec = resolveTask(task);
  const { encodeAddsEos = true, defaultMaxLength = 128 } = options;
  if (spec.labels.length === 0) return defaultMaxLength;
  const extra = encodeAddsEos ? 0 : 1;
  return Math.max(...spec.labels.map((w) => tokenizer.encode(w).length + extra));
}
