/**
 * A dependency-free, single-line download progress bar for stderr.
 *
 * Written here rather than pulling `cli-progress` (an optional dependency of
 * `@huggingface/hub`) because we need very little: one line, redrawn in place
 * with `\r`, showing bytes, speed and ETA.
 *
 * @module
 */

import type { HubEnv } from './config.js';

/** One progress report for a file being downloaded. */
export interface DownloadProgress {
  /** Repo-relative filename, e.g. `model.safetensors`. */
  file: string;
  /** Bytes on disk so far, including bytes resumed from an earlier partial download. */
  loaded: number;
  /** Final size in bytes. */
  total: number;
}

/** Callback receiving {@link DownloadProgress} reports; called at start, after each chunk and at the end. */
export type ProgressCallback = (event: DownloadProgress) => void;

/** Minimal writable used by the bar; `process.stderr` satisfies it. */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** Present (and true) on terminals. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/**
 * Whether to draw the default bar: `TPV_PROGRESS=1` forces it on, `TPV_PROGRESS=0`
 * forces it off, otherwise only when the stream is a terminal (so logs and CI
 * output are not filled with redraws).
 */
export function shouldShowProgress(env: HubEnv = process.env, stream: ProgressStream = process.stderr): boolean {
  const flag = env['TPV_PROGRESS'];
  if (flag === '1') return true;
  if (flag === '0') return false;
  return stream.isTTY === true;
}

/** Human-readable size in decimal units (kB, MB, GB), as the Hub's web UI shows sizes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/** `m:ss` or `h:mm:ss`; `--:--` when unknown (no speed measured yet). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Inputs of {@link renderProgressLine}. */
export interface ProgressLine extends DownloadProgress {
  /** Measured speed in bytes per second (NaN when unknown). */
  bytesPerSecond: number;
  /** Maximum line width in characters. */
  width: number;
}

/**
 * Renders one line, e.g.
 * `model.safetensors  45% [=========>           ] 45.0 MB/100 MB 12.3 MB/s ETA 0:04`.
 * Pure, so the format is unit-testable.
 */
export function renderProgressLine(p: ProgressLine): string {
  const frac = p.total > 0 ? Math.min(1, p.loaded / p.total) : 1;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const speed = Number.isFinite(p.bytesPerSecond) ? `${formatBytes(p.bytesPerSecond)}/s` : '-- B/s';
  const eta =
    p.loaded >= p.total
      ? 'done'
      : `ETA ${formatDuration(p.bytesPerSecond > 0 ? (p.total - p.loaded) / p.bytesPerSecond : NaN)}`;
  const tail = ` ${pct} [BAR] ${formatBytes(p.loaded)}/${formatBytes(p.total)} ${speed} ${eta}`;
  // Give the name up to 30 chars, the bar what's left (10..30), then trim the name if still too wide.
  let name = p.file.length > 30 ? `…${p.file.slice(-29)}` : p.file;
  const barWidth = Math.max(10, Math.min(30, p.width - name.length - (tail.length - 3) - 1));
  const filled = Math.round(frac * barWidth);
  const bar = frac >= 1 ? '='.repeat(barWidth) : '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(barWidth - filled);
  const line = tail.replace('[BAR]', `[${bar}]`);
  const room = p.width - line.length - 1;
  if (name.length > room) name = room > 1 ? `…${name.slice(-(room - 1))}` : '';
  return name + line;
}

/** A progress bar bound to one stream; feed it events, then `end()` it. */
export interface ProgressBar {
  /** Records an event and redraws if enough time passed (always redraws the final 100% state). */
  update(event: DownloadProgress): void;
  /** Draws the last state and moves to a new line; idempotent. Call it on errors too, so later output starts on a fresh line. */
  end(): void;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Where to draw; default `process.stderr`. */
  stream?: ProgressStream;
  /** Minimum milliseconds between redraws; default 100 on a terminal, 1000 otherwise (keeps logs short). */
  minIntervalMs?: number;
  /** Clock in milliseconds, injectable for tests; default `performance.now`. */
  now?: () => number;
}

/**
 * Creates the default stderr bar used when downloads run without an
 * `onProgress` callback. Speed and ETA are measured from the first event, and
 * exclude bytes resumed from an earlier partial download (they were not
 * transferred now).
 */
export function createProgressBar(options: ProgressBarOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const minInterval = options.minIntervalMs ?? (stream.isTTY ? 100 : 1000);
  let first: { t: number; loaded: number } | undefined;
  let last: DownloadProgress | undefined;
  let lastDraw = -Infinity;
  let lastLen = 0;
  let ended = false;

  const draw = (e: DownloadProgress): void => {
    const t = now();
    const elapsed = first ? (t - first.t) / 1000 : 0;
    const bps = first && elapsed > 0 ? (e.loaded - first.loaded) / elapsed : NaN;
    const width = Math.max(40, (stream.columns ?? 80) - 1);
    const line = renderProgressLine({ ...e, bytesPerSecond: bps, width });
    // Pad with spaces instead of an ANSI clear-line so non-terminal logs stay clean.
    stream.write(`\r${line}${' '.repeat(Math.max(0, lastLen - line.length))}`);
    lastLen = line.length;
    lastDraw = t;
  };

  return {
    update(e) {
      if (ended) return;
      first ??= { t: now(), loaded: e.loaded };
      last = e;
      if (e.loaded >= e.total || now() - lastDraw >= minInterval) draw(e);
    },
    end() {
      if (ended) return;
      ended = true;
      if (last) {
        draw(last);
        stream.write('\n');
      }
    },
  };
}
