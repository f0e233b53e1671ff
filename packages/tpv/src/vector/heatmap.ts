/**
 * SVG heatmaps of similarity matrices, like the paper's Figures 2, 3 and 6–9: labelled rows and
 * columns, a colour per cell, the value printed in each cell, and a colour bar. Pure string
 * generation, no dependencies, deterministic output (the same matrix gives the same bytes, so
 * figures can be diffed and regenerated from a results journal).
 *
 * @module
 */
import { formatNumber } from './table.js';

/** Input of {@link renderHeatmapSvg}. */
export interface HeatmapData {
  /** `values[i][j]` for row i, column j; NaN cells are drawn grey with a dash. */
  readonly values: readonly (readonly number[])[];
  /** Row labels (top to bottom). */
  readonly rowLabels: readonly string[];
  /** Column labels (left to right); default: the row labels. */
  readonly colLabels?: readonly string[];
}

/** Options of {@link renderHeatmapSvg}. */
export interface HeatmapOptions {
  /** Title above the map. */
  readonly title?: string;
  /** Value mapped to the low end of the scale (default −1, or 0 when every value is ≥ 0). */
  readonly min?: number;
  /** Value mapped to the high end (default 1). */
  readonly max?: number;
  /** Digits printed in the cells (default 2). */
  readonly decimals?: number;
  /** Cell edge in pixels (default 56). */
  readonly cellSize?: number;
  /** Print values in the cells (default true). */
  readonly showValues?: boolean;
}

type Rgb = readonly [number, number, number];

/** Blue–white–red ("coolwarm"-like) stops for scales spanning zero; white–red for non-negative ones. */
const DIVERGING: readonly Rgb[] = [
  [59, 76, 192],
  [247, 247, 247],
  [180, 4, 38],
];
const SEQUENTIAL: readonly Rgb[] = [
  [247, 247, 247],
  [244, 165, 130],
  [180, 4, 38],
];

function lerp(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as unknown as Rgb;
}

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Black or white text, whichever reads better on the background (relative luminance). */
function textColour([r, g, b]: Rgb): string {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128 ? '#ffffff' : '#000000';
}

/**
 * Escapes text for SVG/XML content and attributes.
 *
 * @param s - raw text.
 */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Rough text width (SVG has no measuring without a renderer): ~0.6 em per character. */
function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.6;
}

/**
 * Renders a heatmap as a standalone SVG document.
 *
 * @param data - values and labels.
 * @param opts - title, scale, decimals, cell size.
 * @returns the SVG text.
 */
export function renderHeatmapSvg(data: HeatmapData, opts: HeatmapOptions = {}): string {
  const rows = data.values.length;
  const cols = Math.max(0, ...data.values.map((r) => r.length));
  const rowLabels = data.rowLabels;
  const colLabels = data.colLabels ?? data.rowLabels;
  const finite = data.values.flat().filter((v) => Number.isFinite(v));
  const min = opts.min ?? (finite.every((v) => v >= 0) ? 0 : -1);
  const max = opts.max ?? 1;
  const stops = min < 0 && max > 0 ? DIVERGING : SEQUENTIAL;
  const span = max - min || 1;
  const cell = opts.cellSize ?? 56;
  const decimals = opts.decimals ?? 2;
  const fontSize = Math.max(8, Math.round(cell / 4.5));
  const labelFont = fontSize + 1;
  const leftPad = Math.ceil(Math.max(0, ...rowLabels.map((l) => textWidth(l, labelFont)))) + 12;
  // Column labels are rotated by −45°; their vertical extent is width·sin 45°.
  const topLabel = Math.ceil(Math.max(0, ...colLabels.map((l) => textWidth(l, labelFont))) * Math.SQRT1_2) + 12;
  const titleH = opts.title !== undefined ? labelFont + 14 : 0;
  const top = titleH + topLabel;
  const barW = 14;
  const barGap = 16;
  const barLabelW = textWidth(formatNumber(-Math.max(Math.abs(min), Math.abs(max)), 2), fontSize) + 8;
  const width = Math.ceil(leftPad + cols * cell + barGap + barW + barLabelW + 8);
  const height = Math.ceil(top + rows * cell + 12);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title !== undefined) {
    out.push(`<text x="${width / 2}" y="${labelFont + 4}" font-size="${labelFont + 2}" text-anchor="middle" font-weight="bold">${escapeXml(opts.title)}</text>`);
  }
  for (let j = 0; j < cols; j++) {
    const x = leftPad + j * cell + cell / 2;
    const y = top - 6;
    out.push(`<text x="${x.toFixed(1)}" y="${y}" font-size="${labelFont}" text-anchor="start" transform="rotate(-45 ${x.toFixed(1)} ${y})">${escapeXml(colLabels[j] ?? '')}</text>`);
  }
  for (let i = 0; i < rows; i++) {
    const y = top + i * cell;
    out.push(`<text x="${leftPad - 6}" y="${(y + cell / 2).toFixed(1)}" font-size="${labelFont}" text-anchor="end" dominant-baseline="middle">${escapeXml(rowLabels[i] ?? '')}</text>`);
    for (let j = 0; j < cols; j++) {
      const v = data.values[i]?.[j] ?? NaN;
      const x = leftPad + j * cell;
      const ok = Number.isFinite(v);
      const rgb: Rgb = ok ? lerp(stops, (v - min) / span) : [204, 204, 204];
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${hex(rgb)}" stroke="#ffffff" stroke-width="1"><title>${escapeXml(`${rowLabels[i] ?? ''} / ${colLabels[j] ?? ''}: ${ok ? String(v) : 'n/a'}`)}</title></rect>`);
      if (opts.showValues !== false) {
        out.push(`<text x="${(x + cell / 2).toFixed(1)}" y="${(y + cell / 2).toFixed(1)}" font-size="${fontSize}" text-anchor="middle" dominant-baseline="middle" fill="${textColour(rgb)}">${ok ? escapeXml(formatNumber(v, decimals)) : '\u2013'}</text>`);
      }
    }
  }
  // Colour bar: a vertical gradient from max (top) to min (bottom) with three ticks.
  const bx = leftPad + cols * cell + barGap;
  const bh = Math.max(cell, rows * cell);
  out.push('<defs><linearGradient id="tpv-heat-bar" x1="0" y1="1" x2="0" y2="0">');
  for (let k = 0; k <= 10; k++) out.push(`<stop offset="${(k / 10).toFixed(1)}" stop-color="${hex(lerp(stops, k / 10))}"/>`);
  out.push('</linearGradient></defs>');
  out.push(`<rect x="${bx}" y="${top}" width="${barW}" height="${bh}" fill="url(#tpv-heat-bar)" stroke="#888888" stroke-width="0.5"/>`);
  for (const [frac, val] of [[0, max], [0.5, (min + max) / 2], [1, min]] as const) {
    out.push(`<text x="${bx + barW + 4}" y="${(top + frac * bh).toFixed(1)}" font-size="${fontSize}" dominant-baseline="middle">${escapeXml(formatNumber(val, 2))}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
