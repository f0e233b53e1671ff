import { parseArgs } from 'node:util';
import { SoftPrompt } from '@tpvjs/t5';
import { evaluateGeneration } from '../train/evaluate.js';
import { loadTaskData } from '../train/task-data.js';
import { CliError, intFlag } from './errors.js';
import { loadModel, useBackend } from './model.js';
import { dataSource } from './train.js';
import type { CliIO } from './train.js';

/** `tpv eval`: greedy-decodes a task's split with a prompt and prints the task's metrics. */
export async function evalCommand(argv: string[], io: CliIO): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      task: { type: 'string', multiple: true }, model: { type: 'string' }, prompt: { type: 'string' }, data: { type: 'string' },
      split: { type: 'string' }, 'max-test': { type: 'string' }, 'max-new-tokens': { type: 'string' }, backend: { type: 'string' },
      json: { type: 'boolean' }, 'valid-size': { type: 'string' }, 'true-macro-f1': { type: 'boolean' }, 'batch-size': { type: 'string' },
    },
  });
  if (!values.task?.length) throw new CliError('--task is required');
  const split = values.split ?? 'test';
  if (split !== 'test' && split !== 'validation') throw new CliError(`--split must be test or validation, got '${split}'`);
  const data = await Promise.all(
    values.task.map((t) =>
      loadTaskData(t, {
        source: dataSource(values.data),
        ...(values['max-test'] ? { maxTest: intFlag('max-test', values['max-test'])! } : {}),
        largeValidationSize: intFlag('valid-size', values['valid-size']) ?? (!values.data || values.data === 'bundled' ? 50 : 1000),
      }),
    ),
  );
  await useBackend(values.backend);
  const { model, tokenizer } = await loadModel(values.model);
  const prompt = values.prompt ? await SoftPrompt.fromPeft(values.prompt, { model }) : undefined;
  const results: Record<string, unknown> = {};
  for (const d of data) {
    const r = await evaluateGeneration(model, tokenizer, d.spec, split === 'test' ? d.test : d.validation, prompt, {
      maxNewTokens: intFlag('max-new-tokens', values['max-new-tokens']) ?? 128,
      batchSize: intFlag('batch-size', values['batch-size']) ?? 32,
      metrics: values['true-macro-f1'] ? { f1: 'true_macro' } : {},
    });
    results[d.spec.name] = { ...r.metrics, n: r.targets.length };
    if (!values.json) io.out(`${d.spec.name} (${split}, n=${r.targets.length}): exact match ${(100 * r.metrics.exact_match).toFixed(2)}  ${r.metrics.f1Kind} ${(100 * r.metrics.f1).toFixed(2)}`);
  }
  if (values.json) io.out(JSON.stringify({ split, prompt: values.prompt ?? null, results }));
  prompt?.table.dispose();
  model.dispose();
  return results;
}
