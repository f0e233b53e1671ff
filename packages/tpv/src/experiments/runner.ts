/**
 * The real cell trainer: builds each cell's initial prompt (random origin, SPoT source prompt, or
 * θ₀ + Στ), prompt-tunes it with `trainPrompt` (resumable), saves the best prompt as a PEFT adapter
 * and scores it on the test split with `evaluateGeneration`. Addition cells run RQ2's λ search.
 *
 * Source prompts (θ_A of origin o) are found in the journal: the record of the full-data,
 * random-init, single-task (or multi-task, for SPoT-multi) run of that origin, so a grid that first
 * trains the sources and then uses them needs no hand-written paths. `sourcePrompts` can name
 * adapters trained elsewhere.
 *
 * @module
 */
import { join } from 'node:path';
import { tensor } from '@tpvjs/tensor';
import { SoftPrompt, type T5ForConditionalGeneration, type T5Tokenizer, sampledVocabInit } from '@tpvjs/t5';
import {
  type RowsBySplit, formatExamples, getSplit, getTask, hubDatasetResolver, loadBundledTask, loadHubTaskSplits, loadTaskSplits, maxTargetLength,
} from '../tasks/index.js';
import { evaluateGeneration } from '../train/evaluate.js';
import { type DataSource, type TaskData, loadTaskData } from '../train/task-data.js';
import { promptOf, trainPrompt } from '../train/trainer.js';
import { TaskPromptVector } from '../vector/task-prompt-vector.js';
import { searchLambda } from '../vector/lambda-search.js';
import { type Cell, type CellContext, type CellOutcome, type CellTrainer, ExperimentError, type GridTraining } from './grid.js';
import type { Journal, TaskScores } from './journal.js';

/** Options of {@link createCellTrainer}. */
export interface CellTrainerOptions {
  /** The frozen model. */
  model: T5ForConditionalGeneration;
  /** Its tokenizer. */
  tokenizer: T5Tokenizer;
  /** Model id written into adapters and vectors (e.g. `t5-base` or a folder). */
  modelId: string;
  /** Where task rows come from. */
  source: DataSource;
  /** Adapters trained elsewhere: `sourcePrompts[tasks.join('+')][origin]` = PEFT folder. */
  sourcePrompts?: Record<string, Record<string, string>>;
  /** Progress output of training (default stderr); `silent` hides it. */
  progressSink?: { write(s: string): unknown; isTTY?: boolean };
  /** Hide the training progress bar. */
  silent?: boolean;
}

/** The paper's few-shot batch sizes (spec §7). */
function fewShotBatchSize(k: number): number {
  return k <= 25 ? 2 : k <= 250 ? 8 : 16;
}

/**
 * The adapter folder of the trained prompt for `tasks` from `origin`: the journal's full-data,
 * random-init prompt-tuning run, else `explicit`.
 *
 * @throws {@link ExperimentError} `MISSING_SOURCE` when neither has it.
 */
export function findSourcePrompt(journal: Journal, tasks: string[], origin: number, explicit?: Record<string, Record<string, string>>): string {
  const name = tasks.join('+');
  const rec = journal.records().slice().reverse().find((r) => r.kind === 'prompt-tuning' && r.tasks.join('+') === name && r.origin === origin
    && r.init === 'random' && r.shots === undefined && r.promptPath !== undefined);
  const path = rec?.promptPath ?? explicit?.[name]?.[String(origin)];
  if (!path) {
    throw new ExperimentError('MISSING_SOURCE', `no trained prompt for ${name} from origin ${origin}: add a full-data random-init cell for it earlier in the grid, or name its adapter in sourcePrompts`);
  }
  return path;
}

/** Creates the trainer that `runGrid` calls for every cell. */
export function createCellTrainer(o: CellTrainerOptions): CellTrainer {
  const { model, tokenizer } = o;
  const dataCache = new Map<string, TaskData>();

  const loadData = async (task: string, shots: number | undefined, t: GridTraining): Promise<TaskData> => {
    const id = `${task}|${shots ?? 'full'}`;
    const hit = dataCache.get(id);
    if (hit) return hit;
    if (shots === 0) {
      // A 0-shot run only evaluates, so only the test split is loaded: target tasks' bundled
      // samples (and some user folders) ship no train split, which loadTaskData would require.
      const d = await loadTestOnly(task, t);
      dataCache.set(id, d);
      return d;
    }
    const d = await loadTaskData(task, {
      source: o.source,
      ...(shots !== undefined ? { fewShot: shots } : {}),
      ...(t.maxTrain ? { maxTrain: t.maxTrain } : {}),
      // Few-shot runs validate on 250 examples, full runs on 1000 (spec §7, docs/training.md).
      maxValid: t.maxValid ?? (shots !== undefined ? 250 : 1000),
      ...(t.maxTest ? { maxTest: t.maxTest } : {}),
      ...(o.source.kind === 'bundled' ? { largeValidationSize: 50 } : {}),
    });
    dataCache.set(id, d);
    return d;
  };

  const loadTestOnly = async (task: string, t: GridTraining): Promise<TaskData> => {
    const spec = getTask(task);
    const src = o.source;
    const rows: RowsBySplit = src.kind === 'bundled' ? await loadBundledTask(spec)
      : src.kind === 'dir' ? await loadTaskSplits(spec, { dir: src.dir })
        : src.kind === 'hub' ? await loadHubTaskSplits(spec, { resolver: hubDatasetResolver(src.options ?? {}) })
          : src.rows;
    const test = getSplit(spec, 'test', rows, { ...(t.maxTest ? { maxTest: t.maxTest } : {}), ...(src.kind === 'bundled' ? { largeValidationSize: 50 } : {}) });
    return { spec, train: [], validation: [], test: formatExamples(spec, test).map((e) => ({ source: e.source, target: e.target })) };
  };

  const scoreOn = async (prompt: Float32Array, shape: [number, number], n: number, data: TaskData, split: 'test' | 'validation', t: GridTraining): Promise<TaskScores> => {
    const table = tensor(prompt, { shape });
    try {
      const r = await evaluateGeneration(model, tokenizer, data.spec, data[split], promptOf(table, n), {
        maxNewTokens: t.maxNewTokens ?? 128, maxSourceLength: t.maxSourceLength ?? 256,
      });
      return { exact_match: r.metrics.exact_match, f1: r.metrics.f1 };
    } finally {
      table.dispose();
    }
  };

  const readPrompt = async (path: string): Promise<Float32Array> => {
    const p = await SoftPrompt.fromPeft(path, { model });
    try {
      return Float32Array.from(await p.table.data());
    } finally {
      p.table.dispose();
    }
  };

  const save = async (prompt: Float32Array, n: number, shape: [number, number], dir: string): Promise<string> => {
    const sp = SoftPrompt.fromArray(prompt, { numVirtualTokens: n, numTransformerSubmodules: shape[0] / n, tokenDim: shape[1] });
    await sp.savePeft(dir, { overwrite: true, baseModelNameOrPath: o.modelId, numLayers: model.config.numLayers, numAttentionHeads: model.config.numHeads });
    sp.table.dispose();
    return dir;
  };

  /** Στ over `sources` (each θ_s − θ₀ of this origin), as one vector. */
  const sumVectors = async (sources: string[][], origin: number, theta0: Float32Array, shape: [number, number], journal: Journal): Promise<TaskPromptVector> => {
    const vecs: TaskPromptVector[] = [];
    for (const s of sources) {
      const tuned = await readPrompt(findSourcePrompt(journal, s, origin, o.sourcePrompts));
      vecs.push(TaskPromptVector.fromPrompts({ data: tuned, shape }, { data: theta0, shape }, { tasks: s.length > 1 ? Object.fromEntries(s.map((x) => [x, 1])) : s[0]!, modelId: o.modelId, originId: `origin_${origin}` }));
    }
    return vecs.length === 1 ? vecs[0]! : TaskPromptVector.sum(vecs);
  };

  return async (cell: Cell, ctx: CellContext): Promise<CellOutcome> => {
    const t = ctx.training;
    const n = t.numVirtualTokens ?? 50;
    const origin = sampledVocabInit(model, { numVirtualTokens: n, index: cell.origin });
    const theta0 = Float32Array.from(await origin.table.data());
    const shape: [number, number] = [origin.table.shape[0]!, origin.table.shape[1]!];
    origin.table.dispose();

    if (cell.kind === 'addition') {
      // RQ2: θ₀ + λ(τ_A + τ_B), one λ for the summed vector, chosen by mean validation EM over A and B.
      const data = await Promise.all(cell.tasks.map((task) => loadData(task, undefined, t)));
      const vec = await sumVectors(cell.tasks.map((x) => [x]), cell.origin, theta0, shape, ctx.journal);
      const search = await searchLambda(vec, { data: theta0, shape }, async (prompt) => {
        let s = 0;
        for (const d of data) s += (await scoreOn(prompt, shape, n, d, 'validation', t)).exact_match;
        return s / data.length;
      }, t.lambdaGrid ? { grid: t.lambdaGrid } : {});
      const best = vec.applyTo({ data: theta0, shape }, search.lambda);
      const metrics: Record<string, TaskScores> = {};
      for (const d of data) metrics[d.spec.name] = await scoreOn(best, shape, n, d, 'test', t);
      return { metrics, lambda: search.lambda, promptPath: await save(best, n, shape, join(ctx.outDir, 'best')) };
    }

    let init: Float32Array;
    if (cell.init === 'random') init = theta0;
    else if ('spot' in cell.init) init = await readPrompt(findSourcePrompt(ctx.journal, ([] as string[]).concat(cell.init.spot), cell.origin, o.sourcePrompts));
    // The TPV combination of spec §8: θ₀ + τ_A + τ_B with λ = 1 (no validation search).
    else init = (await sumVectors(cell.init.tpv.map((x) => [x]), cell.origin, theta0, shape, ctx.journal)).applyTo({ data: theta0, shape }, 1);

    const data = await Promise.all(cell.tasks.map((task) => loadData(task, cell.shots, t)));
    let prompt = init;
    let bestStep: number | undefined;
    let bestLoss: number | undefined;
    // 0-shot runs evaluate the initialisation without training (spec §8).
    if (cell.shots !== 0) {
      const result = await trainPrompt({
        model, tokenizer,
        tasks: data.map((d) => ({ name: d.spec.name, train: d.train, validation: d.validation, maxTargetLength: maxTargetLength(d.spec, tokenizer) })),
        origin: init, promptShape: shape, numVirtualTokens: n, outDir: join(ctx.outDir, 'train'), resume: ctx.resume,
        ...(t.lr !== undefined ? { lr: t.lr } : {}),
        ...(t.warmupSteps !== undefined ? { warmupSteps: t.warmupSteps } : {}),
        batchSize: t.batchSize ?? (cell.shots !== undefined ? fewShotBatchSize(cell.shots) : 32),
        epochs: Math.max(...data.map((d) => d.spec.epochs)),
        ...(t.maxSteps !== undefined ? { maxSteps: t.maxSteps } : cell.shots !== undefined ? { maxSteps: 1000 } : {}),
        ...(t.evalEvery !== undefined ? { evalEvery: t.evalEvery } : {}),
        ...(t.maxSourceLength !== undefined ? { maxSourceLength: t.maxSourceLength } : {}),
        silent: o.silent ?? false,
        ...(o.progressSink ? { progressSink: o.progressSink } : {}),
      });
      prompt = result.bestPrompt;
      bestStep = result.bestStep;
      bestLoss = result.bestLoss;
    }
    const metrics: Record<string, TaskScores> = {};
    for (const d of data) metrics[d.spec.name] = await scoreOn(prompt, shape, n, d, 'test', t);
    const promptPath = await save(prompt, n, shape, join(ctx.outDir, 'best'));
    return { metrics, promptPath, ...(bestStep !== undefined ? { bestStep, bestLoss: bestLoss! } : {}) };
  };
}
