/** A point of a training curve. */
export interface CurvePoint {
  step: number;
  value: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Renders training/validation loss curves as a standalone SVG line chart (no dependencies), so
 * a run's `loss-curve.svg` can be opened in any browser.
 */
export function lossCurveSvg(series: { name: string; points: CurvePoint[] }[], title = 'loss'): string {
  const W = 640;
  const H = 360;
  const L = 60;
  const R = 140;
  const T = 36;
  const B = 44;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  const maxStep = Math.max(1, ...all.map((p) => p.step));
  const minV = Math.min(...all.map((p) => p.value), Infinity);
  const maxV = Math.max(...all.map((p) => p.value), -Infinity);
  const lo = Number.isFinite(minV) ? Math.min(0, minV) : 0;
  const hi = Number.isFinite(maxV) && maxV > lo ? maxV : lo + 1;
  const x = (s: number) => L + ((W - L - R) * s) / maxStep;
  const y = (v: number) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${(W - R + L) / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(3)}</text>`);
    const s = (maxStep * i) / 4;
    out.push(`<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${Math.round(s)}</text>`);
  }
  out.push(`<text x="${(W - R + L) / 2}" y="${H - 8}" text-anchor="middle">step</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.value));
    if (!pts.length) return;
    const c = colors[i % colors.length]!;
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts.map((p) => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}"/>`);
    if (pts.length < 40) for (const p of pts) out.push(`<circle cx="${x(p.step)}" cy="${y(p.value)}" r="2.5" fill="${c}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + i * 18}" width="12" height="3" fill="${c}"/>`);
    out.push(`<text x="${W - R + 30}" y="${T + i * 18 + 5}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
