/**
 * A training progress bar: steps, a bar, live metrics (loss, steps/s) and an ETA. On a terminal
 * it redraws one line in place; elsewhere (CI logs, pipes) it prints a plain line every
 * `logEvery` steps so logs stay readable.
 */

/** Where progress goes; `process.stderr` satisfies it. */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** Options for {@link StepProgress}. */
export interface StepProgressOptions {
  /** Label printed before the bar. */
  label?: string;
  /** Output stream (default stderr). */
  sink?: ProgressSink;
  /** Non-TTY: print every this many steps (default: total/10). */
  logEvery?: number;
  /** Disable output entirely (e.g. `--json`). */
  silent?: boolean;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Progress over a known number of steps. */
export class StepProgress {
  private readonly start = performance.now();
  private readonly sink: ProgressSink;
  private readonly tty: boolean;
  private readonly logEvery: number;
  private lastDraw = 0;
  private startStep = 0;

  constructor(
    /** Total number of steps. */
    readonly total: number,
    private readonly options: StepProgressOptions = {},
  ) {
    this.sink = options.sink ?? process.stderr;
    this.tty = Boolean(this.sink.isTTY);
    this.logEvery = options.logEvery ?? Math.max(1, Math.round(total / 10));
  }

  /** Marks the step the run started from (resumed runs), so steps/s counts only new work. */
  resumeFrom(step: number): void {
    this.startStep = step;
  }

  /** Reports that `step` steps are done, with metrics such as `{ loss: 0.42 }`. */
  update(step: number, metrics: Record<string, number | string> = {}): void {
    if (this.options.silent) return;
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const done = step - this.startStep;
    const rate = done > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - step) / rate : NaN;
    const m = Object.entries(metrics)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 || v === 0 ? v.toFixed(1) : v.toPrecision(4)) : v}`)
      .join('  ');
    const label = this.options.label ? `${this.options.label} ` : '';
    if (this.tty) {
      if (now - this.lastDraw < 100 && step < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round((width * step) / Math.max(1, this.total));
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.sink.write(`\r${label}${bar} ${step}/${this.total}  ${m}  ${rate.toFixed(2)} it/s  ETA ${formatEta(eta)}\x1b[K`);
      if (step >= this.total) this.sink.write('\n');
    } else if (step % this.logEvery === 0 || step >= this.total) {
      this.sink.write(`${label}${step}/${this.total}  ${m}  ${rate.toFixed(2)} it/s  ETA ${formatEta(eta)}\n`);
    }
  }

  /** Ends the line on a terminal. */
  done(): void {
    if (!this.options.silent && this.tty) this.sink.write('\n');
  }
}
