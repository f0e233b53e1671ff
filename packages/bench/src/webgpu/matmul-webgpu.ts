/**
 * WebGPU kernel benchmark: tpv's WebGPU backend (its automatic variant choice and every forced
 * matmul variant) side by side with tfjs-webgpu on the same Dawn adapter, in the same process,
 * each result checked against tpv's CPU backend. Protocol from `spec/peer-bench.md` via
 * `timeIt`: batches of R calls, each batch ending with one read-back of the last output.
 *
 * On lavapipe (Mesa's CPU Vulkan) these numbers say how the kernels use a CPU SIMD emulator,
 * not how they will do on a GPU; the variant table picks differently on real hardware.
 */
import { writeFileSync } from 'node:fs';
import * as T from '@tpvjs/tensor';
import { type BenchResult, type TimeOptions, lcgData, timeIt } from '../harness.js';
import { type GpuCase, gpuCases } from './cases.js';
import { webgpuTable } from './report.js';
import { type Tfjs, loadTfjsWebGPU } from './tfjs-peer.js';

/** A benchmark result (the shared harness record; `note` holds the variant or an error). */
export type Result = BenchResult;

/** Options for {@link benchWebGPUMatmul}. */
export interface WebGPUBenchOptions {
  /** Square matmul sizes (default 256, 512, 1024, 2048). */
  sizes?: number[];
  /** Case groups to run (default all): matmul, t5, softmax, rmsnorm, attention. */
  groups?: GpuCase['group'][];
  /** Forced matmul variants to sweep (default 2, 3, 5; 0 and 1 are added up to 512). */
  variants?: number[];
  /** Compare with tfjs-webgpu (default true). */
  peers?: boolean;
  /** Where to resolve `@tensorflow/tfjs-backend-webgpu` from (default: this package). */
  tfjsFrom?: string;
  /** Check every result against the CPU backend (default true). */
  check?: boolean;
  /** Timing protocol overrides. */
  timing?: TimeOptions;
  /**
   * Repeat every measurement this many times (interleaved per case) and keep the fastest
   * median (default 1). On a shared, noisy host this filters out rounds slowed by other load.
   */
  rounds?: number;
  /** Write the results as JSON here. */
  json?: string;
  /** Progress output (default console.log). */
  log?: (line: string) => void;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const inputData = (c: GpuCase) => c.inputs.map((x, i) => {
  const d = lcgData(x.shape.reduce((p, q) => p * q, 1), i + 1);
  if (x.scale !== undefined) for (let j = 0; j < d.length; j++) d[j]! *= x.scale;
  return d;
});

/** One implementation of a case: times it (protocol of `timeIt`) and returns the last output. */
interface Runner {
  impl: string;
  note?: string;
  measure: () => Promise<{ ms: number; out: ArrayLike<number> }>;
}

/** Times `make` (which returns something with `data()` and `dispose()`), reading back once per batch. */
async function measure<X extends { data(): Promise<unknown>; dispose(): void }>(make: () => X, timing: TimeOptions): Promise<{ ms: number; out: Float32Array }> {
  let last: X | null = null;
  const ms = await timeIt(
    () => {
      last?.dispose();
      last = make();
    },
    async () => {
      await last!.data();
    },
    timing,
  );
  const out = Float32Array.from((await (last as unknown as X).data()) as ArrayLike<number>);
  (last as X | null)?.dispose();
  return { ms, out };
}

function throughput(c: GpuCase, ms: number): Pick<BenchResult, 'gflops' | 'gbps'> {
  return c.flops ? { gflops: c.flops / ms / 1e6 } : { gbps: c.bytes! / ms / 1e6 };
}

/**
 * Runs the benchmark, prints a table (and writes JSON if asked) and returns every result.
 * Requires a WebGPU adapter (lavapipe will do); the tfjs peer is skipped with a note if it is
 * not installed.
 */
export async function benchWebGPUMatmul(opts: WebGPUBenchOptions = {}): Promise<Result[]> {
  const log = opts.log ?? console.log;
  const timing = { batches: 5, ...opts.timing };
  const rounds = Math.max(1, opts.rounds ?? 1);
  const groups = new Set(opts.groups ?? ['matmul', 't5', 'softmax', 'rmsnorm', 'attention']);
  const cases = gpuCases(opts.sizes).filter((c) => groups.has(c.group));
  const variants = opts.variants ?? [2, 3, 5];
  const gpu = (await T.setBackend('webgpu')) as T.WebGPUBackend;
  log(`adapter: ${gpu.info.vendor} ${gpu.info.architecture} ${gpu.info.device} (${gpu.info.description})`);
  let tf: Tfjs | null = null;
  let peerError = '';
  if (opts.peers ?? true) {
    const loaded = await loadTfjsWebGPU(opts.tfjsFrom);
    if ('tf' in loaded) tf = loaded.tf;
    else peerError = loaded.error;
    if (peerError) log(`tfjs-webgpu: ${peerError}`);
  }
  const results: Result[] = [];
  const record = (r: Result) => {
    results.push(r);
    const v = r.gflops ?? r.gbps;
    log(`  ${r.case.padEnd(30)} ${r.impl.padEnd(16)} ${r.ms.toFixed(2).padStart(9)} ms  ${v?.toFixed(2)} ${r.gflops !== undefined ? 'GFLOP/s' : 'GB/s'}${r.note ? `  [${r.note}]` : ''}`);
  };

  for (const c of cases) {
    const data = inputData(c);
    // CPU reference (the engine's own CPU backend, same inputs).
    let ref: Float32Array | null = null;
    if ((opts.check ?? true) && !c.noCheck) {
      await T.setBackend('cpu');
      const xs = data.map((d, i) => T.tensor(d, { shape: c.inputs[i]!.shape }));
      const y = c.tpv(xs);
      ref = Float32Array.from(await y.data());
      T.dispose([xs, y]);
    }
    await T.setBackend('webgpu');
    const xs = data.map((d, i) => T.tensor(d, { shape: c.inputs[i]!.shape }));
    const tfx = tf ? data.map((d, i) => tf!.tensor(d, c.inputs[i]!.shape)) : [];
    const runners: Runner[] = [];
    const tpvRunner = (impl: string, v: number | null, note?: string): Runner => ({
      impl,
      note,
      measure: async () => {
        gpu.matmulVariant = v;
        try {
          return await measure(() => c.tpv(xs), timing);
        } finally {
          gpu.matmulVariant = null;
        }
      },
    });
    runners.push(tpvRunner('tpv-webgpu', null, c.sweep ? `v${autoVariant(c)}` : undefined));
    if (c.sweep) {
      for (const v of new Set([...variants, ...(c.flops! <= 2 * 512 ** 3 ? [0, 1] : [])])) runners.push(tpvRunner(`tpv-webgpu-v${v}`, v));
    }
    if (tf) runners.push({ impl: 'tfjs-webgpu', measure: () => measure(() => c.tfjs(tf!, tfx), timing) });
    // Rounds interleave the implementations, so a burst of load from elsewhere on a shared host
    // hits them alike; each keeps its fastest round.
    const best = new Map<string, { ms: number; out: ArrayLike<number> } | Error>();
    for (let round = 0; round < rounds; round++) {
      for (const r of runners) {
        const prev = best.get(r.impl);
        if (prev instanceof Error) continue;
        try {
          const m = await r.measure();
          if (!prev || m.ms < prev.ms) best.set(r.impl, m);
        } catch (e) {
          best.set(r.impl, e as Error);
        }
      }
    }
    for (const r of runners) {
      const m = best.get(r.impl)!;
      if (m instanceof Error) record({ suite: 'webgpu', case: c.name, impl: r.impl, ms: NaN, note: `ERR ${m.message.slice(0, 120)}` });
      else record({ suite: 'webgpu', case: c.name, impl: r.impl, ms: m.ms, ...throughput(c, m.ms), maxAbsErr: ref ? maxAbsDiff(m.out, ref) : undefined, note: r.note });
    }
    T.dispose(xs);
    tfx.forEach((t) => t.dispose());
    if (!tf && peerError) results.push({ suite: 'webgpu', case: c.name, impl: 'tfjs-webgpu', ms: NaN, note: `ERR ${peerError}` });
  }
  log(`\n${webgpuTable(results)}\n`);
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ adapter: gpu.info, results }, null, 2)}\n`);
  return results;
}

/** The variant the shape table picks for a case's matmul (for the table's note). */
function autoVariant(c: GpuCase): number {
  const [a, b] = c.inputs;
  const batch = a!.shape.length === 3 ? a!.shape[0]! : 1;
  const M = a!.shape[a!.shape.length - 2]!;
  const K = a!.shape[a!.shape.length - 1]!;
  const transB = c.name.includes('Wᵀ');
  const N = transB ? b!.shape[0]! : b!.shape[b!.shape.length - 1]!;
  const gpu = T.findBackend('webgpu') as T.WebGPUBackend;
  return gpu.matmulVariantFor({ batch, M, N, K, transA: false, transB });
}
