import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sampledVocabInit } from '@tpvjs/t5';
import { CliError, intFlag } from './errors.js';
import { loadModel, useBackend } from './model.js';
import type { CliIO } from './train.js';

/**
 * `tpv origins`: writes the paper's sampled-vocab origins (`origin_0` … `origin_{n−1}`) as PEFT
 * adapter folders: embeddings of token ids drawn without replacement from [0, 5000), seeded.
 */
export async function originsCommand(argv: string[], io: CliIO): Promise<string[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, out: { type: 'string' }, count: { type: 'string' }, 'num-virtual-tokens': { type: 'string' },
      seed: { type: 'string' }, range: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (!values.out) throw new CliError('--out is required');
  const count = intFlag('count', values.count) ?? 10;
  const n = intFlag('num-virtual-tokens', values['num-virtual-tokens']) ?? 50;
  for (let i = 0; i < count; i++) {
    if (existsSync(join(values.out, `origin_${i}`))) throw new CliError(`${join(values.out, `origin_${i}`)} exists; nothing was written`);
  }
  await useBackend(values.backend);
  const { model } = await loadModel(values.model);
  const written: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = sampledVocabInit(model, {
      numVirtualTokens: n, index: i,
      ...(values.seed ? { seed: intFlag('seed', values.seed, { min: 0 })! } : {}),
      ...(values.range ? { range: intFlag('range', values.range)! } : {}),
    });
    const dir = join(values.out, `origin_${i}`);
    await p.savePeft(dir, { baseModelNameOrPath: values.model ?? null, numLayers: model.config.numLayers, numAttentionHeads: model.config.numHeads });
    p.table.dispose();
    written.push(dir);
    if (!values.json) io.out(`wrote ${dir}`);
  }
  if (values.json) io.out(JSON.stringify({ origins: written }));
  model.dispose();
  return written;
}
