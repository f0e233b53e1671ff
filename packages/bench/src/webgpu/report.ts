/**
 * Side-by-side table of the WebGPU benchmark: one row per case, tpv's automatic choice next to
 * tfjs-webgpu with their ratio, then every forced matmul variant.
 */
import type { BenchResult } from '../harness.js';

const value = (r: BenchResult | undefined) => (r ? (r.gflops ?? r.gbps) : undefined);
const fmt = (v: number | undefined) => (v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(2));

/** Markdown table of results (throughput: GFLOP/s, or GB/s for memory-bound rows). */
export function webgpuTable(results: readonly BenchResult[]): string {
  const cases = [...new Set(results.map((r) => r.case))];
  const variants = [...new Set(results.map((r) => r.impl).filter((i) => /^tpv-webgpu-v\d$/.test(i)))].sort();
  const head = ['case', 'unit', 'tpv-webgpu (auto)', 'tfjs-webgpu', 'tpv / tfjs', ...variants.map((v) => v.replace('tpv-webgpu-', '')), 'max |err| vs cpu'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const c of cases) {
    const get = (impl: string) => results.find((r) => r.case === c && r.impl === impl);
    const auto = get('tpv-webgpu');
    const peer = get('tfjs-webgpu');
    const a = value(auto);
    const p = value(peer);
    const unit = auto?.gbps !== undefined ? 'GB/s' : 'GFLOP/s';
    const autoCell = `${fmt(a)}${auto?.note ? ` (${auto.note})` : ''}`;
    const ratio = a !== undefined && p ? `${(a / p).toFixed(2)}×` : '–';
    const err = auto?.maxAbsErr === undefined ? '–' : auto.maxAbsErr.toExponential(1);
    const peerCell = peer?.note?.startsWith('ERR') ? peer.note : fmt(p);
    const cells = [c, unit, autoCell, peerCell, ratio, ...variants.map((v) => fmt(value(get(v)))), err];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
