import type { BenchResult } from './harness.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A grouped bar chart (one group per case, one bar per implementation) of GFLOP/s as a
 * standalone SVG string, so benchmark results can be looked at, not only read.
 */
export function barChart(results: BenchResult[], title: string): string {
  const cases = [...new Set(results.map((r) => r.case))];
  const impls = [...new Set(results.map((r) => r.impl))];
  const vals = results.map((r) => r.gflops ?? r.gbps ?? 0);
  const maxV = Math.max(1e-9, ...vals);
  const W = 110 * cases.length + 160;
  const H = 360;
  const top = 40;
  const plotH = 240;
  const left = 60;
  const group = 110;
  const bw = Math.max(4, (group - 20) / impls.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - 100}" y2="${top + plotH}" stroke="#333"/>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (maxV * t) / 4;
    const y = top + plotH - (plotH * t) / 4;
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
    parts.push(`<line x1="${left}" y1="${y}" x2="${W - 100}" y2="${y}" stroke="#ddd"/>`);
  }
  cases.forEach((c, ci) => {
    const x0 = left + 10 + ci * group;
    impls.forEach((im, ii) => {
      const r = results.find((q) => q.case === c && q.impl === im);
      if (!r) return;
      const v = r.gflops ?? r.gbps ?? 0;
      const h = (plotH * v) / maxV;
      parts.push(`<rect x="${x0 + ii * bw}" y="${top + plotH - h}" width="${bw - 2}" height="${h}" fill="${COLORS[ii % COLORS.length]}"><title>${esc(`${im} ${c}: ${v.toFixed(2)}`)}</title></rect>`);
    });
    parts.push(`<text x="${x0 + (group - 20) / 2}" y="${top + plotH + 16}" text-anchor="middle">${esc(c)}</text>`);
  });
  impls.forEach((im, ii) => {
    parts.push(`<rect x="${W - 92}" y="${top + ii * 18}" width="12" height="12" fill="${COLORS[ii % COLORS.length]}"/>`);
    parts.push(`<text x="${W - 74}" y="${top + ii * 18 + 10}">${esc(im)}</text>`);
  });
  parts.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">GFLOP/s</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
