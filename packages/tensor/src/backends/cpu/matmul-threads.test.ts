import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from './cpu-backend.js';
import type { MatView } from './matmul.js';
import { MIN_THREAD_MACS, MIN_THREAD_ROWS, cpuThreads, gemmThreaded, injectFaultsForTests, resetPoolForTests, setStallTimeoutMs, workerTasksForTests } from './matmul-threads.js';
import { WasmGemm } from './matmul-wasm.js';

/** A fresh single-threaded kernel: the reference every threaded result must match bit for bit. */
const reference = new WasmGemm();

type Layout = 'row' | 'col' | 'padded' | 'reversed' | 'sparse';
const layoutArb = fc.constantFrom<Layout>('row', 'row', 'col', 'col', 'padded', 'reversed', 'sparse');

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A rows×cols view with the given layout over random float32 (or small int32) data. */
function operand(rows: number, cols: number, layout: Layout, offset: number, int: boolean, seed: number): MatView {
  let rs = cols;
  let cs = 1;
  let base = offset;
  if (layout === 'col') [rs, cs] = [1, rows];
  else if (layout === 'padded') rs = cols + 5;
  else if (layout === 'sparse') [rs, cs] = [3 * cols + 1, 3];
  else if (layout === 'reversed') {
    rs = -cols;
    base = offset + (rows - 1) * cols;
  }
  const size = base + Math.max(0, (rows - 1) * rs) + (cols - 1) * cs + 1;
  const r = rng(seed);
  const data = int ? Int32Array.from({ length: size }, () => Math.floor(r() * 9) - 4) : Float32Array.from({ length: size }, () => r() * 2 - 1);
  return { data, offset: base, rs, cs };
}

function expectBitIdentical(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let bad = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      bad = i;
      break;
    }
  }
  expect(bad, bad >= 0 ? `first difference at ${bad}: ${got[bad]} vs ${want[bad]}` : '').toBe(-1);
}

afterEach(async () => {
  vi.unstubAllEnvs();
  injectFaultsForTests({});
  setStallTimeoutMs(10_000);
});

afterAll(async () => {
  await resetPoolForTests();
});

describe('threaded wasm GEMM', () => {
  it('is bit-identical to the single-threaded kernel on random shapes and strides above the threshold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_THREAD_ROWS, max: 300 }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 600 }),
        layoutArb,
        layoutArb,
        fc.constantFrom(2, 3, 4),
        fc.boolean(),
        fc.integer({ min: 1, max: 1 << 30 }),
        (M, N, K0, la, lb, threads, int, seed) => {
          // Grow K until the product is above the threshold (so the threaded path runs).
          const K = Math.max(K0, Math.ceil(MIN_THREAD_MACS / (M * N)));
          fc.pre(M * N * K <= 1 << 26 && K <= 8192); // keep a case well under a second
          const a = operand(M, K, la, seed % 7, int, seed);
          const b = operand(K, N, lb, seed % 5, false, seed + 1);
          const cOffset = seed % 3;
          const want = new Float32Array(M * N + cOffset + 2).fill(7);
          reference.gemm(M, N, K, a, b, want, cOffset);
          const got = new Float32Array(M * N + cOffset + 2).fill(7);
          vi.stubEnv('TPV_CPU_THREADS', String(threads));
          expect(gemmThreaded(M, N, K, a, b, got, cOffset)).toBe(true);
          expectBitIdentical(got, want);
        },
      ),
      { numRuns: 40 },
    );
    // The caller claims tasks too; make sure the workers did some of the checked work.
    expect(workerTasksForTests()).toBeGreaterThan(0);
  });

  it('covers multiple passes and B chunks (long K, wide N, many rows)', () => {
    // K = 3000: 5 row blocks per pass (640 rows) so 1100 rows take two passes; N = 1100 is two B chunks.
    for (const [M, N, K] of [
      [1100, 1100, 300],
      [700, 260, 3000],
    ] as const) {
      const a = operand(M, K, 'row', 1, false, M);
      const b = operand(K, N, 'col', 2, false, N);
      const want = new Float32Array(M * N);
      reference.gemm(M, N, K, a, b, want, 0);
      const got = new Float32Array(M * N);
      vi.stubEnv('TPV_CPU_THREADS', '2');
      expect(gemmThreaded(M, N, K, a, b, got, 0)).toBe(true);
      expectBitIdentical(got, want);
    }
  });

  it('gives the backend bit-identical batched matmuls (batches, broadcasting, transposes)', () => {
    const be = new CpuBackend();
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_THREAD_ROWS, max: 160 }),
        fc.integer({ min: 32, max: 300 }),
        fc.integer({ min: 64, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        (M, N, K0, batch, transA, transB, broadcastB, seed) => {
          const K = Math.max(K0, Math.ceil(MIN_THREAD_MACS / (M * N)));
          const aShape = [...batch, ...(transA ? [K, M] : [M, K])];
          const bShape = [...(broadcastB ? batch.map(() => 1) : batch), ...(transB ? [N, K] : [K, N])];
          const fill = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s * 78.233));
          const a = { storage: fill(aShape.reduce((x, y) => x * y, 1), seed), shape: aShape, dtype: 'float32' as const };
          const b = { storage: fill(bShape.reduce((x, y) => x * y, 1), seed + 1), shape: bShape, dtype: 'float32' as const };
          const outShape = [...batch, M, N];
          vi.stubEnv('TPV_CPU_MATMUL', 'wasm');
          vi.stubEnv('TPV_CPU_THREADS', '1');
          const one = be.matmul(a, b, transA, transB, outShape) as Float32Array;
          vi.stubEnv('TPV_CPU_THREADS', '2');
          const two = be.matmul(a, b, transA, transB, outShape) as Float32Array;
          expectBitIdentical(two, one);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('follows TPV_CPU_THREADS and the size threshold', () => {
    const M = 64;
    const N = 128;
    const K = MIN_THREAD_MACS / (M * N);
    const a = operand(M, K, 'row', 0, false, 1);
    const b = operand(K, N, 'row', 0, false, 2);
    const c = new Float32Array(M * N);
    vi.stubEnv('TPV_CPU_THREADS', '1');
    expect(cpuThreads()).toBe(1);
    expect(gemmThreaded(M, N, K, a, b, c, 0)).toBe(false); // 1 = the single-threaded path
    vi.stubEnv('TPV_CPU_THREADS', '2');
    expect(gemmThreaded(M, N, K, a, b, c, 0)).toBe(true);
    expect(gemmThreaded(M, N, K - 1, a, b, c, 0)).toBe(false); // just below the threshold
    expect(gemmThreaded(MIN_THREAD_ROWS - 1, N, K * 4, a, b, c, 0)).toBe(false); // too few rows to gain (returns before reading)
    vi.stubEnv('TPV_CPU_THREADS', '');
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    expect(cpuThreads()).toBe(Math.min(cores, 8));
    for (const bad of ['0', '-1', '1.5', 'many']) {
      vi.stubEnv('TPV_CPU_THREADS', bad);
      expect(() => cpuThreads()).toThrow(/TPV_CPU_THREADS/);
    }
  });

  /** Runs threaded products until the pool breaks, checking every result; returns the warnings. */
  async function runUntilBroken(): Promise<string[]> {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const M = 256;
      const N = 512;
      const K = 256;
      const a = operand(M, K, 'row', 0, false, 3);
      const b = operand(K, N, 'row', 0, false, 4);
      const want = new Float32Array(M * N);
      reference.gemm(M, N, K, a, b, want, 0);
      vi.stubEnv('TPV_CPU_THREADS', '2');
      let broke = false;
      for (let i = 0; i < 200 && !broke; i++) {
        const got = new Float32Array(M * N);
        const threaded = gemmThreaded(M, N, K, a, b, got, 0);
        if (!threaded) {
          broke = true;
          reference.gemm(M, N, K, a, b, got, 0); // what gemmWasm does on `false`
        }
        expectBitIdentical(got, want);
        // Let the worker start and its events arrive (the caller blocks its event loop).
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(broke).toBe(true);
      // Once broken, threading stays off (no hang, no retry).
      expect(gemmThreaded(M, N, K, a, b, new Float32Array(M * N), 0)).toBe(false);
      await new Promise((r) => setTimeout(r, 0)); // warnings are emitted on the next tick
      return warnings;
    } finally {
      process.off('warning', onWarning);
    }
  }

  it('falls back to one thread, with a warning, when a worker task throws', async () => {
    await resetPoolForTests();
    injectFaultsForTests({ failAt: -1 });
    const warnings = await runUntilBroken();
    expect(warnings.some((w) => /single-threaded/.test(w))).toBe(true);
    await resetPoolForTests();
  });

  it('falls back to one thread, without hanging, when a worker dies mid-task', async () => {
    await resetPoolForTests();
    injectFaultsForTests({ exitAt: -1 });
    setStallTimeoutMs(300);
    const t0 = Date.now();
    const warnings = await runUntilBroken();
    expect(warnings.some((w) => /single-threaded/.test(w))).toBe(true);
    expect(Date.now() - t0).toBeLessThan(60_000);
    await resetPoolForTests();
  });

  it('lets the process exit normally (workers are unref()ed)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpv-threads-'));
    const script = path.join(dir, 'exit.ts');
    const mod = JSON.stringify(path.join(here, 'matmul-threads.ts'));
    fs.writeFileSync(
      script,
      `import { gemmThreaded } from ${mod};
const M = 256, N = 256, K = 256;
const a = { data: new Float32Array(M * K).fill(1), offset: 0, rs: K, cs: 1 };
const b = { data: new Float32Array(K * N).fill(1), offset: 0, rs: N, cs: 1 };
const c = new Float32Array(M * N);
for (let i = 0; i < 3; i++) if (!gemmThreaded(M, N, K, a, b, c, 0)) throw new Error('not threaded');
if (c[0] !== K) throw new Error('wrong result ' + c[0]);
console.log('done');
`,
    );
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: path.resolve(here, '../../../../..'),
        env: { ...process.env, TPV_CPU_THREADS: '3' },
        timeout: 60_000,
        encoding: 'utf8',
      });
      expect(r.signal, `timed out or killed: ${r.stderr}`).toBeNull();
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe('done');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
