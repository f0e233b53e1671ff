import { describe, expect, it } from 'vitest';
import { escapeXml, renderHeatmapSvg } from './heatmap.js';
import { formatNumber, renderMatrixTable, renderTable } from './table.js';
import { formatTasks, parseTasks } from './task-set.js';

describe('text tables', () => {
  it('aligns columns by code points and trims trailing spaces', () => {
    const t = renderTable(['name', 'value'], [['+ a \u2212 b', '1.000'], ['long_name', '−0.500']]);
    expect(t.split('\n')).toEqual([
      'name        value',
      '---------  ------',
      '+ a \u2212 b     1.000',
      'long_name  −0.500',
    ]);
    expect(formatNumber(-0.0001, 3)).toBe('0.000');
    expect(formatNumber(-0.5, 2)).toBe('\u22120.50');
    expect(formatNumber(Number.NaN)).toBe('nan');
    expect(renderMatrixTable(['a', 'b'], [[1, 0.25], [0.25, 1]]).split('\n')[2]).toBe('a  1.000  0.250');
  });
});

describe('SVG heatmap', () => {
  const svg = renderHeatmapSvg({ values: [[1, -0.5], [Number.NaN, 0.25]], rowLabels: ['+ mnli_text', 'a<b & "c"'] }, { title: 'Cosine' });

  it('is a well-formed standalone SVG with labels, values, colours and a colour bar', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>+ mnli_text<');
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).not.toContain('a<b');
    expect(svg).toContain('>1.00<');
    expect(svg).toContain('>\u22120.50<');
    expect(svg).toContain('>\u2013<'); // NaN cell
    expect(svg).toContain('fill="#b40426"'); // +1 is the red end of the diverging scale
    expect(svg).toContain('linearGradient');
    expect(svg).toContain('>Cosine<');
    // Balanced tags (a cheap well-formedness check without an XML parser).
    const opens = (svg.match(/<(?!\/)[a-zA-Z]+[^>]*[^/]>/g) ?? []).length;
    const closes = (svg.match(/<\/[a-zA-Z]+>/g) ?? []).length;
    expect(opens).toBe(closes);
  });

  it('is deterministic and uses a sequential scale for non-negative data', () => {
    expect(renderHeatmapSvg({ values: [[0.1]], rowLabels: ['x'] })).toBe(renderHeatmapSvg({ values: [[0.1]], rowLabels: ['x'] }));
    const seq = renderHeatmapSvg({ values: [[0, 1]], rowLabels: ['r'], colLabels: ['c0', 'c1'] });
    expect(seq).toContain('fill="#f7f7f7"'); // 0 is white on a 0..1 scale
    expect(escapeXml(`'`)).toBe('&apos;');
  });
});

describe('task multisets', () => {
  it('parses reference-style names and prints them canonically', () => {
    expect(formatTasks(parseTasks('mnli_text'))).toBe('+ mnli_text');
    expect(formatTasks(parseTasks('+ qnli_text + mnli_text - sst2_text'))).toBe('+ mnli_text + qnli_text \u2212 sst2_text');
    expect(formatTasks(parseTasks('+ a \u2212 a'))).toBe('\u2205');
    expect(formatTasks(parseTasks('-a +b b'), { ascii: true })).toBe('- a + b + b');
    expect(formatTasks(parseTasks({ x: 2, y: -1 }))).toBe('+ x + x \u2212 y');
    expect(formatTasks(parseTasks(['p', 'q']))).toBe('+ p + q');
    expect(() => parseTasks('+ +a')).toThrow(/two signs/);
    expect(() => parseTasks('a +')).toThrow(/dangling/);
    expect(() => parseTasks(new Map([['__proto__', 1]]))).toThrow(/invalid task name/);
    expect(() => parseTasks({ a: 0.5 })).toThrow(/safe integer/);
  });
});
