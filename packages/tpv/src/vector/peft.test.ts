import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { SoftPrompt } from '@tpvjs/t5';
import { writeSafetensors } from '@tpvjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VectorError, VectorFileError } from './errors.js';
import { exportVectorAsPeft, importVectorFromPeft, readPromptSource, TPV_SIDECAR_NAME } from './peft.js';
import { TaskPromptVector } from './task-prompt-vector.js';
import { anyFloat32, sameBits } from './__tests__/arbitraries.js';

let dir: string;
let n = 0;
const fresh = (name: string) => path.join(dir, `${name}-${n++}`);
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpv-peft-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function savePrompt(folder: string, data: Float32Array, rows: number, dim: number, base = 't5-base'): Promise<void> {
  const p = SoftPrompt.fromArray(data, { numVirtualTokens: rows / 2, numTransformerSubmodules: 2, tokenDim: dim });
  try {
    await p.savePeft(folder, { baseModelNameOrPath: base });
  } finally {
    p.dispose();
  }
}

const tables = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }))
  .chain(([half, dim]) =>
    fc.tuple(
      fc.constant([2 * half, dim] as [number, number]),
      fc.array(anyFloat32, { minLength: 2 * half * dim, maxLength: 2 * half * dim }),
      fc.array(anyFloat32, { minLength: 2 * half * dim, maxLength: 2 * half * dim }),
    ),
  );

describe('PEFT adapter folders', () => {
  it('export with origin → import gives back the same vector and the tuned prompt bit for bit (40 random tables)', async () => {
    await fc.assert(
      fc.asyncProperty(tables, async ([shape, t, o]) => {
        const tuned = Float32Array.from(t);
        const origin = Float32Array.from(o);
        const v = TaskPromptVector.fromPrompts({ data: tuned, shape }, { data: origin, shape }, { tasks: '+ mnli_text + qnli_text', modelId: 't5-base', originId: 'origin_0' });
        const originDir = fresh('origin');
        await savePrompt(originDir, origin, shape[0], shape[1]);
        const out = fresh('tuned');
        const r = await exportVectorAsPeft(v, out, { origin: { data: origin, shape } });
        expect(r.content).toBe('prompt');
        const read = await readPromptSource(out);
        expect(sameBits(read.data, tuned)).toBe(true);
        expect(read.sidecar?.content).toBe('prompt');
        const back = await importVectorFromPeft(out, originDir);
        // Same data bits, tasks and model; the origin id defaults to the folder name.
        return back.equals(v, { metadata: false }) && back.taskString === v.taskString && back.modelId === 't5-base';
      }),
      { numRuns: 40 },
    );
  });

  it('writes PEFT v0.9 adapter_config.json keys and no extra keys (PEFT < 0.14 rejects unknown ones)', async () => {
    const shape: [number, number] = [4, 3];
    const v = TaskPromptVector.fromPrompts({ data: new Float32Array(12).fill(1), shape }, { data: new Float32Array(12), shape }, { tasks: 'sst2_text', modelId: 't5-base' });
    const out = fresh('cfg');
    await exportVectorAsPeft(v, out, { origin: { data: new Float32Array(12), shape }, lambda: 0.5 });
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(cfg).sort()).toEqual([
      'auto_mapping', 'base_model_name_or_path', 'inference_mode', 'num_attention_heads', 'num_layers', 'num_transformer_submodules',
      'num_virtual_tokens', 'peft_type', 'prompt_tuning_init', 'prompt_tuning_init_text', 'revision', 'task_type', 'token_dim',
      'tokenizer_kwargs', 'tokenizer_name_or_path',
    ]);
    expect(cfg).toMatchObject({ base_model_name_or_path: 't5-base', num_virtual_tokens: 2, num_transformer_submodules: 2, token_dim: 3, num_layers: 12, num_attention_heads: 12, peft_type: 'PROMPT_TUNING', task_type: 'SEQ_2_SEQ_LM', inference_mode: true });
    expect(fs.readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', TPV_SIDECAR_NAME]);
    const read = await readPromptSource(out);
    expect([...read.data]).toEqual(new Array(12).fill(0.5));
    expect(read.sidecar?.lambda).toBe(0.5);
  });

  it('exports τ itself (correctly rounded to float32) and imports it back without an origin', async () => {
    const shape: [number, number] = [2, 2];
    const v = TaskPromptVector.fromPrompts({ data: Float32Array.of(2 ** -100, 3, -0, 1), shape }, { data: Float32Array.of(1, 1, 5, 1), shape }, { tasks: 'a - b', modelId: 't5-small', originId: 'o' });
    const out = fresh('tau');
    const r = await exportVectorAsPeft(v, out);
    expect(r.content).toBe('task_prompt_vector');
    const back = await importVectorFromPeft(out);
    expect(sameBits(back.toFloat32Array(), v.toFloat32Array())).toBe(true);
    expect(back.taskString).toBe(v.taskString);
    expect(back.modelId).toBe('t5-small');
    expect(back.originId).toBe('o');
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.num_layers).toBe(6);
    await expect(importVectorFromPeft(out, out)).rejects.toThrow(VectorError);
  });

  it('reads bare safetensors prompt files and refuses mismatches and bad inputs with typed errors', async () => {
    const shape: [number, number] = [2, 3];
    const t = Float32Array.of(1, 2, 3, 4, 5, 6);
    const o = Float32Array.of(0, 0, 0, 1, 1, 1);
    const tf = fresh('t') + '.safetensors';
    const of = fresh('origin_7') + '.safetensors';
    writeSafetensors(tf, { prompt_embeddings: { dtype: 'F32', shape, data: t } }, { format: 'pt', model_id: 't5-base' });
    writeSafetensors(of, { prompt_embeddings: { dtype: 'F32', shape, data: o } }, { format: 'pt' });
    const v = await importVectorFromPeft(tf, of, { tasks: 'x' });
    expect(v.modelId).toBe('t5-base');
    expect(v.originId).toMatch(/^origin_7/);
    expect(sameBits(v.applyTo(o), t)).toBe(true);

    const other = fresh('o2') + '.safetensors';
    writeSafetensors(other, { prompt_embeddings: { dtype: 'F32', shape: [3, 2], data: o } });
    await expect(importVectorFromPeft(tf, other, { tasks: 'x' })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    const large = fresh('o3') + '.safetensors';
    writeSafetensors(large, { prompt_embeddings: { dtype: 'F32', shape, data: o } }, { model_id: 't5-large' });
    await expect(importVectorFromPeft(tf, large, { tasks: 'x' })).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    expect((await importVectorFromPeft(tf, large, { tasks: 'x', force: true })).modelId).toBe('t5-base');
    await expect(importVectorFromPeft(tf, of)).rejects.toThrow(/no tasks/);
    await expect(importVectorFromPeft(path.join(dir, 'nope'), of, { tasks: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const garbage = fresh('garbage') + '.safetensors';
    fs.writeFileSync(garbage, 'not a safetensors file at all');
    await expect(readPromptSource(garbage)).rejects.toBeInstanceOf(VectorFileError);
    const noCfg = fresh('nocfg');
    fs.mkdirSync(noCfg);
    await expect(readPromptSource(noCfg)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses an existing output folder and leaves no temporary folder behind', async () => {
    const shape: [number, number] = [2, 1];
    const v = TaskPromptVector.fromPrompts({ data: Float32Array.of(1, 2), shape }, { data: Float32Array.of(0, 0), shape }, { tasks: 'a', modelId: 't5-base' });
    const out = fresh('exists');
    fs.mkdirSync(out);
    await expect(exportVectorAsPeft(v, out)).rejects.toMatchObject({ code: 'EXISTS' });
    const odd = TaskPromptVector.fromPrompts({ data: Float32Array.of(1, 2, 3), shape: [3, 1] }, { data: new Float32Array(3), shape: [3, 1] }, { tasks: 'a', modelId: 't5-base' });
    await expect(exportVectorAsPeft(odd, fresh('odd'))).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
