import { setBackend } from '@tpvjs/tensor';
import {
  SoftPrompt, T5ForConditionalGeneration, T5Tokenizer, resolveModelFile, sampledVocabInit,
} from '@tpvjs/t5';
import { CliError } from './errors.js';

/** Selects the compute backend (`cpu` or `webgpu`). */
export async function useBackend(name: string | undefined): Promise<void> {
  const b = name ?? 'cpu';
  if (b !== 'cpu' && b !== 'webgpu') throw new CliError(`--backend must be cpu or webgpu, got '${b}'`);
  await setBackend(b);
}

/** Loads a model and its tokenizer from a local folder or a Hub id. */
export async function loadModel(id: string | undefined): Promise<{ model: T5ForConditionalGeneration; tokenizer: T5Tokenizer }> {
  if (!id) throw new CliError('--model is required (a local folder or a Hugging Face id such as t5-base)');
  const model = await T5ForConditionalGeneration.fromPretrained(id);
  const tokenizer = await T5Tokenizer.fromPretrained(id, { resolve: (f: string) => resolveModelFile(id, f) });
  return { model, tokenizer };
}

/**
 * An origin (initial prompt): an integer i selects the paper's sampled-vocab origin i; anything
 * else is a PEFT adapter folder (or Hub id) checked against the model.
 */
export async function loadOrigin(spec: string | undefined, model: T5ForConditionalGeneration, numVirtualTokens: number): Promise<{ prompt: SoftPrompt; id: string }> {
  if (spec === undefined) throw new CliError('--origin is required (an origin index 0–9 or a PEFT adapter folder)');
  if (/^\d+$/.test(spec)) {
    return { prompt: sampledVocabInit(model, { numVirtualTokens, index: Number(spec) }), id: `origin_${spec}` };
  }
  return { prompt: await SoftPrompt.fromPeft(spec, { model }), id: spec };
}
