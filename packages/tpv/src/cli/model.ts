import { setBackend } from '@tpvjs/tensor';
import {
  SoftPrompt, T5ForConditionalGeneration, T5Tokenizer, resolveModelFile, sampledVocabInit,
} from '@tpvjs/t5';
import { existsSync, statSync } from 'node:fs';
import { readPromptSource } from '../vector/peft.js';
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
 * An origin (initial prompt): an integer i selects the paper's sampled-vocab origin i; a file is a
 * bare safetensors prompt (`prompt_embeddings`); anything else is a PEFT adapter folder (or Hub id)
 * checked against the model.
 */
export async function loadOrigin(spec: string | undefined, model: T5ForConditionalGeneration, numVirtualTokens: number): Promise<{ prompt: SoftPrompt; id: string }> {
  if (spec === undefined) throw new CliError('--origin is required (an origin index 0–9 or a PEFT adapter folder)');
  if (/^\d+$/.test(spec)) {
    return { prompt: sampledVocabInit(model, { numVirtualTokens, index: Number(spec) }), id: `origin_${spec}` };
  }
  if (existsSync(spec) && statSync(spec).isFile()) {
    // A bare prompt file (safetensors with `prompt_embeddings`, as the reference's sf2bin keeps them).
    const src = await readPromptSource(spec);
    if (src.shape[1] !== model.config.dModel) throw new CliError(`origin ${spec} has token dim ${src.shape[1]}, the model's d_model is ${model.config.dModel}`);
    if (src.shape[0] % numVirtualTokens !== 0) throw new CliError(`origin ${spec} has ${src.shape[0]} rows, not a multiple of --num-virtual-tokens ${numVirtualTokens}`);
    return {
      prompt: SoftPrompt.fromArray(src.data, { numVirtualTokens, numTransformerSubmodules: src.shape[0] / numVirtualTokens, tokenDim: src.shape[1] }),
      id: spec,
    };
  }
  return { prompt: await SoftPrompt.fromPeft(spec, { model }), id: spec };
}
