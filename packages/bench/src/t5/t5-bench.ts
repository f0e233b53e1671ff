import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Generator, memory, noGrad, setBackend, tensor, tidy, narrow, randn, keep, type Tensor } from '@tpvjs/tensor';
import { T5ForConditionalGeneration, loadT5Config } from '@tpvjs/t5';
import type { BenchResult } from '../harness.js';

/** Sizes of the model benchmark (the issue's: 8 × 256 input tokens, 4 generated tokens). */
export interface T5BenchOptions {
  /** Path to an HF `config.json` (default: t5-base's, shipped with the bench). */
  config?: string;
  batch?: number;
  srcLen?: number;
  tgtLen?: number;
  newTokens?: number;
  /** Backends to run (default cpu). */
  backends?: string[];
  /** Skip the PyTorch reference. */
  noTorch?: boolean;
  log?: (s: string) => void;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** PyTorch gets as many threads as tpv's CPU matmul uses (TPV_CPU_THREADS, default: all cores, ≤ 8). */
function torchThreads(): number {
  const env = Number(process.env.TPV_CPU_THREADS);
  return Number.isInteger(env) && env > 0 ? env : Math.min(availableParallelism(), 8);
}

function rssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * T5 (random weights at the real architecture) forward, greedy generation and one
 * prompt-tuning step on each backend, side by side with PyTorch on the same machine when
 * `python3 -c "import torch"` works.
 */
export async function benchT5(o: T5BenchOptions = {}): Promise<BenchResult[]> {
  const log = o.log ?? console.log;
  const configPath = o.config ?? here('../../configs/config.t5-base.json');
  const B = o.batch ?? 8;
  const LS = o.srcLen ?? 256;
  const LT = o.tgtLen ?? 4;
  const NEW = o.newTokens ?? 4;
  const caseName = `B${B}×${LS}`;
  const results: BenchResult[] = [];
  for (const backend of o.backends ?? ['cpu']) {
    await setBackend(backend);
    const config = loadT5Config(configPath);
    const gen = new Generator(0);
    const model = T5ForConditionalGeneration.fromConfig(config, { generator: gen });
    const ids = Array.from({ length: B }, (_, b) => Array.from({ length: LS }, (_, i) => 3 + ((b * 7919 + i * 104729) % (config.vocabSize - 3))));
    const labels = ids.map((r) => r.slice(0, LT));
    const inputIds = tensor(ids, { dtype: 'int32' });
    const attentionMask = tensor(ids.map((r) => r.map(() => 1)), { dtype: 'int32' });
    const labelT = tensor(labels, { dtype: 'int32' });
    let peakBytes = 0;
    const track = () => {
      const m = memory().backends[backend];
      if (m) peakBytes = Math.max(peakBytes, m.bytes + m.pooledBytes);
    };
    const fwd = async () => {
      const loss = noGrad(() => tidy(() => model.forward({ inputIds, attentionMask, labels: labelT }).loss!));
      track();
      await loss.item();
      loss.dispose();
    };
    log(`  ${backend}: forward ${caseName}…`);
    await fwd();
    let t0 = performance.now();
    await fwd();
    const fms = performance.now() - t0;
    results.push({ suite: 't5', case: `forward ${caseName}`, impl: `tpv-${backend}`, ms: fms });
    log(`  ${backend}: forward ${fms.toFixed(0)} ms; generate ${NEW} tokens…`);
    await model.generate({ inputIds, attentionMask, maxNewTokens: NEW, eosTokenId: null });
    t0 = performance.now();
    await model.generate({ inputIds, attentionMask, maxNewTokens: NEW, eosTokenId: null });
    track();
    const gms = performance.now() - t0;
    results.push({ suite: 't5', case: `generate ${NEW} tokens`, impl: `tpv-${backend}`, ms: gms });
    log(`  ${backend}: generate ${gms.toFixed(0)} ms; prompt-tuning step…`);
    const table = keep(randn([100, config.dModel], { requiresGrad: true, generator: gen }));
    const softPrompt = { numVirtualTokens: 50, table, encoderPrefix: () => narrow(table, 0, 0, 50) };
    const step = async () => {
      const l = tidy(() => {
        const loss = model.forward({ inputIds, attentionMask, labels: labelT, softPrompt }).loss!;
        loss.backward();
        track();
        return loss.detach();
      });
      await l.item();
      l.dispose();
      await (table.grad as Tensor | null)?.data();
      table.zeroGrad();
    };
    await step();
    t0 = performance.now();
    await step();
    const sms = performance.now() - t0;
    results.push({ suite: 't5', case: `prompt-tuning step ${caseName}`, impl: `tpv-${backend}`, ms: sms, note: `peak ${backend} bytes ${(peakBytes / 2 ** 20).toFixed(0)} MiB, peak RSS ${rssMb().toFixed(0)} MiB` });
    log(`  ${backend}: step ${sms.toFixed(0)} ms, peak tensors ${(peakBytes / 2 ** 20).toFixed(0)} MiB, RSS ${rssMb().toFixed(0)} MiB`);
    table.dispose();
    inputIds.dispose();
    attentionMask.dispose();
    labelT.dispose();
    model.dispose();
  }
  if (!o.noTorch) {
    const py = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0 ? 'python3' : '/usr/bin/python3';
    log('  pytorch reference…');
    const script = process.env.TPV_TORCH_SCRIPT ?? here('../../src/t5/torch_t5.py');
    const r = spawnSync(py, [script, JSON.stringify({ config: configPath, batch: B, src_len: LS, tgt_len: LT, new_tokens: NEW, threads: torchThreads() })], { encoding: 'utf8', timeout: 1_800_000 });
    if (r.status === 0) {
      const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as { forward_ms: number; generate_ms: number; train_step_ms: number; peak_rss_mb: number; threads: number; torch: string; device?: string; gpu?: string; peak_gpu_mb?: number };
      const impl = t.device?.startsWith('cuda') ? 'pytorch-cuda' : 'pytorch-cpu';
      const note = t.gpu ? `torch ${t.torch} on ${t.gpu} (fp32, TF32 off), peak GPU ${t.peak_gpu_mb?.toFixed(0)} MiB` : `torch ${t.torch}, ${t.threads} thread(s), peak RSS ${t.peak_rss_mb.toFixed(0)} MiB`;
      results.push({ suite: 't5', case: `forward ${caseName}`, impl, ms: t.forward_ms, note });
      results.push({ suite: 't5', case: `generate ${NEW} tokens`, impl, ms: t.generate_ms, note });
      results.push({ suite: 't5', case: `prompt-tuning step ${caseName}`, impl, ms: t.train_step_ms, note });
    } else {
      log(`  pytorch not available (${(r.stderr || '').split('\n').filter(Boolean).pop() ?? 'python3 failed'})`);
    }
  }
  return results;
}

/** Markdown table of T5 timings with the ratio to PyTorch (time_pytorch / time_ours: >1 means we are faster). */
export function t5Table(results: BenchResult[]): string {
  const cases = [...new Set(results.map((r) => r.case))];
  const impls = [...new Set(results.map((r) => r.impl))];
  const ours = impls.filter((i) => i.startsWith('tpv'));
  const head = ['case', ...impls.map((i) => `${i} (ms)`), ...ours.map((i) => `speed ${i} / pytorch`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const c of cases) {
    const get = (i: string) => results.find((r) => r.case === c && r.impl === i);
    const torch = get('pytorch-cpu') ?? get('pytorch-cuda');
    lines.push(`| ${c} | ${[...impls.map((i) => get(i)?.ms.toFixed(0) ?? '–'), ...ours.map((i) => (torch && get(i) ? `${(torch.ms / get(i)!.ms).toFixed(3)}×` : '–'))].join(' | ')} |`);
  }
  return lines.join('\n');
}
