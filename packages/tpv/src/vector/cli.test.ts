import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SoftPrompt } from '@tpvjs/t5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVectorCommand, type VectorIo } from './cli.js';
import { loadTpv } from './file.js';
import { readPromptSource } from './peft.js';
import { sameBits } from './__tests__/arbitraries.js';

let dir: string;
const ROWS = 4;
const DIM = 6;
const origin = Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.fround(Math.sin(i) * 0.7));
const tunedA = Float32Array.from(origin, (x, i) => Math.fround(x + (i % 5) * 0.01 - 0.02));
const tunedB = Float32Array.from(origin, (x, i) => Math.fround(x - Math.cos(i) * 0.03));

async function savePrompt(folder: string, data: Float32Array, base = 't5-base'): Promise<void> {
  const p = SoftPrompt.fromArray(data, { numVirtualTokens: ROWS / 2, numTransformerSubmodules: 2, tokenDim: DIM });
  try {
    await p.savePeft(path.join(dir, folder), { baseModelNameOrPath: base });
  } finally {
    p.dispose();
  }
}

function capture(): VectorIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, write: (l) => out.push(l), error: (l) => err.push(l), cwd: dir };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpv-cli-'));
  await savePrompt('origin_0', origin);
  await savePrompt('mnli', tunedA);
  await savePrompt('qnli', tunedB);
  await savePrompt('large_origin', origin, 't5-large');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tpv vector (end to end on temporary files)', () => {
  it('create → combine → apply → similarity → inspect', async () => {
    // create
    let io = capture();
    let r = await runVectorCommand(['create', '--tuned', 'mnli', '--origin', 'origin_0', '--task', 'mnli_text', '--out', 'a.tpv'], io);
    expect(r.exitCode).toBe(0);
    expect(io.out[0]).toMatch(/^wrote a\.tpv: \+ mnli_text \(t5-base, \[4, 6\], origin origin_0/);
    r = await runVectorCommand(['create', '--tuned', 'qnli', '--origin', 'origin_0', '--task', 'qnli_text', '--out', 'b.tpv'], capture());
    expect(r.exitCode).toBe(0);
    const a = loadTpv(path.join(dir, 'a.tpv'));
    expect(sameBits(a.applyTo(origin), tunedA)).toBe(true);

    // combine
    io = capture();
    r = await runVectorCommand(['combine', 'a.tpv', 'b.tpv', '--out', 'ab.tpv'], io);
    expect(r.exitCode).toBe(0);
    expect(r.result).toMatchObject({ command: 'combine', method: 'sum', tasks: '+ mnli_text + qnli_text', modelId: 't5-base', originId: 'origin_0' });
    const ab = loadTpv(path.join(dir, 'ab.tpv'));
    expect(ab.provenance).toMatchObject({ method: 'sum', command: 'tpv vector combine' });
    r = await runVectorCommand(['combine', 'a.tpv', 'b.tpv', '--out', 'ties.tpv', '--method', 'ties', '--density', '0.5', '--lambda', '0.8'], capture());
    expect(r.exitCode).toBe(0);
    expect(loadTpv(path.join(dir, 'ties.tpv')).provenance).toMatchObject({ method: 'ties', density: 0.5, lambda: 0.8 });
    expect((await runVectorCommand(['combine', 'a.tpv', 'b.tpv', '--out', 'ab.tpv'], capture())).exitCode).toBe(1); // exists
    expect((await runVectorCommand(['combine', 'a.tpv', 'b.tpv', '--out', 'ab.tpv', '--overwrite'], capture())).exitCode).toBe(0);

    // apply: λ = 1 of a single vector to its own origin is the tuned prompt, bit for bit
    io = capture();
    r = await runVectorCommand(['apply', 'a.tpv', '--origin', 'origin_0', '--out', 'applied_a'], io);
    expect(r.exitCode).toBe(0);
    expect(sameBits((await readPromptSource(path.join(dir, 'applied_a'))).data, tunedA)).toBe(true);
    r = await runVectorCommand(['apply', '--file', 'ab.tpv', '--origin', 'origin_0', '--lambda', '0.35', '--out', 'applied_ab'], capture());
    expect(r.exitCode).toBe(0);
    const applied = await readPromptSource(path.join(dir, 'applied_ab'));
    expect(sameBits(applied.data, ab.applyTo(origin, 0.35))).toBe(true);
    expect(applied.sidecar).toMatchObject({ content: 'prompt', lambda: 0.35, taskString: '+ mnli_text + qnli_text', originId: 'origin_0' });
    io = capture();
    r = await runVectorCommand(['apply', 'ab.tpv', '--origin', 'origin_0', '--out', 'applied_ab'], io);
    expect(r.exitCode).toBe(1);
    expect(io.err[0]).toMatch(/already exists/);
    io = capture();
    r = await runVectorCommand(['apply', 'ab.tpv', '--origin', 'large_origin', '--out', 'wrong_model'], io);
    expect(r.exitCode).toBe(1);
    expect(io.err[0]).toMatch(/t5-base.*t5-large.*--force/);
    expect(fs.existsSync(path.join(dir, 'wrong_model'))).toBe(false);

    // similarity: table + SVG, and JSON; prompts (folders) and vectors (files) side by side
    io = capture();
    r = await runVectorCommand(['similarity', 'a.tpv', 'b.tpv', 'ab.tpv', '--svg', 'sim.svg'], io);
    expect(r.exitCode).toBe(0);
    expect(io.out[0]).toMatch(/\+ mnli_text/);
    expect(io.out).toHaveLength(2 + 3 + 1);
    expect(fs.readFileSync(path.join(dir, 'sim.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const sim = r.result as { matrix: number[][]; labels: string[] };
    expect(sim.matrix[0]![0]).toBeCloseTo(1, 12);
    expect(sim.labels).toEqual(['+ mnli_text', '+ qnli_text', '+ mnli_text + qnli_text']);
    io = capture();
    r = await runVectorCommand(['similarity', 'mnli', 'qnli', 'origin_0', '--json'], io);
    expect(r.exitCode).toBe(0);
    const parsed = JSON.parse(io.out[0]!) as { labels: string[]; matrix: number[][] };
    expect(parsed.labels).toEqual(['mnli', 'qnli', 'origin_0']);
    expect(parsed.matrix[0]![1]).toBeGreaterThan(0.9); // prompts are dominated by their shared origin

    // inspect
    io = capture();
    r = await runVectorCommand(['inspect', 'ab.tpv'], io);
    expect(r.exitCode).toBe(0);
    expect(io.out.join('\n')).toMatch(/tasks\s+\+ mnli_text \+ qnli_text/);
    expect(io.out.join('\n')).toMatch(/stored as\s+float64/);
    io = capture();
    r = await runVectorCommand(['inspect', 'a.tpv', '--json'], io);
    const info = JSON.parse(io.out[0]!) as Record<string, unknown>;
    expect(info).toMatchObject({ command: 'inspect', tasks: '+ mnli_text', taskCounts: { mnli_text: 1 }, modelId: 't5-base', shape: [4, 6], size: 24 });
  });

  it('reports usage errors with exit code 2 and file errors with exit code 1, one line each, no stack', async () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /Usage: tpv vector/],
      [['frobnicate'], 2, /unknown command/],
      [['create', '--tuned', 'mnli', '--origin', 'origin_0', '--task', 'x'], 2, /--out is required/],
      [['create', '--bogus'], 2, /Unknown option/],
      [['combine', 'a.tpv', '--out', 'z.tpv', '--density', 'lots'], 2, /--density must be a number/],
      [['combine', 'a.tpv', '--out', 'z.tpv', '--method', 'avg'], 2, /--method must be one of/],
      [['apply', 'a.tpv', 'b.tpv', '--origin', 'o', '--out', 'x'], 2, /exactly one/],
      [['inspect', 'missing.tpv'], 1, /no such file/],
      [['create', '--tuned', 'nope', '--origin', 'origin_0', '--task', 'x', '--out', 'n.tpv'], 1, /no such file or folder/],
      [['combine', 'a.tpv', '--out', 'z.tpv', '--method', 'ties', '--density', '2'], 1, /density must be a number in \(0, 1\]/],
    ];
    // Make sure a.tpv exists for the cases that need it.
    await runVectorCommand(['create', '--tuned', 'mnli', '--origin', 'origin_0', '--task', 'mnli_text', '--out', 'a.tpv', '--overwrite'], capture());
    for (const [argv, code, msg] of cases) {
      const io = capture();
      const r = await runVectorCommand(argv, io);
      expect(r.exitCode, argv.join(' ')).toBe(code);
      expect(io.err.join('\n'), argv.join(' ')).toMatch(msg);
      expect(io.err.join('\n')).not.toMatch(/\n\s+at /);
    }
    const io = capture();
    expect((await runVectorCommand(['--help'], io)).exitCode).toBe(0);
    expect(io.out[0]).toMatch(/Usage/);
    expect((await runVectorCommand(['inspect', '--help'], capture())).exitCode).toBe(0);
  });
});
