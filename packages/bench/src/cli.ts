#!/usr/bin/env node
/**
 * `node packages/bench/dist/cli.js <suite> [--json out.json] [--svg out.svg]` — runs a benchmark
 * suite, prints a Markdown table with ratios to the peers measured in the same run, and writes
 * JSON (and an SVG bar chart) for the record.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCpuMatmul } from './cpu/matmul-cpu.js';
import { benchT5, t5Table } from './t5/t5-bench.js';
import { benchWebGPUMatmul } from './webgpu/matmul-webgpu.js';
import { webgpuTable } from './webgpu/report.js';
import { type BenchResult, table } from './harness.js';
import { barChart } from './svg.js';

interface Suite {
  run: (args: Record<string, string | boolean | undefined>) => Promise<BenchResult[]>;
  ratioTo: string[];
  title: string;
  render?: (r: BenchResult[]) => string;
}

const num = (v: unknown, d: number) => (typeof v === 'string' ? Number(v) : d);

const SUITES: Record<string, Suite> = {
  'matmul-cpu': { run: () => benchCpuMatmul(), ratioTo: ['tfjs-cpu', 'numpy', 'naive-js'], title: 'CPU matmul, float32 (GFLOP/s)' },
  webgpu: {
    run: (a) => benchWebGPUMatmul({ rounds: num(a.rounds, 1), ...(typeof a['tfjs-from'] === 'string' ? { tfjsFrom: a['tfjs-from'] } : {}) }),
    ratioTo: [],
    title: 'WebGPU kernels vs tfjs-webgpu on the same Dawn adapter',
    render: (r) => webgpuTable(r),
  },
  t5: {
    run: (a) =>
      benchT5({
        batch: num(a.batch, 8),
        srcLen: num(a['src-len'], 256),
        newTokens: num(a['new-tokens'], 4),
        backends: typeof a.backends === 'string' ? a.backends.split(',') : ['cpu'],
        ...(typeof a.config === 'string' ? { config: a.config } : {}),
        noTorch: a['no-torch'] === true,
      }),
    ratioTo: [],
    title: 'T5 (random weights, real architecture): forward, greedy generation, prompt-tuning step',
    render: t5Table,
  },
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      svg: { type: 'string' },
      batch: { type: 'string' },
      'src-len': { type: 'string' },
      'new-tokens': { type: 'string' },
      backends: { type: 'string' },
      config: { type: 'string' },
      'no-torch': { type: 'boolean' },
      rounds: { type: 'string' },
      'tfjs-from': { type: 'string' },
    },
  });
  const name = positionals[0] ?? 'matmul-cpu';
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite '${name}'; available: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  console.log(`# ${suite.title}\n`);
  const results = await suite.run(values);
  console.log('\n' + (suite.render ? suite.render(results) : table(results, suite.ratioTo)));
  const write = (p: string, s: string) => {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, s);
  };
  if (values.json) write(values.json, JSON.stringify({ suite: name, date: new Date().toISOString(), node: process.version, results }, null, 2));
  if (values.svg) write(values.svg, barChart(results, suite.title));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
