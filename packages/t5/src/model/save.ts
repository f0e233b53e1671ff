import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '@tpvjs/tensor';
import { t5ConfigToJson } from '../config/index.js';
import type { T5ForConditionalGeneration } from './t5.js';

/**
 * Writes a model as a Hugging Face folder (`config.json` + `model.safetensors`, F32, HF names),
 * which `fromPretrained` here and `T5ForConditionalGeneration.from_pretrained` in Python both
 * read. The folder is built under a temporary name and renamed, and an existing non-empty
 * folder is refused.
 */
export async function saveT5Pretrained(model: T5ForConditionalGeneration, dir: string): Promise<void> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`refusing to overwrite the non-empty folder ${dir}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of model.namedParameters()) {
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(await t.data()) };
  }
  writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(t5ConfigToJson(model.config), null, 2));
  if (existsSync(dir)) rmSync(dir, { recursive: true });
  renameSync(tmp, dir);
}
