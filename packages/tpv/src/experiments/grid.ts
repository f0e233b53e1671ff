/**
 * Experiment grids: a spec lists cells (task(s) × origins × shots × initialisation), which expand to
 * independent runs executed one after another and recorded in a {@link Journal}. A re-run skips every
 * cell the journal already holds, and a cell interrupted mid-training continues from its checkpoint,
 * so a grid killed at any point is finished by running the same command again.
 *
 * The trainer is injected (`GridDeps.train`): tests pass a fake, the CLI passes `createCellTrainer`.
 *
 * @module
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatEta } from '../util/progress.js';
import { type InitSpec, Journal, type JournalRecord, type TaskScores } from './journal.js';

/** A typed error of the experiment layer (bad spec, missing source prompt). */
export class ExperimentError extends Error {
  constructor(
    /** Machine-readable reason. */
    readonly code: 'BAD_SPEC' | 'MISSING_SOURCE' | 'BAD_JOURNAL',
    message: string,
  ) {
    super(message);
    this.name = 'ExperimentError';
  }
}

/** Training settings shared by every cell of a grid (unset: the paper's defaults, spec §7). */
export interface GridTraining {
  /** Prompt length (50). */
  numVirtualTokens?: number;
  /** Total steps; few-shot runs default to 1000, full runs to the task's epochs. */
  maxSteps?: number;
  /** Batch size (32; few-shot: the paper's k-dependent size). */
  batchSize?: number;
  /** Linear warmup steps (500). */
  warmupSteps?: number;
  /** Evaluate/checkpoint every this many steps (100). */
  evalEvery?: number;
  /** Peak learning rate (0.3). */
  lr?: number;
  /** Stratified caps on the splits (for smoke runs). */
  maxTrain?: number;
  maxValid?: number;
  maxTest?: number;
  /** Source length (256). */
  maxSourceLength?: number;
  /** Generation length at test time (128). */
  maxNewTokens?: number;
  /** λ grid of addition cells (default 0, 0.05, …, 1). */
  lambdaGrid?: number[];
}

/** One line of a grid spec; expands to one run per origin (× shots). */
export interface CellSpec {
  /** `prompt-tuning` trains (or, with 0 shots, only evaluates) a prompt; `addition` is RQ2's θ₀ + λ(τ_A + τ_B). */
  kind: 'prompt-tuning' | 'addition';
  /** Task(s): several for SPoT multi-task training; exactly two for `addition`. */
  tasks: string[];
  /** Origin indices (sampled-vocab origins, spec §4). */
  origins: number[];
  /** Few-shot sizes k; absent means full training data. */
  shots?: number[];
  /** Initialisation of `prompt-tuning` cells (default `random`). */
  init?: InitSpec;
}

/** A grid: a name, its cells, and shared training settings. */
export interface GridSpec {
  /** Experiment name, written into every journal record. */
  name: string;
  /** Cells, run in this order: put source-prompt cells before the cells that use their prompts. */
  cells: CellSpec[];
  /** Shared settings. */
  training?: GridTraining;
}

/** One run of the grid. */
export interface Cell {
  /** Experiment name. */
  experiment: string;
  /** Run kind. */
  kind: CellSpec['kind'];
  /** Task(s). */
  tasks: string[];
  /** Origin index. */
  origin: number;
  /** Initialisation (`random` for addition cells). */
  init: InitSpec;
  /** k, or absent for full data. */
  shots?: number;
  /** Unique, stable key (journal key and output folder name). */
  key: string;
}

/** `random`, `spot:<a>[+<b>]` or `tpv:<a>+<b>`: the init as it appears in keys, journal and reports. */
export function initLabel(init: InitSpec): string {
  if (init === 'random') return 'random';
  if ('spot' in init) return `spot:${([] as string[]).concat(init.spot).join('+')}`;
  return `tpv:${init.tpv.join('+')}`;
}

/**
 * The stable key of a run, e.g. `prompt-tuning/scitail_text/tpv:mnli_text+qnli_text/k100/o3`.
 * It excludes the experiment name so that the same run is never repeated by two specs sharing an output folder.
 */
export function cellKey(c: Omit<Cell, 'key' | 'experiment'>): string {
  return `${c.kind}/${c.tasks.join('+')}/${initLabel(c.init)}/${c.shots === undefined ? 'full' : `k${c.shots}`}/o${c.origin}`;
}

/** A file-system-safe folder name for a key. */
export function cellDirName(key: string): string {
  return key.replace(/\//g, '__').replace(/[^A-Za-z0-9_.+:=-]/g, '_');
}

const isStrArray = (x: unknown): x is string[] => Array.isArray(x) && x.length > 0 && x.every((s) => typeof s === 'string' && s.length > 0);
const isIntArray = (x: unknown, min: number): x is number[] => Array.isArray(x) && x.length > 0 && x.every((n) => Number.isInteger(n) && n >= min);

/** Validates a parsed JSON grid spec, with a message naming the first bad field. */
export function parseGridSpec(json: unknown): GridSpec {
  const bad = (m: string): never => {
    throw new ExperimentError('BAD_SPEC', `grid spec: ${m}`);
  };
  if (typeof json !== 'object' || json === null) bad('expected an object');
  const s = json as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name === '') bad('"name" must be a non-empty string');
  if (!Array.isArray(s.cells) || s.cells.length === 0) bad('"cells" must be a non-empty array');
  const cells = (s.cells as unknown[]).map((raw, i): CellSpec => {
    const c = (raw ?? {}) as Record<string, unknown>;
    const at = `cells[${i}]`;
    if (c.kind !== 'prompt-tuning' && c.kind !== 'addition') bad(`${at}.kind must be "prompt-tuning" or "addition"`);
    if (!isStrArray(c.tasks)) bad(`${at}.tasks must be a non-empty array of task names`);
    if (!isIntArray(c.origins, 0)) bad(`${at}.origins must be a non-empty array of integers ≥ 0`);
    if (c.shots !== undefined && !isIntArray(c.shots, 0)) bad(`${at}.shots must be an array of integers ≥ 0`);
    const init = c.init ?? 'random';
    const okInit = init === 'random'
      || (typeof init === 'object' && init !== null && 'spot' in init && (typeof (init as { spot: unknown }).spot === 'string' || isStrArray((init as { spot: unknown }).spot)))
      || (typeof init === 'object' && init !== null && 'tpv' in init && isStrArray((init as { tpv: unknown }).tpv));
    if (!okInit) bad(`${at}.init must be "random", {"spot": task | [tasks]} or {"tpv": [tasks]}`);
    if (c.kind === 'addition' && ((c.tasks as string[]).length !== 2 || init !== 'random' || c.shots !== undefined)) {
      bad(`${at}: an addition cell has exactly two tasks and no init or shots`);
    }
    return { kind: c.kind as CellSpec['kind'], tasks: c.tasks as string[], origins: c.origins as number[], ...(c.shots ? { shots: c.shots as number[] } : {}), init: init as InitSpec };
  });
  if (s.training !== undefined && (typeof s.training !== 'object' || s.training === null)) bad('"training" must be an object');
  return { name: s.name as string, cells, ...(s.training ? { training: s.training as GridTraining } : {}) };
}

/** Expands a spec into runs: for each cell line, shots (outer) × origins (inner), in spec order. Duplicates are dropped. */
export function expandGrid(spec: GridSpec): Cell[] {
  const out: Cell[] = [];
  const seen = new Set<string>();
  for (const c of spec.cells) {
    const init = c.init ?? 'random';
    for (const shots of c.shots ?? [undefined]) {
      for (const origin of c.origins) {
        const base = { kind: c.kind, tasks: c.tasks, origin, init, ...(shots !== undefined ? { shots } : {}) };
        const key = cellKey(base);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ experiment: spec.name, ...base, key });
      }
    }
  }
  return out;
}

/** What a cell's trainer reports. */
export interface CellOutcome {
  /** Test scores per task. */
  metrics: Record<string, TaskScores>;
  /** Best step and validation loss (when trained). */
  bestStep?: number;
  bestLoss?: number;
  /** λ* of an addition cell. */
  lambda?: number;
  /** The saved prompt (PEFT adapter folder). */
  promptPath?: string;
}

/** Context handed to a cell's trainer. */
export interface CellContext {
  /** This cell's own output folder. */
  outDir: string;
  /** True when `outDir` holds a training checkpoint to continue from. */
  resume: boolean;
  /** The journal (to find source prompts of earlier cells). */
  journal: Journal;
  /** Shared training settings of the spec. */
  training: GridTraining;
}

/** Runs one cell; must be deterministic given the cell so that resuming is sound. */
export type CellTrainer = (cell: Cell, ctx: CellContext) => Promise<CellOutcome>;

/** Dependencies of {@link runGrid}. */
export interface GridDeps {
  /** The journal to record finished runs in (and to skip them). */
  journal: Journal;
  /** Root output folder; cell `k` writes to `<outDir>/runs/<cellDirName(k)>`. */
  outDir: string;
  /** The trainer. */
  train: CellTrainer;
  /** One progress line per event (default: nothing). */
  log?: (line: string) => void;
  /** Clock in ms (injectable for tests of the ETA). */
  now?: () => number;
}

/** Summary of a {@link runGrid} call. */
export interface GridRunSummary {
  /** Keys run by this call. */
  ran: string[];
  /** Keys skipped because the journal already had them. */
  skipped: string[];
  /** Keys of this grid now in the journal. */
  total: number;
}

/**
 * Runs every unfinished cell sequentially (one model in memory; runs would only compete for the same
 * cores) and appends one journal record as each finishes. A failing cell stops the grid with its
 * error; the cells before it are recorded, so re-running continues where it stopped.
 */
export async function runGrid(spec: GridSpec, deps: GridDeps): Promise<GridRunSummary> {
  const cells = expandGrid(spec);
  const log = deps.log ?? (() => {});
  const now = deps.now ?? (() => Date.now());
  deps.journal.read();
  const todo = cells.filter((c) => !deps.journal.isDone(c.key));
  const skipped = cells.filter((c) => deps.journal.isDone(c.key)).map((c) => c.key);
  if (skipped.length > 0) log(`${spec.name}: ${skipped.length} of ${cells.length} cells already in the journal; ${todo.length} to run`);
  const ran: string[] = [];
  const t0 = now();
  for (const [i, cell] of todo.entries()) {
    const outDir = join(deps.outDir, 'runs', cellDirName(cell.key));
    const resume = existsSync(join(outDir, 'train', 'checkpoint', 'state.json'));
    // A folder without a checkpoint holds nothing recoverable (the run died before its first
    // evaluation); clearing it lets the trainer start cleanly instead of refusing an existing folder.
    if (!resume && existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
    log(`[${skipped.length + i + 1}/${cells.length}] ${cell.key}${resume ? ' (resuming from checkpoint)' : ''}`);
    const started = new Date(now()).toISOString();
    const out = await deps.train(cell, { outDir, resume, journal: deps.journal, training: spec.training ?? {} });
    const record: JournalRecord = {
      experiment: cell.experiment, key: cell.key, kind: cell.kind, tasks: cell.tasks, origin: cell.origin, init: initLabel(cell.init),
      ...(cell.shots !== undefined ? { shots: cell.shots } : {}),
      metrics: out.metrics,
      ...(out.bestStep !== undefined ? { bestStep: out.bestStep } : {}),
      ...(out.bestLoss !== undefined ? { bestLoss: out.bestLoss } : {}),
      ...(out.lambda !== undefined ? { lambda: out.lambda } : {}),
      ...(out.promptPath !== undefined ? { promptPath: out.promptPath } : {}),
      started, finished: new Date(now()).toISOString(),
    };
    deps.journal.append(record);
    ran.push(cell.key);
    // ETA from the mean duration of the cells run in this call: cells are similar within a grid.
    const elapsed = (now() - t0) / 1000;
    const left = todo.length - i - 1;
    const scores = Object.entries(out.metrics).map(([t, m]) => `${t} EM ${(100 * m.exact_match).toFixed(1)} F1 ${(100 * m.f1).toFixed(1)}`).join('; ');
    log(`[${skipped.length + i + 1}/${cells.length}] done ${cell.key}: ${scores}; ${left} left, ETA ${formatEta((elapsed / (i + 1)) * left)}`);
  }
  return { ran, skipped, total: skipped.length + ran.length };
}
