import { join, resolve } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SoftPrompt } from '@tpvjs/t5';
import { maxTargetLength } from '../tasks/index.js';
import { loadTaskData } from '../train/task-data.js';
import { writeAtomic } from '../train/trainer.js';
import { AttemptPrompt, attemptPromptFromParameters, attemptScheduleForShots, evaluateAttempt, trainAttempt } from '../baselines/index.js';
import { CliError, intFlag } from './errors.js';
import { loadModel, useBackend } from './model.js';
import { type CliIO, dataSource } from './train.js';

/** Usage of `tpv attempt`. */
export const ATTEMPT_HELP = `tpv attempt --target <task> [--target <task>] --source <adapter> --source <adapter> --model <dir|hub-id> --out <dir>
  ATTEMPT baseline (spec §9): frozen source prompts, one trained target prompt per target task and a shared attention network
  --few-shot <k>  (epochs/batch from the paper's table)   --epochs <n>  --batch-size <n>   --data bundled|hub|<dir>
  --num-virtual-tokens <n> (50)  --max-source-length <n> (256)  --max-new-tokens <n> (128)  --max-test <n>  --backend cpu|webgpu  --json`;

/** `tpv attempt`: trains and tests the ATTEMPT baseline on one or more target tasks. */
export async function attemptCommand(argv: string[], io: CliIO): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', multiple: true }, source: { type: 'string', multiple: true }, model: { type: 'string' }, out: { type: 'string' },
      'few-shot': { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, data: { type: 'string' },
      'num-virtual-tokens': { type: 'string' }, 'max-source-length': { type: 'string' }, 'max-new-tokens': { type: 'string' },
      'max-test': { type: 'string' }, 'valid-size': { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  const targets = values.target ?? [];
  const sources = values.source ?? [];
  if (targets.length === 0) throw new CliError('--target is required (repeat it for several targets)');
  if (sources.length === 0) throw new CliError('--source is required (PEFT adapter folders of the source prompts)');
  if (!values.out) throw new CliError('--out is required');
  const out = resolve(values.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new CliError(`output folder ${out} exists and is not empty; nothing was written`);
  const k = intFlag('few-shot', values['few-shot'], { min: 0 });
  const explicit = values.epochs !== undefined && values['batch-size'] !== undefined;
  let schedule = { epochs: 10, batchSize: 32 };
  if (k !== undefined && !explicit) {
    try {
      schedule = attemptScheduleForShots(k);
    } catch (e) {
      throw new CliError(`${(e as Error).message}; give --epochs and --batch-size for other shot counts`);
    }
  }
  const source = dataSource(values.data);
  const data = await Promise.all(
    targets.map((t) =>
      loadTaskData(t, {
        source,
        ...(k !== undefined ? { fewShot: k } : {}),
        maxValid: 250,
        ...(values['max-test'] ? { maxTest: intFlag('max-test', values['max-test'])! } : {}),
        ...(values['valid-size'] ? { largeValidationSize: intFlag('valid-size', values['valid-size'])! } : source.kind === 'bundled' ? { largeValidationSize: 50 } : {}),
      }),
    ),
  );
  await useBackend(values.backend);
  const { model, tokenizer } = await loadModel(values.model);
  const n = intFlag('num-virtual-tokens', values['num-virtual-tokens']) ?? 50;
  const srcPrompts = await Promise.all(sources.map((s) => SoftPrompt.fromPeft(s, { model })));
  const prompt = new AttemptPrompt({ sources: srcPrompts.map((p) => p.table), numTargets: targets.length });
  for (const p of srcPrompts) p.table.dispose();
  const maxSourceLength = intFlag('max-source-length', values['max-source-length']) ?? 256;
  const result = await trainAttempt({
    model, tokenizer, prompt, outDir: out, numVirtualTokens: n, maxSourceLength,
    targets: data.map((d) => ({ name: d.spec.name, train: d.train, validation: d.validation, maxTargetLength: maxTargetLength(d.spec, tokenizer) })),
    epochs: intFlag('epochs', values.epochs, { min: 0 }) ?? schedule.epochs,
    batchSize: intFlag('batch-size', values['batch-size']) ?? schedule.batchSize,
    silent: values.json ?? false, progressSink: io.err,
  });
  const best = attemptPromptFromParameters(prompt, result.bestParameters);
  const test: Record<string, unknown> = {};
  for (const [i, d] of data.entries()) {
    const r = await evaluateAttempt(model, tokenizer, best, d.spec, d.test, {
      targetIndex: i, numVirtualTokens: n, maxSourceLength, maxNewTokens: intFlag('max-new-tokens', values['max-new-tokens']) ?? 128,
    });
    test[d.spec.name] = { ...r.metrics, n: d.test.length };
  }
  best.dispose();
  prompt.dispose();
  const summary = { method: 'attempt', targets, sources, model: values.model, out, bestEpoch: result.bestEpoch, bestValidationLoss: result.bestLoss, test };
  writeAtomic(join(out, 'results.json'), JSON.stringify(summary, null, 2));
  if (values.json) io.out(JSON.stringify(summary));
  else {
    io.out(`ATTEMPT: best validation loss ${result.bestLoss.toFixed(4)} at epoch ${result.bestEpoch}`);
    for (const [t, m] of Object.entries(test)) {
      const mm = m as { exact_match: number; f1: number; n: number };
      io.out(`  ${t}: exact match ${(100 * mm.exact_match).toFixed(1)}  F1 ${(100 * mm.f1).toFixed(1)}  (n=${mm.n})`);
    }
  }
  model.dispose();
  return summary;
}
