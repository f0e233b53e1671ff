import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SoftPrompt } from '@tpvjs/t5';
import { maxTargetLength } from '../tasks/index.js';
import { evaluateGeneration } from '../train/evaluate.js';
import { type DataSource, loadTaskData } from '../train/task-data.js';
import { promptOf, trainPrompt, writeAtomic } from '../train/trainer.js';
import { tensor } from '@tpvjs/tensor';
import { TPV_SIDECAR_NAME, type TpvSidecar } from '../vector/peft.js';
import { CliError, intFlag, numFlag } from './errors.js';
import { loadModel, loadOrigin, useBackend } from './model.js';

/** Output hooks, injectable for tests. */
export interface CliIO {
  out: (line: string) => void;
  err: { write(s: string): unknown; isTTY?: boolean };
}

export const TRAIN_HELP = `tpv train --task <name> [--task <name> …] --model <dir|hub-id> --origin <index|adapter> --out <dir>
  --data bundled|hub|<dir> where rows come from (default: bundled samples; hub: HF parquet, cached like Python)
  --few-shot <k>           k-shot training set (stratified, seed 42); defaults to 1000 steps and the paper's batch size
  --max-steps <n>          total steps (overrides --epochs)     --epochs <n>  (10; TREC 50)
  --batch-size <n> (32)    --lr <x> (0.3)   --weight-decay <x> (1e-5)   --warmup <n> (500)   --eval-every <n> (100)
  --max-train/--max-valid/--max-test <n>   stratified caps         --valid-size <n>  held-out rows for large tasks (1000)
  --num-virtual-tokens <n> (50)   --max-source-length <n> (256)   --max-new-tokens <n> (128)
  --backend cpu|webgpu     --resume   --json   --seed <n> (42)`;

/** The paper's few-shot batch sizes (spec §7). */
export function fewShotBatchSize(k: number): number {
  return k <= 25 ? 2 : k <= 250 ? 8 : 16;
}

/** `--data`: `bundled` (default), `hub` (the HF datasets' parquet conversion, cached like Python), or a folder. */
export function dataSource(v: string | undefined): DataSource {
  if (!v || v === 'bundled') return { kind: 'bundled' };
  if (v === 'hub') return { kind: 'hub' };
  if (!existsSync(v)) throw new CliError(`--data folder ${v} does not exist`);
  return { kind: 'dir', dir: v };
}

/** `tpv train`: prompt-tunes a soft prompt and evaluates the best one on the test split. */
export async function trainCommand(argv: string[], io: CliIO): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      task: { type: 'string', multiple: true }, model: { type: 'string' }, origin: { type: 'string' }, out: { type: 'string' },
      data: { type: 'string' }, 'few-shot': { type: 'string' }, 'max-steps': { type: 'string' }, epochs: { type: 'string' },
      'batch-size': { type: 'string' }, lr: { type: 'string' }, 'weight-decay': { type: 'string' }, warmup: { type: 'string' },
      'eval-every': { type: 'string' }, 'max-train': { type: 'string' }, 'max-valid': { type: 'string' }, 'max-test': { type: 'string' },
      'valid-size': { type: 'string' }, 'num-virtual-tokens': { type: 'string' }, 'max-source-length': { type: 'string' },
      'max-new-tokens': { type: 'string' }, backend: { type: 'string' }, resume: { type: 'boolean' }, json: { type: 'boolean' },
      seed: { type: 'string' }, 'stop-after': { type: 'string' }, 'sst5-mode': { type: 'string' },
    },
  });
  const tasks = values.task ?? [];
  if (tasks.length === 0) throw new CliError('--task is required (repeat it for multi-task training)');
  if (!values.out) throw new CliError('--out is required');
  const out = resolve(values.out);
  if (existsSync(out) && readdirSync(out).length > 0 && !values.resume) {
    throw new CliError(`output folder ${out} exists and is not empty; nothing was written (use another --out, or --resume to continue a run)`);
  }
  const fewShot = intFlag('few-shot', values['few-shot'], { min: 0 });
  const n = intFlag('num-virtual-tokens', values['num-virtual-tokens']) ?? 50;
  const source = dataSource(values.data);
  const sst5Mode = values['sst5-mode'] as 'reference' | 'real' | undefined;
  // Load the data first: a bad task name or broken rows fail before the model is loaded.
  const data = await Promise.all(
    tasks.map((t) =>
      loadTaskData(t, {
        source,
        ...(fewShot !== undefined ? { fewShot } : {}),
        ...(values['max-train'] ? { maxTrain: intFlag('max-train', values['max-train'])! } : {}),
        maxValid: intFlag('max-valid', values['max-valid']) ?? (fewShot !== undefined ? 250 : 1000),
        ...(values['max-test'] ? { maxTest: intFlag('max-test', values['max-test'])! } : {}),
        ...(values['valid-size'] ? { largeValidationSize: intFlag('valid-size', values['valid-size'])! } : source.kind === 'bundled' ? { largeValidationSize: 50 } : {}),
        ...(sst5Mode ? { sst5Mode } : {}),
      }),
    ),
  );
  await useBackend(values.backend);
  const { model, tokenizer } = await loadModel(values.model);
  const origin = await loadOrigin(values.origin, model, n);
  const originData = Float32Array.from(await origin.prompt.table.data());
  const shape: [number, number] = [origin.prompt.table.shape[0]!, origin.prompt.table.shape[1]!];
  const seed = intFlag('seed', values.seed, { min: 0 }) ?? 42;
  const result = await trainPrompt({
    model, tokenizer,
    tasks: data.map((d) => ({ name: d.spec.name, train: d.train, validation: d.validation, maxTargetLength: maxTargetLength(d.spec, tokenizer) })),
    origin: originData, promptShape: shape, numVirtualTokens: origin.prompt.numVirtualTokens, outDir: out,
    resume: values.resume ?? false, seed,
    lr: numFlag('lr', values.lr) ?? 0.3,
    weightDecay: numFlag('weight-decay', values['weight-decay']) ?? 1e-5,
    warmupSteps: intFlag('warmup', values.warmup, { min: 0 }) ?? 500,
    batchSize: intFlag('batch-size', values['batch-size']) ?? (fewShot !== undefined ? fewShotBatchSize(fewShot) : 32),
    epochs: intFlag('epochs', values.epochs) ?? Math.max(...data.map((d) => d.spec.epochs)),
    ...(values['max-steps'] ? { maxSteps: intFlag('max-steps', values['max-steps'])! } : fewShot !== undefined ? { maxSteps: 1000 } : {}),
    evalEvery: intFlag('eval-every', values['eval-every']) ?? 100,
    maxSourceLength: intFlag('max-source-length', values['max-source-length']) ?? 256,
    ...(values['stop-after'] ? { stopAfterSteps: intFlag('stop-after', values['stop-after'])! } : {}),
    silent: values.json ?? false,
    progressSink: io.err,
  });
  const best = SoftPrompt.fromArray(result.bestPrompt, { numVirtualTokens: origin.prompt.numVirtualTokens, numTransformerSubmodules: shape[0] / origin.prompt.numVirtualTokens, tokenDim: shape[1] });
  await best.savePeft(join(out, 'best'), {
    overwrite: true, baseModelNameOrPath: values.model ?? null, numLayers: model.config.numLayers, numAttentionHeads: model.config.numHeads,
  });
  // tpv's own metadata goes in a sidecar: PEFT before 0.14 refuses unknown adapter_config keys.
  const sidecar: TpvSidecar = {
    format: 'tpv-peft', schemaVersion: 1, content: 'prompt', tasks: Object.fromEntries(tasks.map((t) => [t, 1])), taskString: tasks.map((t) => `+ ${t}`).join(' '),
    modelId: values.model ?? '', originId: origin.id, lambda: 1,
    provenance: { created: new Date().toISOString(), tool: 'tpv train', bestStep: result.bestStep, bestValidationLoss: result.bestLoss, steps: result.steps },
    exported: new Date().toISOString(), tool: '@tpvjs/tpv', toolVersion: '0.1.0',
  };
  writeAtomic(join(out, 'best', TPV_SIDECAR_NAME), JSON.stringify(sidecar, null, 2));
  const table = tensor(result.bestPrompt, { shape });
  const test: Record<string, unknown> = {};
  for (const d of data) {
    const r = await evaluateGeneration(model, tokenizer, d.spec, d.test, promptOf(table, origin.prompt.numVirtualTokens), {
      maxNewTokens: intFlag('max-new-tokens', values['max-new-tokens']) ?? 128,
      maxSourceLength: intFlag('max-source-length', values['max-source-length']) ?? 256,
    });
    test[d.spec.name] = { ...r.metrics, n: d.test.length, examples: r.predictions.slice(0, 5).map((p, i) => ({ prediction: p, target: r.targets[i] })) };
  }
  table.dispose();
  const summary = {
    tasks, model: values.model, origin: origin.id, out, steps: result.steps, bestStep: result.bestStep, bestValidationLoss: result.bestLoss,
    firstTrainLoss: result.trainLosses[0]?.loss, lastTrainLoss: result.trainLosses.at(-1)?.loss, test,
  };
  writeAtomic(join(out, 'results.json'), JSON.stringify(summary, null, 2));
  if (values.json) io.out(JSON.stringify(summary));
  else {
    io.out(`trained ${result.steps} steps; best validation loss ${result.bestLoss.toFixed(4)} at step ${result.bestStep}`);
    for (const [t, m] of Object.entries(test)) {
      const mm = m as { exact_match: number; f1: number; n: number };
      io.out(`  ${t}: exact match ${(100 * mm.exact_match).toFixed(1)}  F1 ${(100 * mm.f1).toFixed(1)}  (n=${mm.n})`);
    }
    io.out(`best prompt: ${join(out, 'best')} (PEFT adapter)   curve: ${join(out, 'loss-curve.svg')}`);
  }
  model.dispose();
  return summary;
}
