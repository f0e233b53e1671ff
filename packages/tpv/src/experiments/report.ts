/**
 * Reports regenerated from the results journal: Markdown tables of mean ± population std (×100) over
 * origins per (task, init, shots) — the layout of the paper's Tables 2/4 —, the RQ2 relative
 * performance table (Fig. 4/10) and an SVG line chart of F1 against shots per init (Fig. 5).
 *
 * Aggregation follows spec §6: scores are fractions, reports multiply by 100 and give the mean and the
 * *population* standard deviation (numpy's `np.std`, ddof = 0) over runs.
 *
 * @module
 */
import { escapeXml } from '../vector/heatmap.js';
import type { JournalRecord } from './journal.js';

/** Mean and population std of values already ×100, and how many runs they cover. */
export interface MeanStd {
  /** Arithmetic mean. */
  mean: number;
  /** Population standard deviation (ddof = 0, as `np.std`). */
  std: number;
  /** Number of runs. */
  n: number;
}

/** Mean and population std of fractions, reported ×100 (spec §6). NaN for an empty list. */
export function meanStd100(fractions: readonly number[]): MeanStd {
  const n = fractions.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const xs = fractions.map((f) => f * 100);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / n);
  return { mean, std, n };
}

/** One aggregated row: a task under one init and shot count, over origins. */
export interface AggregateRow {
  /** Task scored. */
  task: string;
  /** Init label (`random`, `spot:…`, `tpv:…`). */
  init: string;
  /** What the prompt was trained on, when it is more than `task` (SPoT-multi runs). */
  trainedOn: string;
  /** Shots (absent: full data). */
  shots?: number;
  /** Exact match ×100. */
  em: MeanStd;
  /** F1 ×100. */
  f1: MeanStd;
  /** Origins covered, ascending. */
  origins: number[];
}

/** The latest record per cell key (a key re-recorded by hand should not count twice). */
export function latestRecords(records: readonly JournalRecord[]): JournalRecord[] {
  const byKey = new Map<string, JournalRecord>();
  for (const r of records) byKey.set(r.key, r);
  return [...byKey.values()];
}

/** Aggregates prompt-tuning records over origins, per (task, trained-on tasks, init, shots), in first-seen order. */
export function aggregatePromptTuning(records: readonly JournalRecord[]): AggregateRow[] {
  const groups = new Map<string, { task: string; init: string; trainedOn: string; shots?: number; em: number[]; f1: number[]; origins: number[] }>();
  for (const r of latestRecords(records)) {
    if (r.kind !== 'prompt-tuning') continue;
    for (const [task, m] of Object.entries(r.metrics)) {
      const trainedOn = r.tasks.join('+');
      const id = JSON.stringify([task, trainedOn, r.init, r.shots ?? null]);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { task, init: r.init, trainedOn, ...(r.shots !== undefined ? { shots: r.shots } : {}), em: [], f1: [], origins: [] }));
      g.em.push(m.exact_match);
      g.f1.push(m.f1);
      g.origins.push(r.origin);
    }
  }
  return [...groups.values()].map((g) => ({
    task: g.task, init: g.init, trainedOn: g.trainedOn, ...(g.shots !== undefined ? { shots: g.shots } : {}),
    em: meanStd100(g.em), f1: meanStd100(g.f1), origins: [...g.origins].sort((a, b) => a - b),
  }));
}

/** RQ2 relative performance of one pair. */
export interface RelativeRow {
  /** `A+B`. */
  pair: string;
  /** The two tasks. */
  tasks: [string, string];
  /** Mean test EM ×100 of the combination on A and on B. */
  combinationEm: [number, number];
  /** Mean test EM ×100 of the single-task prompts of A and B (NaN when missing). */
  singleEm: [number, number];
  /** combination ÷ single per task (NaN when the single-task runs are missing). */
  ratio: [number, number];
  /** Mean λ* over origins. */
  meanLambda: number;
  /** Origins of the combination runs. */
  origins: number[];
}

/**
 * RQ2 relative performance (spec §8, Fig. 4/10): for each pair and t ∈ {A, B}, the mean over origins
 * of test EM(t | θ₀ + λ*(τ_A + τ_B)) divided by the mean over origins of test EM(t | θ_t). Ratio of
 * means, as the reference computes it (not a mean of per-origin ratios). Single-task runs are the
 * full-data, random-init prompt-tuning records.
 */
export function relativePerformance(records: readonly JournalRecord[]): RelativeRow[] {
  const recs = latestRecords(records);
  const single = (t: string): number => meanStd100(recs
    .filter((r) => r.kind === 'prompt-tuning' && r.tasks.length === 1 && r.tasks[0] === t && r.init === 'random' && r.shots === undefined && r.metrics[t])
    .map((r) => r.metrics[t]!.exact_match)).mean;
  const pairs = new Map<string, JournalRecord[]>();
  for (const r of recs) {
    if (r.kind !== 'addition') continue;
    const p = r.tasks.join('+');
    pairs.set(p, [...(pairs.get(p) ?? []), r]);
  }
  return [...pairs.entries()].map(([pair, rs]) => {
    const tasks = rs[0]!.tasks as [string, string];
    const comb = tasks.map((t) => meanStd100(rs.filter((r) => r.metrics[t]).map((r) => r.metrics[t]!.exact_match)).mean) as [number, number];
    const sing = tasks.map(single) as [number, number];
    const lambdas = rs.map((r) => r.lambda).filter((l): l is number => typeof l === 'number');
    return {
      pair, tasks, combinationEm: comb, singleEm: sing,
      ratio: [comb[0] / sing[0], comb[1] / sing[1]],
      meanLambda: lambdas.length ? lambdas.reduce((a, b) => a + b, 0) / lambdas.length : NaN,
      origins: rs.map((r) => r.origin).sort((a, b) => a - b),
    };
  });
}

/** `85.3 ± 1.2`, or `–` for no runs. */
export function formatMeanStd(m: MeanStd, decimals = 1): string {
  return m.n === 0 || Number.isNaN(m.mean) ? '–' : `${m.mean.toFixed(decimals)} ± ${m.std.toFixed(decimals)}`;
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const shotsLabel = (s: number | undefined) => (s === undefined ? 'full' : String(s));
const byShots = (a: number | undefined, b: number | undefined) => (a ?? Infinity) - (b ?? Infinity);

/**
 * The Markdown report: a long table of every (task, init, shots) group, then one Tables-2/4-style
 * pivot per shot count (rows: init, columns: task, cells: F1 mean ± std), then RQ2's relative
 * performance table when addition records exist.
 */
export function renderReport(records: readonly JournalRecord[], opts: { title?: string } = {}): string {
  const rows = aggregatePromptTuning(records);
  const out: string[] = [`# ${opts.title ?? 'Experiment report'}`, '', `Scores ×100: mean ± population std over origins (spec §6). ${latestRecords(records).length} runs in the journal.`, ''];
  if (rows.length > 0) {
    out.push('## Prompt tuning', '', mdTable(['task', 'trained on', 'init', 'shots', 'origins', 'EM', 'F1'], rows.map((r) => [
      r.task, r.trainedOn, r.init, shotsLabel(r.shots), String(r.em.n), formatMeanStd(r.em), formatMeanStd(r.f1),
    ])), '');
    const shotValues = [...new Set(rows.map((r) => r.shots))].sort(byShots);
    for (const k of shotValues) {
      const at = rows.filter((r) => r.shots === k);
      const tasks = [...new Set(at.map((r) => r.task))];
      const inits = [...new Set(at.map((r) => (r.trainedOn === r.task ? r.init : `${r.init} (trained on ${r.trainedOn})`)))];
      const cell = (init: string, task: string) => at.find((r) => r.task === task && (r.trainedOn === r.task ? r.init : `${r.init} (trained on ${r.trainedOn})`) === init);
      out.push(`### F1 at ${k === undefined ? 'full data' : `${k} shots`}`, '', mdTable(['init', ...tasks], inits.map((i) => [i, ...tasks.map((t) => {
        const c = cell(i, t);
        return c ? formatMeanStd(c.f1) : '–';
      })])), '');
    }
  }
  const rel = relativePerformance(records);
  if (rel.length > 0) {
    const fmt = (x: number, d: number) => (Number.isNaN(x) ? '–' : x.toFixed(d));
    out.push('## RQ2: relative performance of θ₀ + λ*(τ_A + τ_B)', '',
      'Mean test EM of the combination ÷ mean test EM of the single-task prompt, per task (spec §8). **Bold**: both ratios > 0.5.', '',
      mdTable(['pair', 'origins', 'mean λ*', 'EM A (comb / single)', 'EM B (comb / single)', 'ratio A', 'ratio B'], rel.map((r) => {
        const both = r.ratio[0] > 0.5 && r.ratio[1] > 0.5;
        return [both ? `**${r.pair}**` : r.pair, String(r.origins.length), fmt(r.meanLambda, 2),
          `${fmt(r.combinationEm[0], 1)} / ${fmt(r.singleEm[0], 1)}`, `${fmt(r.combinationEm[1], 1)} / ${fmt(r.singleEm[1], 1)}`, fmt(r.ratio[0], 2), fmt(r.ratio[1], 2)];
      })), '');
  }
  if (rows.length === 0 && rel.length === 0) out.push('_No finished runs yet._', '');
  return out.join('\n');
}

/** Tasks with few-shot records (candidates for {@link renderShotsSvg}). */
export function fewShotTasks(records: readonly JournalRecord[]): string[] {
  return [...new Set(aggregatePromptTuning(records).filter((r) => r.shots !== undefined).map((r) => r.task))];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/**
 * A Fig. 5-style line chart for one task: F1 (×100, mean over origins, with a ±std band) against the
 * number of shots, one line per init. Shots are spaced by rank (0, 5, 10 … 1000 are far from uniform
 * on a linear axis) and labelled with their values.
 */
export function renderShotsSvg(records: readonly JournalRecord[], task: string, opts: { width?: number; height?: number; title?: string } = {}): string {
  const rows = aggregatePromptTuning(records).filter((r) => r.task === task && r.shots !== undefined && r.trainedOn === task);
  const W = opts.width ?? 560;
  const H = opts.height ?? 340;
  const m = { l: 48, r: 150, t: 32, b: 40 };
  const shots = [...new Set(rows.map((r) => r.shots!))].sort((a, b) => a - b);
  const inits = [...new Set(rows.map((r) => r.init))];
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x = (k: number) => m.l + (shots.length <= 1 ? pw / 2 : (shots.indexOf(k) / (shots.length - 1)) * pw);
  const y = (v: number) => m.t + ph - (Math.max(0, Math.min(100, v)) / 100) * ph;
  const o: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l + pw / 2}" y="18" font-size="13" text-anchor="middle" font-weight="bold">${escapeXml(opts.title ?? `${task}: F1 vs shots`)}</text>`];
  for (let v = 0; v <= 100; v += 20) {
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  for (const k of shots) o.push(`<text x="${x(k).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${k}</text>`);
  o.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">shots</text>`,
    `<text x="12" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${m.t + ph / 2})">F1 ×100</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  inits.forEach((init, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = shots.map((k) => rows.find((r) => r.init === init && r.shots === k)).filter((r): r is AggregateRow => r !== undefined);
    if (pts.length > 1) {
      const band = [...pts.map((p) => `${x(p.shots!).toFixed(1)},${y(p.f1.mean + p.f1.std).toFixed(1)}`), ...[...pts].reverse().map((p) => `${x(p.shots!).toFixed(1)},${y(p.f1.mean - p.f1.std).toFixed(1)}`)];
      o.push(`<polygon points="${band.join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
        `<polyline points="${pts.map((p) => `${x(p.shots!).toFixed(1)},${y(p.f1.mean).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const p of pts) o.push(`<circle cx="${x(p.shots!).toFixed(1)}" cy="${y(p.f1.mean).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${init}, ${p.shots} shots: ${formatMeanStd(p.f1)} (n=${p.f1.n})`)}</title></circle>`);
    const ly = m.t + 10 + i * 16;
    o.push(`<line x1="${W - m.r + 10}" x2="${W - m.r + 28}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - m.r + 32}" y="${ly + 4}">${escapeXml(init)}</text>`);
  });
  if (rows.length === 0) o.push(`<text x="${m.l + pw / 2}" y="${m.t + ph / 2}" text-anchor="middle">no few-shot runs for ${escapeXml(task)}</text>`);
  o.push('</svg>');
  return o.join('\n');
}
