#!/usr/bin/env node
/**
 * The quick-start demo: the whole tpv pipeline on one CPU in about a minute.
 *
 * 1. builds a small T5 (real T5 vocabulary and SentencePiece tokenizer, random weights — the
 *    paper's t5-base does not fit a demo's time budget on a 2-core CPU) and saves it as a Hugging
 *    Face folder;
 * 2. writes two of the paper's sampled-vocab origins as PEFT adapters (`tpv origins`);
 * 3. prompt-tunes a soft prompt on real SST-2 sentences shipped in the repo (`tpv train`), with a
 *    progress bar, checkpoints and a loss curve (SVG);
 * 4. builds the task prompt vector τ = θ_tuned − θ_origin, applies it to the other origin and
 *    compares losses and prompts.
 */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator, tensor } from '@tpvjs/tensor';
import { SoftPrompt, T5ForConditionalGeneration, T5Tokenizer, parseT5Config, saveT5Pretrained } from '@tpvjs/t5';
import { main as tpv } from './cli.js';
import { encodeDataset } from './train/data.js';
import { loadTaskData } from './train/task-data.js';
import { promptOf, validationLosses } from './train/trainer.js';
import { maxTargetLength } from './tasks/index.js';
import { TaskPromptVector } from './vector/index.js';

const log = (s = '') => console.log(s);

function spieceModel(): string {
  const candidates = [
    fileURLToPath(new URL('../../t5/test-data/tokenizer/spiece.model', import.meta.url)),
    fileURLToPath(new URL('../data/t5/spiece.model', import.meta.url)),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`spiece.model not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** `--backend webgpu` runs the demo on the WebGPU backend (default cpu). */
function backendArg(): string {
  const i = process.argv.indexOf('--backend');
  return i >= 0 ? (process.argv[i + 1] ?? 'cpu') : 'cpu';
}

async function run(): Promise<void> {
  const backend = backendArg();
  const work = mkdtempSync(join(tmpdir(), 'tpv-demo-'));
  const modelDir = join(work, 'model');
  log(`# tpv demo on ${backend} (working folder ${work})\n`);

  log('1. a small T5 with the real T5 vocabulary (random weights), saved as a Hugging Face folder');
  const config = parseT5Config({
    vocab_size: 32128, d_model: 64, d_kv: 16, d_ff: 128, num_layers: 2, num_heads: 4, relative_attention_num_buckets: 32,
    dropout_rate: 0.1, feed_forward_proj: 'relu', tie_word_embeddings: true, model_type: 't5', eos_token_id: 1, pad_token_id: 0, decoder_start_token_id: 0,
  });
  const fresh = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(7) });
  await saveT5Pretrained(fresh, modelDir);
  fresh.dispose();
  copyFileSync(spieceModel(), join(modelDir, 'spiece.model'));

  log('\n2. two sampled-vocab origins (tpv origins)');
  const io = { out: (l: string) => log(`   ${l}`), err: process.stderr };
  const n = 10;
  let code = await tpv(['origins', '--model', modelDir, '--out', join(work, 'origins'), '--count', '2', '--num-virtual-tokens', String(n), '--backend', backend], io);
  if (code !== 0) throw new Error('tpv origins failed');

  log('\n3. prompt tuning on SST-2 sentences (tpv train)');
  const out = join(work, 'sst2_origin0');
  code = await tpv(
    ['train', '--task', 'sst2_text', '--model', modelDir, '--origin', join(work, 'origins', 'origin_0'), '--out', out,
      '--max-steps', '120', '--batch-size', '8', '--warmup', '20', '--eval-every', '20', '--max-source-length', '64',
      '--max-new-tokens', '4', '--max-test', '48', '--backend', backend],
    io,
  );
  if (code !== 0) throw new Error('tpv train failed');

  log('\n4. the task prompt vector τ = θ_tuned − θ_origin0, applied to origin 1');
  const model = await T5ForConditionalGeneration.fromPretrained(modelDir);
  const tokenizer = await T5Tokenizer.fromPretrained(modelDir);
  const o0 = await SoftPrompt.fromPeft(join(work, 'origins', 'origin_0'));
  const o1 = await SoftPrompt.fromPeft(join(work, 'origins', 'origin_1'));
  const tuned = await SoftPrompt.fromPeft(join(out, 'best'));
  const shape = [...tuned.table.shape] as [number, number];
  const data = async (p: SoftPrompt) => Float32Array.from(await p.table.data());
  const tau = TaskPromptVector.fromPrompts({ data: await data(tuned), shape }, { data: await data(o0), shape }, { tasks: 'sst2_text', modelId: 'demo-t5', originId: 'origin_0' });
  const applied = tau.applyTo({ data: await data(o1), shape }, 1);
  log(`   τ: ${tau.toString()}  ‖τ‖ = ${tau.norm().toFixed(3)}`);
  const task = await loadTaskData('sst2_text', { source: { kind: 'bundled' }, largeValidationSize: 50 });
  const valid = encodeDataset('sst2_text', task.validation, tokenizer, { maxSourceLength: 64, maxTargetLength: maxTargetLength(task.spec, tokenizer) });
  const lossOf = async (table: Float32Array) => {
    const t = tensor(table, { shape });
    const l = await validationLosses(model, [valid], promptOf(t, n), 16);
    t.dispose();
    return l.sst2_text!;
  };
  log(`   validation loss   origin 1 alone: ${(await lossOf(await data(o1))).toFixed(4)}`);
  log(`   validation loss   origin 1 + τ:   ${(await lossOf(applied)).toFixed(4)}`);
  log(`   validation loss   tuned prompt:   ${(await lossOf(await data(tuned))).toFixed(4)}`);
  const cos = (a: Float32Array, b: Float32Array) => {
    let ab = 0, aa = 0, bb = 0;
    for (let k = 0; k < a.length; k++) {
      ab += a[k]! * b[k]!;
      aa += a[k]! * a[k]!;
      bb += b[k]! * b[k]!;
    }
    return ab / Math.sqrt(aa * bb);
  };
  log(`   cos(θ_tuned, θ_origin1 + τ) = ${cos(await data(tuned), applied).toFixed(4)}   cos(θ_origin0, θ_origin1) = ${cos(await data(o0), await data(o1)).toFixed(4)}`);
  log('\n   (a T5 with random weights cannot classify SST-2 — watch the loss fall and τ transfer between origins;\n    with --model t5-base and the full data this is the paper\'s setup)');
  log(`\nloss curve: ${join(out, 'loss-curve.svg')}   results: ${join(out, 'results.json')}`);
  model.dispose();
}

run().catch((e) => {
  console.error(e instanceof Error ? `demo failed: ${e.message}` : e);
  process.exit(1);
});
