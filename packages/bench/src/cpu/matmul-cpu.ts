import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Tensor, matmul, setBackend, tensor } from '@tpvjs/tensor';
import { type BenchResult, lcgData, timeIt } from '../harness.js';

/** A matmul case: batch × [M×K]·[K×N]. */
export interface MatmulCase {
  name: string;
  batch: number;
  m: number;
  k: number;
  n: number;
}

/** Square sizes plus the T5-base shapes prompt tuning spends its time in. */
export const CPU_MATMUL_CASES: MatmulCase[] = [
  { name: 'mm256', batch: 1, m: 256, k: 256, n: 256 },
  { name: 'mm512', batch: 1, m: 512, k: 512, n: 512 },
  { name: 'mm1024', batch: 1, m: 1024, k: 1024, n: 1024 },
  { name: 't5_attn_proj', batch: 1, m: 256, k: 768, n: 768 },
  { name: 't5_ffn', batch: 1, m: 256, k: 768, n: 3072 },
  { name: 't5_attn_qk', batch: 12, m: 256, k: 64, n: 256 },
];

const flops = (c: MatmulCase) => 2 * c.batch * c.m * c.k * c.n;

function naive(a: Float32Array, b: Float32Array, c: MatmulCase): Float32Array {
  const out = new Float32Array(c.batch * c.m * c.n);
  for (let bt = 0; bt < c.batch; bt++) {
    const ao = bt * c.m * c.k;
    const bo = bt * c.k * c.n;
    const oo = bt * c.m * c.n;
    for (let i = 0; i < c.m; i++)
      for (let j = 0; j < c.n; j++) {
        let s = 0;
        for (let k = 0; k < c.k; k++) s += a[ao + i * c.k + k]! * b[bo + k * c.n + j]!;
        out[oo + i * c.n + j] = s;
      }
  }
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Runs the CPU matmul benchmark: tpv's CPU backend vs tfjs-cpu, numpy and a naive JS loop. */
export async function benchCpuMatmul(cases = CPU_MATMUL_CASES, log: (s: string) => void = console.log): Promise<BenchResult[]> {
  await setBackend('cpu');
  const results: BenchResult[] = [];
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  for (const c of cases) {
    const aShape = c.batch > 1 ? [c.batch, c.m, c.k] : [c.m, c.k];
    const bShape = c.batch > 1 ? [c.batch, c.k, c.n] : [c.k, c.n];
    const aData = lcgData(c.batch * c.m * c.k, 1);
    const bData = lcgData(c.batch * c.k * c.n, 2);
    const ref = c.m * c.n * c.k <= 512 ** 3 ? naive(aData, bData, c) : null;

    const a = tensor(aData, { shape: aShape });
    const b = tensor(bData, { shape: bShape });
    let last: Tensor | null = null;
    const ms = await timeIt(() => {
      last?.dispose();
      last = matmul(a, b);
    });
    const ours = (last as Tensor | null)?.dataSync();
    results.push({ suite: 'matmul-cpu', case: c.name, impl: 'tpv-cpu', ms, gflops: flops(c) / ms / 1e6, maxAbsErr: ref && ours ? maxAbsDiff(ours, ref) : undefined });
    log(`  ${c.name} tpv-cpu ${(flops(c) / ms / 1e6).toFixed(2)} GFLOP/s`);

    const ta = tf.tensor(aData, aShape);
    const tb = tf.tensor(bData, bShape);
    const tms = await timeIt(() => tf.tidy(() => (c.batch > 1 ? tf.matMul(ta as never, tb as never) : tf.matMul(ta as never, tb as never)).dataSync()), undefined, { batches: 3, maxRepeat: 10 });
    results.push({ suite: 'matmul-cpu', case: c.name, impl: 'tfjs-cpu', ms: tms, gflops: flops(c) / tms / 1e6 });
    log(`  ${c.name} tfjs-cpu ${(flops(c) / tms / 1e6).toFixed(2)} GFLOP/s`);
    ta.dispose();
    tb.dispose();

    if (c.m * c.n * c.k <= 256 ** 3 * 12) {
      const nms = await timeIt(() => naive(aData, bData, c), undefined, { batches: 3, maxRepeat: 5 });
      results.push({ suite: 'matmul-cpu', case: c.name, impl: 'naive-js', ms: nms, gflops: flops(c) / nms / 1e6 });
    }
    a.dispose();
    b.dispose();
    (last as Tensor | null)?.dispose();
  }
  for (const r of numpyResults(cases)) results.push(r);
  return results;
}

/** numpy (OpenBLAS) on the same cases, if `python3` with numpy is available; else nothing. */
function numpyResults(cases: MatmulCase[]): BenchResult[] {
  const script = fileURLToPath(new URL('../../src/cpu/numpy-matmul.py', import.meta.url));
  const spec = cases.map((c) => ({
    name: c.name,
    a: c.batch > 1 ? [c.batch, c.m, c.k] : [c.m, c.k],
    b: c.batch > 1 ? [c.batch, c.k, c.n] : [c.k, c.n],
  }));
  const r = spawnSync('python3', [script, JSON.stringify(spec)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return [];
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { case: string; ms: number })
    .map((o) => {
      const c = cases.find((x) => x.name === o.case)!;
      return { suite: 'matmul-cpu', case: o.case, impl: 'numpy', ms: o.ms, gflops: flops(c) / o.ms / 1e6, note: 'OpenBLAS, default threads' };
    });
}
