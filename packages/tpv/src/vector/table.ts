/**
 * Plain-text tables for terminals and logs (the CLI's similarity and inspect output). Width is counted
 * in code points, so the Unicode minus and `∅` in task labels line up.
 *
 * @module
 */

/** Column alignment. */
export type Align = 'left' | 'right';

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** Per-column alignment (default: left for the first column, right for the others). */
  readonly align?: readonly Align[];
  /** Draw a rule under the header (default true). */
  readonly rule?: boolean;
  /** Separator between columns (default two spaces). */
  readonly gap?: string;
}

function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

/**
 * Renders rows under a header as aligned plain-text lines (no trailing spaces).
 *
 * @param header - column titles.
 * @param rows - cells; short rows are padded with empty cells.
 * @param opts - alignment, header rule, gap.
 * @returns the lines joined with `\n` (no final newline).
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const cols = Math.max(header.length, ...rows.map((r) => r.length));
  const cell = (r: readonly string[], c: number) => r[c] ?? '';
  const widths = Array.from({ length: cols }, (_, c) => Math.max(width(cell(header, c)), ...rows.map((r) => width(cell(r, c)))));
  const align = (c: number): Align => opts.align?.[c] ?? (c === 0 ? 'left' : 'right');
  const gap = opts.gap ?? '  ';
  const line = (r: readonly string[]) => widths.map((w, c) => pad(cell(r, c), w, align(c))).join(gap).replace(/\s+$/u, '');
  const out = [line(header)];
  if (opts.rule !== false) out.push(widths.map((w) => '-'.repeat(w)).join(gap));
  for (const r of rows) out.push(line(r));
  return out.join('\n');
}

/**
 * Formats a number for a table: fixed decimals, `−` for negatives (matching the labels), `nan` for NaN.
 *
 * @param x - the value.
 * @param decimals - digits after the point (default 3).
 */
export function formatNumber(x: number, decimals = 3): string {
  if (Number.isNaN(x)) return 'nan';
  const s = x.toFixed(decimals);
  // −0.000 would suggest a negative value that rounding erased; print it as 0.
  if (/^-0\.?0*$/u.test(s)) return s.slice(1);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}

/**
 * A labelled square matrix (e.g. cosine similarities) as a table.
 *
 * @param labels - row and column labels.
 * @param values - `values[i][j]`.
 * @param decimals - digits after the point (default 3).
 */
export function renderMatrixTable(labels: readonly string[], values: readonly (readonly number[])[], decimals = 3): string {
  return renderTable(
    ['', ...labels],
    values.map((row, i) => [labels[i] ?? '', ...row.map((x) => formatNumber(x, decimals))]),
  );
}
