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
import { type BenchResult, table } from './harness.js';
import { barChart } from './svg.js';

const SUITES: Record<string, { run: () => Promise<BenchResult[]>; ratioTo: string[]; title: string }> = {
  'matmul-cpu': { run: () => benchCpuMatmul(), ratioTo: ['tfjs-cpu', 'numpy', 'naive-js'], title: 'CPU matmul, float32 (GFLOP/s)' },
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'string' }, svg: { type: 'string' } },
  });
  const name = positionals[0] ?? 'matmul-cpu';
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite '${name}'; available: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  console.log(`# ${suite.title}\n`);
  const results = await suite.run();
  console.log('\n' + table(results, suite.ratioTo));
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
