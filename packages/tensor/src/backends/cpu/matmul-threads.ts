/**
 * Multi-threaded float32 GEMM: the wasm SIMD kernel of `matmul-wasm.ts` run on several cores.
 *
 * The op API is synchronous, so the calling thread cannot await workers; instead all threads
 * share one `WebAssembly.Memory({ shared: true })` and a small SharedArrayBuffer of control
 * words, and the caller blocks in `Atomics.wait` (allowed on Node's main thread) until the
 * workers report, through `Atomics.notify`, that their part is done.
 *
 * Division of labour, per pass of {@link WasmGemm.gemmPasses}:
 * - the caller stages and packs the B chunk and a block of A rows into the shared memory (the
 *   inputs live in ordinary, unshared arrays, and packing is O(K·(M+N)) against O(M·N·K) for
 *   the products),
 * - the pass's panel grid is cut into tasks (rectangles of `mc` rows × a few hundred columns)
 *   which the caller and the workers claim dynamically from one atomic counter, so a worker that
 *   is slow to start or descheduled just claims fewer (the caller can do them all),
 * - the caller copies the C block out once every task is done.
 *
 * Every C element is computed by exactly one thread, with the same k-blocks in the same order
 * as the single-threaded kernel, so results are bit-identical to it.
 *
 * Workers are started lazily, once per process, and `unref()`ed so they never keep it alive.
 * If one fails (an exception in a task, an exit, or no progress for {@link setStallTimeoutMs}
 * while the caller waits), the call is redone single-threaded, threading is switched off for
 * the rest of the process, and a warning is emitted once: never a hang, never a wrong result.
 */
import type * as WorkerThreads from 'node:worker_threads';
import type * as Os from 'node:os';

// Loaded synchronously and only where Node provides them, so the engine still imports in a
// browser (where the GEMM simply stays on one thread).
const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
const os = nodeProcess?.getBuiltinModule?.('node:os') as typeof Os | undefined;
const workerThreads = nodeProcess?.getBuiltinModule?.('node:worker_threads') as typeof WorkerThreads | undefined;
import { TensorError } from '../../core/errors.js';
import type { MatView } from './matmul.js';
import { DEFAULT_WASM_GEMM, type GemmPass, WasmGemm, sharedWasmGemm } from './matmul-wasm.js';
import { GEMM_EXPORTS, buildGemmModule } from './wasm/gemm-kernel.js';

/**
 * Fewest multiply-adds worth sharing out. Waking a worker and waiting for it costs tens of µs,
 * and staging and packing stay serial. Measured with 2 threads (Node 20, otherwise idle 2-core
 * VM): 2²¹ MACs (128³, ~100 µs) gains nothing, 2²³ is mixed (−3% at 64×512×256, +4% at
 * 128×256×256, +20% at 128×512×128), 2²⁵ gains 23–33% and 2³⁰ (1024³) 1.7×.
 */
export const MIN_THREAD_MACS = 1 << 24;

/**
 * Fewest rows worth sharing out: each packed B element is used M times, so for small M the
 * (serial) staging and packing of B dominates and extra threads only add synchronisation
 * (16×3072×768 ran 9% slower on 2 threads, 64×768×768 23% faster).
 */
export const MIN_THREAD_ROWS = 32;

/** Most workers the default picks (more cores rarely help a memory-bound small GEMM). */
const MAX_DEFAULT_THREADS = 8;

/** Shared memory ceiling; larger workspaces stay single-threaded (see `RETAIN_BYTES`). */
const MAX_PAGES = 2048; // 128 MiB
const PAGE = 65536;

/** Target floats of one packed A pass: rows per pass ≈ 2²¹ / K (at least `mc`). */
const A_PASS_FLOATS = 1 << 21;

/**
 * Most and fewest columns of one task (multiples of `nr`): narrower tasks balance better, wider
 * ones reuse the A block (in L2) more. Tasks narrow from the most towards the fewest until
 * there are {@link TASKS_PER_THREAD} per thread.
 */
const TASK_COLS = 256;
const MIN_TASK_COLS = 64;
const TASKS_PER_THREAD = 4;

/**
 * Control words (Int32Array indices) of the SharedArrayBuffer shared by the caller and workers.
 * `GEN` is bumped (and notified) to start a pass; tasks are claimed by decrementing `REMAIN`
 * (a claim that leaves it ≥ 0 owns task `NTASKS − old value`), so a late worker's claim either
 * fails or lands in the current pass, whose parameters it reads only after claiming; `DONE`
 * counts finished tasks (notified on each); `ERR` is set by a failing task; `STOP` ends workers.
 */
const C = {
  GEN: 0,
  REMAIN: 1,
  DONE: 2,
  ERR: 3,
  STOP: 4,
  ACTIVE: 5,
  NTASKS: 6,
  aOff: 7,
  bOff: 8,
  cOff: 9,
  mp: 10,
  np: 11,
  K: 12,
  qPer: 13,
  pPer: 14,
  cols: 15,
  /** Tasks run by workers since the pool started (for tests: proof the workers took part). */
  WTASKS: 16,
} as const;
const CTRL_WORDS = 17;

/**
 * The worker: plain CommonJS (run with `eval: true`, so it works from TS sources under test
 * runners and from the built JS alike, with no file to resolve). It instantiates the module on
 * the shared memory and then loops: wait for a new `GEN`, claim and run tasks, repeat. The task
 * body mirrors `WasmGemm.runTask` (the tests check the results are bit-identical).
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, index, mr, nr, KC, blockName, C } = workerData;
const block = new WebAssembly.Instance(module, { env: { mem: memory } }).exports[blockName];
const s = new Int32Array(ctrl);
let gen = workerData.gen;
for (;;) {
  Atomics.wait(s, C.GEN, gen);
  if (Atomics.load(s, C.STOP)) break;
  gen = Atomics.load(s, C.GEN);
  if (index >= Atomics.load(s, C.ACTIVE)) continue;
  for (;;) {
    const r = Atomics.sub(s, C.REMAIN, 1);
    if (r <= 0) break;
    const n = Atomics.load(s, C.NTASKS);
    const t = n - r;
    try {
      const cols = Atomics.load(s, C.cols), qPer = Atomics.load(s, C.qPer), pPer = Atomics.load(s, C.pPer);
      const mp = Atomics.load(s, C.mp), np = Atomics.load(s, C.np), K = Atomics.load(s, C.K);
      const aOff = Atomics.load(s, C.aOff), bOff = Atomics.load(s, C.bOff), cOff = Atomics.load(s, C.cOff);
      const q0 = Math.floor(t / cols) * qPer, q1 = Math.min(mp, q0 + qPer);
      const p0 = (t % cols) * pPer, p1 = Math.min(np, p0 + pPer);
      const mcp = mp * mr, ncp = np * nr;
      if (workerData.failAt === t || workerData.failAt === -1) throw new Error('injected failure');
      if (workerData.exitAt === t || workerData.exitAt === -1) process.exit(1);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        block(4 * (aOff + pc * mcp + q0 * kc * mr), 4 * (bOff + pc * ncp + p0 * kc * nr), 4 * (cOff + q0 * mr * ncp + p0 * nr), 4 * ncp, kc, q1 - q0, p1 - p0, pc > 0 ? 1 : 0);
      }
    } catch (e) {
      Atomics.store(s, C.ERR, 1);
    }
    Atomics.add(s, C.WTASKS, 1);
    Atomics.add(s, C.DONE, 1);
    Atomics.notify(s, C.DONE);
  }
}
`;

/**
 * `TPV_CPU_THREADS`: threads per large float32 matmul, the caller included (1 = the
 * single-threaded kernel). Default `min(availableParallelism, 8)`. Read per call so tests and
 * benchmarks can switch it.
 */
export function cpuThreads(): number {
  const v = typeof process !== 'undefined' ? process.env?.TPV_CPU_THREADS : undefined;
  if (!os || !workerThreads) return 1; // no worker threads outside Node
  if (v === undefined || v === '') {
    const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return Math.max(1, Math.min(n, MAX_DEFAULT_THREADS));
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new TensorError('ARGUMENT', `TPV_CPU_THREADS=${v} is not a thread count (an integer from 1 to 256)`);
  return n;
}

/** Test hooks: make a worker's task throw, or its thread exit, at the given task index (-1: any). */
interface FaultInjection {
  failAt?: number;
  exitAt?: number;
}

let stallTimeoutMs = 10_000;

/**
 * How long the caller waits without any task finishing before it gives up on the workers
 * (default 10 s: a task is at most `mc` rows × 256 columns × K, well under a second even on a
 * busy machine). Exposed for tests.
 */
export function setStallTimeoutMs(ms: number): void {
  stallTimeoutMs = ms;
}

/** The worker pool plus the shared-memory kernel instance the caller drives. */
class GemmPool {
  readonly kernel: WasmGemm;
  readonly ctrl: Int32Array;
  readonly workers: WorkerThreads.Worker[] = [];
  /** Set when a worker errors or exits; the pool is then never used again. */
  broken: string | null = null;
  private readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;

  constructor(private readonly faults: FaultInjection = {}) {
    const cfg = DEFAULT_WASM_GEMM;
    this.memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
    this.module = new WebAssembly.Module(buildGemmModule(cfg, { module: 'env', name: 'mem', maxPages: MAX_PAGES }));
    this.kernel = new WasmGemm(cfg, this.module, this.memory);
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  }

  /** Starts workers until there are `n` (they start asynchronously; claims are dynamic). */
  ensureWorkers(n: number): void {
    const cfg = this.kernel.config;
    while (this.workers.length < n) {
      const w = new workerThreads!.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: this.module,
          memory: this.memory,
          ctrl: this.ctrl.buffer,
          index: this.workers.length,
          gen: Atomics.load(this.ctrl, C.GEN),
          mr: cfg.mr,
          nr: cfg.nr,
          KC: cfg.kc,
          blockName: GEMM_EXPORTS.block,
          C,
          ...this.faults,
        },
      });
      // Events only arrive between calls (the caller blocks its event loop while waiting);
      // a failure during a call is caught by ERR or the stall timeout instead.
      w.on('error', (e) => this.fail(`a GEMM worker failed: ${e.message}`));
      w.on('exit', (code) => this.fail(`a GEMM worker exited (code ${code})`));
      w.unref();
      this.workers.push(w);
    }
  }

  /** Marks the pool broken and stops its workers (they may still be writing shared memory, which is then never read again). */
  fail(reason: string): void {
    if (this.broken) return;
    this.broken = reason;
    Atomics.store(this.ctrl, C.STOP, 1);
    Atomics.add(this.ctrl, C.GEN, 1);
    Atomics.notify(this.ctrl, C.GEN);
    for (const w of this.workers) void w.terminate().catch(() => {});
  }

  /**
   * Runs one pass on `active` workers plus the caller. Returns `false` (and breaks the pool) if
   * any task failed or the workers stalled.
   */
  runPass(pass: GemmPass, active: number): boolean {
    const s = this.ctrl;
    const { mr, nr, mc } = this.kernel.config;
    const qPer = mc / mr;
    const rowsT = Math.ceil(pass.mp / qPer);
    const want = Math.ceil((TASKS_PER_THREAD * (active + 1)) / rowsT); // column groups wanted
    const pPer = Math.max(MIN_TASK_COLS / nr, Math.min(TASK_COLS / nr, Math.ceil(pass.np / want)));
    const cols = Math.ceil(pass.np / pPer);
    const n = rowsT * cols;
    // Parameters first, then the counters: a claim (an atomic on REMAIN) that sees the new
    // count also sees everything stored before it.
    Atomics.store(s, C.aOff, pass.aOff);
    Atomics.store(s, C.bOff, pass.bOff);
    Atomics.store(s, C.cOff, pass.cOff);
    Atomics.store(s, C.mp, pass.mp);
    Atomics.store(s, C.np, pass.np);
    Atomics.store(s, C.K, pass.K);
    Atomics.store(s, C.qPer, qPer);
    Atomics.store(s, C.pPer, pPer);
    Atomics.store(s, C.cols, cols);
    Atomics.store(s, C.NTASKS, n);
    Atomics.store(s, C.ACTIVE, active);
    Atomics.store(s, C.ERR, 0);
    Atomics.store(s, C.DONE, 0);
    Atomics.store(s, C.REMAIN, n);
    Atomics.add(s, C.GEN, 1);
    Atomics.notify(s, C.GEN);
    let failed = false;
    for (;;) {
      const r = Atomics.sub(s, C.REMAIN, 1);
      if (r <= 0) break;
      const t = n - r;
      const q0 = Math.floor(t / cols) * qPer;
      const p0 = (t % cols) * pPer;
      try {
        this.kernel.runTask(pass, q0, Math.min(pass.mp, q0 + qPer), p0, Math.min(pass.np, p0 + pPer));
      } catch {
        failed = true;
      }
      Atomics.add(s, C.DONE, 1);
    }
    // Wait for the tasks workers claimed, in slices, so that a dead worker (which can never
    // finish its task) is noticed after `stallTimeoutMs` without progress rather than never.
    let done = Atomics.load(s, C.DONE);
    let lastProgress = Date.now();
    while (done < n) {
      Atomics.wait(s, C.DONE, done, 50);
      const now = Atomics.load(s, C.DONE);
      const t = Date.now();
      if (now !== done) {
        done = now;
        lastProgress = t;
      } else if (t - lastProgress > stallTimeoutMs) {
        this.fail(`GEMM workers made no progress for ${stallTimeoutMs} ms`);
        return false;
      }
    }
    if (failed || Atomics.load(s, C.ERR) !== 0) {
      this.fail('a GEMM task failed');
      return false;
    }
    return true;
  }
}

let pool: GemmPool | null = null;
let warned = false;
let faults: FaultInjection = {};

/** Test hook: the next pool started gets these injected faults (`{}` for none). */
export function injectFaultsForTests(f: FaultInjection): void {
  faults = f;
}

/** Test hook: tasks run by worker threads (not the caller) since the pool started. */
export function workerTasksForTests(): number {
  return pool ? Atomics.load(pool.ctrl, C.WTASKS) : 0;
}

/** Test hook: stops and forgets the pool, so the next threaded call starts a fresh one. */
export async function resetPoolForTests(): Promise<void> {
  const p = pool;
  pool = null;
  warned = false;
  if (p) {
    p.broken ??= 'reset';
    Atomics.store(p.ctrl, C.STOP, 1);
    Atomics.add(p.ctrl, C.GEN, 1);
    Atomics.notify(p.ctrl, C.GEN);
    await Promise.all(p.workers.map((w) => w.terminate()));
  }
}

function warnOnce(reason: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(`${reason}; float32 matmuls continue single-threaded`, { code: 'TPV_CPU_THREADS' });
}

/** Rows of A per pass: ~{@link A_PASS_FLOATS} floats of packed A, a multiple of `mc`. */
function passRows(K: number, mc: number): number {
  return Math.max(mc, Math.floor(A_PASS_FLOATS / K / mc) * mc);
}

/**
 * C = A·B on `TPV_CPU_THREADS` threads when the product is large enough to gain from them;
 * otherwise (or when threads are unavailable or broken) returns `false` and leaves `c` for the
 * single-threaded kernel. Semantics as `gemm` in `matmul.ts`, results bit-identical to
 * `WasmGemm.gemm`.
 */
export function gemmThreaded(M: number, N: number, K: number, a: MatView, b: MatView, c: Float32Array, cOffset: number): boolean {
  const threads = cpuThreads();
  if (threads <= 1 || M * N * K < MIN_THREAD_MACS || M < MIN_THREAD_ROWS) return false;
  if (pool?.broken) {
    warnOnce(pool.broken);
    return false;
  }
  const base = sharedWasmGemm();
  if (!base) return false;
  const rows = passRows(K, base.config.mc);
  if (base.workspaceBytes(M, N, K, rows) > MAX_PAGES * PAGE) return false;
  if (!pool) {
    try {
      pool = new GemmPool(faults);
    } catch (e) {
      // No SharedArrayBuffer / shared wasm memory / worker_threads: stay single-threaded.
      warnOnce(`cannot start GEMM worker threads (${(e as Error).message})`);
      return false;
    }
  }
  const p = pool;
  try {
    p.ensureWorkers(threads - 1);
  } catch (e) {
    p.fail(`cannot start GEMM worker threads (${(e as Error).message})`);
    warnOnce(p.broken!);
    return false;
  }
  let ok: boolean;
  try {
    ok = p.kernel.gemmPasses(M, N, K, a, b, c, cOffset, rows, (pass) => p.runPass(pass, threads - 1));
  } catch {
    // Staging or packing failed (the shared memory could not grow): no pass was running, so
    // the pool is intact; this call just runs single-threaded.
    return false;
  }
  if (!ok) warnOnce(p.broken ?? 'GEMM worker threads failed');
  return ok;
}
