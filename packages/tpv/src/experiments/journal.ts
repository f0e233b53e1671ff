/**
 * The results journal: an append-only JSON Lines file with one record per finished experiment run.
 *
 * Why JSONL and append-only: a grid of runs can take days and may be killed at any moment. Each
 * record is written as one `write(2)` on a file opened with `O_APPEND`, so a crash leaves at worst one
 * truncated last line, never a half-rewritten file. Reports are regenerated from the journal, so it
 * is the single source of truth for what finished.
 *
 * @module
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Scores of one task, as fractions in [0, 1] (reports multiply by 100). */
export interface TaskScores {
  /** Exact match (16-character truncation, spec §6). */
  exact_match: number;
  /** The task's F1 (binary positive-class F1 or macro F1, spec §6). */
  f1: number;
}

/**
 * How a prompt-tuning run was initialised (spec §8): the origin θ₀ itself, a trained source prompt
 * (SPoT-single), or θ₀ + τ_A + τ_B (the TPV combination, λ = 1).
 */
export type InitSpec = 'random' | { spot: string } | { tpv: string[] };

/** One finished run. */
export interface JournalRecord {
  /** Experiment name (the grid spec's `name`). */
  experiment: string;
  /** Unique key of the cell (see `cellKey`); `isDone` compares it. */
  key: string;
  /** `prompt-tuning` (training, possibly 0-shot) or `addition` (RQ2 θ₀ + λ(τ_A + τ_B)). */
  kind: 'prompt-tuning' | 'addition';
  /** The task(s) the run trained or evaluated on. */
  tasks: string[];
  /** Origin index (θ₀ = sampled-vocab origin `origin`). */
  origin: number;
  /** Initialisation label: `random`, `spot:<task>`, `tpv:<a>+<b>` (see `initLabel`). */
  init: string;
  /** k of a few-shot run; absent for full-data runs. */
  shots?: number;
  /** Test scores per task. */
  metrics: Record<string, TaskScores>;
  /** Step of the best validation loss (absent when nothing was trained). */
  bestStep?: number;
  /** Best mean validation loss (absent when nothing was trained). */
  bestLoss?: number;
  /** λ chosen by the validation search (addition runs). */
  lambda?: number;
  /** The PEFT adapter folder of the resulting prompt, when one was saved. */
  promptPath?: string;
  /** ISO time the run started. */
  started: string;
  /** ISO time the run finished. */
  finished: string;
}

/** A line of the journal that could not be read. */
export interface JournalProblem {
  /** 1-based line number. */
  line: number;
  /** Why it was skipped. */
  reason: string;
  /** True for the last line without a final newline: the signature of a write cut short by a crash. */
  truncated: boolean;
}

/** Records and problems read from a journal. */
export interface JournalContents {
  /** Well-formed records in file order. */
  records: JournalRecord[];
  /** Lines that were skipped (truncated or corrupt). */
  problems: JournalProblem[];
}

function isRecord(x: unknown): x is JournalRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.key === 'string' && typeof r.experiment === 'string' && Array.isArray(r.tasks) && typeof r.origin === 'number'
    && typeof r.init === 'string' && typeof r.metrics === 'object' && r.metrics !== null;
}

/**
 * Parses journal text. Unreadable lines are reported, not fatal: a truncated last line means the
 * run it described did not finish, so skipping it makes that cell run again, which is what we want.
 */
export function parseJournal(text: string): JournalContents {
  const records: JournalRecord[] = [];
  const problems: JournalProblem[] = [];
  const lines = text.split('\n');
  const endsClean = text.length === 0 || text.endsWith('\n');
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const last = i === lines.length - 1 && !endsClean;
    try {
      const v: unknown = JSON.parse(raw);
      if (!isRecord(v)) problems.push({ line: i + 1, reason: 'not a journal record', truncated: false });
      // A last line that parses but lacks its newline was fully written except for '\n': keep it.
      else records.push(v);
    } catch (e) {
      problems.push({ line: i + 1, reason: last ? 'truncated last line (an interrupted write)' : `invalid JSON: ${(e as Error).message}`, truncated: last });
    }
  });
  return { records, problems };
}

/** An append-only results journal at a file path (created on first append). */
export class Journal {
  private cache: JournalContents | undefined;

  /** @param path - the `.jsonl` file. */
  constructor(readonly path: string) {}

  /** Reads every record (and reports unreadable lines); a missing file is an empty journal. */
  read(): JournalContents {
    const c = existsSync(this.path) ? parseJournal(readFileSync(this.path, 'utf8')) : { records: [], problems: [] };
    this.cache = c;
    return c;
  }

  /** Well-formed records (re-read from disk). */
  records(): JournalRecord[] {
    return this.read().records;
  }

  /** Whether a record with this cell key exists, i.e. the cell finished and must not run again. */
  isDone(key: string): boolean {
    return (this.cache ?? this.read()).records.some((r) => r.key === key);
  }

  /** The latest record of a cell, if it finished. */
  get(key: string): JournalRecord | undefined {
    return (this.cache ?? this.read()).records.slice().reverse().find((r) => r.key === key);
  }

  /**
   * Appends one record as a single write on an `O_APPEND` descriptor, then fsyncs, so that a record
   * is either entirely in the file or (after a crash mid-write) a truncated last line that readers skip.
   * If the file does not end with a newline (a previous write was cut short), a newline is written
   * first in the same write so the new record never fuses with the broken fragment.
   */
  append(record: JournalRecord): void {
    mkdirSync(dirname(this.path), { recursive: true });
    let prefix = '';
    if (existsSync(this.path)) {
      const text = readFileSync(this.path, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
    }
    const buf = Buffer.from(`${prefix}${JSON.stringify(record)}\n`, 'utf8');
    const fd = openSync(this.path, 'a');
    try {
      let off = 0;
      // writeSync may write less than asked on some file systems; loop, still on the append descriptor.
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.cache) this.cache.records.push(record);
  }
}
