/**
 * Timing protocol shared by every benchmark (mirrors `spec/peer-bench.md`): warm up, pick a
 * repeat count R so one batch takes ~`targetMs`, time several batches of R back-to-back calls
 * (each batch ends with a completion/readback), report the median per-call time.
 */

/** One measured implementation on one case. */
export interface BenchResult {
  /** Benchmark family, e.g. `matmul-cpu`. */
  suite: string;
  /** Case name, e.g. `mm1024` or `t5_ffn`. */
  case: string;
  /** Implementation, e.g. `tpv-cpu`, `tfjs-cpu`, `numpy`. */
  impl: string;
  /** Median milliseconds per call. */
  ms: number;
  /** Throughput in GFLOP/s (compute-bound kernels) if meaningful. */
  gflops?: number;
  /** Throughput in GB/s (memory-bound kernels) if meaningful. */
  gbps?: number;
  /** Max abs difference from the reference check, when checked. */
  maxAbsErr?: number;
  /** Free-form notes (threads, variant, errors). */
  note?: string;
}

/** Options for {@link timeIt}. */
export interface TimeOptions {
  /** Target duration of one batch in ms (default 300). */
  targetMs?: number;
  /** Number of timed batches (default 5). */
  batches?: number;
  /** Upper bound on calls per batch (default 50). */
  maxRepeat?: number;
}

/**
 * Times `run` (which may return a promise) and `finish` (awaited once per batch, e.g. a GPU
 * readback). Returns the median ms per call.
 */
export async function timeIt(run: () => unknown, finish: () => Promise<void> = async () => {}, opts: TimeOptions = {}): Promise<number> {
  const target = opts.targetMs ?? 300;
  const batches = opts.batches ?? 5;
  const maxRepeat = opts.maxRepeat ?? 50;
  let t0 = performance.now();
  await run();
  await finish();
  let est = performance.now() - t0;
  if (est < 3000) {
    t0 = performance.now();
    await run();
    await finish();
    est = performance.now() - t0;
  }
  const R = Math.max(1, Math.min(maxRepeat, Math.round(target / Math.max(est, 1e-3))));
  const per: number[] = [];
  for (let b = 0; b < (est > 3000 ? 3 : batches); b++) {
    t0 = performance.now();
    for (let r = 0; r < R; r++) await run();
    await finish();
    per.push((performance.now() - t0) / R);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

/** Deterministic uniform(−1, 1) float32 data (an LCG, so every implementation sees the same inputs). */
export function lcgData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Renders results as a Markdown table with throughput and a ratio to `baseline` per case. */
export function table(results: BenchResult[], ratioTo: string[]): string {
  const cases = [...new Set(results.map((r) => r.case))];
  const impls = [...new Set(results.map((r) => r.impl))];
  const head = ['case', ...impls.map((i) => `${i} (GFLOP/s)`), ...ratioTo.map((b) => `tpv-cpu / ${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const c of cases) {
    const get = (i: string) => results.find((r) => r.case === c && r.impl === i);
    const val = (r?: BenchResult) => (r ? (r.gflops ?? r.gbps ?? 0) : undefined);
    const cells = impls.map((i) => {
      const v = val(get(i));
      return v === undefined ? '–' : v.toFixed(2);
    });
    const ours = val(get(results.find((r) => r.case === c && r.impl.startsWith('tpv'))?.impl ?? ''));
    const ratios = ratioTo.map((b) => {
      const v = val(get(b));
      return ours !== undefined && v ? `${(ours / v).toFixed(2)}×` : '–';
    });
    lines.push(`| ${c} | ${[...cells, ...ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}
