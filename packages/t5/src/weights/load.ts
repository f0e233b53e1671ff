/**
 * Checking a checkpoint against a config, and loading it one tensor at a time.
 */
import { type Tensor, tensor } from '@tpvjs/tensor';
import type { T5Config } from '../config/index.js';
import type { T5Checkpoint } from './checkpoint.js';
import { T5WeightsError, type T5WeightsProblem } from './errors.js';
import { T5_IGNORED_TENSORS, t5ParameterSpecs, type T5ParameterSpec } from './specs.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Architecture facts that can be read off tensor names and shapes, for mismatch messages. */
interface ArchitectureSummary {
  encoderBlocks: number;
  decoderBlocks: number;
  feedForward: 'gated (wi_0/wi_1)' | 'plain (wi)' | 'unknown';
  dModel: number | undefined;
  vocab: number | undefined;
  attentionWidth: number | undefined;
  dFf: number | undefined;
  relativeBias: string | undefined;
  head: 'separate lm_head.weight' | 'tied to shared.weight';
}

function summariseCheckpoint(ckpt: T5Checkpoint): ArchitectureSummary {
  const names = ckpt.names();
  const blocks = (stack: string) => {
    let n = 0;
    const re = new RegExp(`^${stack}\\.block\\.(\\d+)\\.`);
    for (const name of names) {
      const m = re.exec(name);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  };
  const shape = (name: string) => (ckpt.has(name) ? ckpt.entry(name).shape : undefined);
  const shared = shape('shared.weight');
  const q = shape('encoder.block.0.layer.0.SelfAttention.q.weight');
  const gated = names.some((n) => n.includes('.DenseReluDense.wi_0.'));
  const plain = names.some((n) => n.includes('.DenseReluDense.wi.'));
  const wi = shape(gated ? 'encoder.block.0.layer.1.DenseReluDense.wi_0.weight' : 'encoder.block.0.layer.1.DenseReluDense.wi.weight');
  const rb = shape('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight');
  return {
    encoderBlocks: blocks('encoder'),
    decoderBlocks: blocks('decoder'),
    feedForward: gated ? 'gated (wi_0/wi_1)' : plain ? 'plain (wi)' : 'unknown',
    dModel: shared?.[1],
    vocab: shared?.[0],
    attentionWidth: q?.[0],
    dFf: wi?.[0],
    relativeBias: rb ? `${rb[0]} buckets × ${rb[1]} heads` : undefined,
    head: ckpt.has('lm_head.weight') ? 'separate lm_head.weight' : 'tied to shared.weight',
  };
}

function summariseConfig(c: T5Config): ArchitectureSummary {
  return {
    encoderBlocks: c.numLayers,
    decoderBlocks: c.numDecoderLayers,
    feedForward: c.isGatedAct ? 'gated (wi_0/wi_1)' : 'plain (wi)',
    dModel: c.dModel,
    vocab: c.vocabSize,
    attentionWidth: c.innerDim,
    dFf: c.dFf,
    relativeBias: `${c.relativeAttentionNumBuckets} buckets × ${c.numHeads} heads`,
    head: c.tieWordEmbeddings ? 'tied to shared.weight' : 'separate lm_head.weight',
  };
}

const SUMMARY_LABELS: Record<keyof ArchitectureSummary, string> = {
  encoderBlocks: 'encoder blocks',
  decoderBlocks: 'decoder blocks',
  feedForward: 'feed-forward',
  dModel: 'd_model',
  vocab: 'vocabulary',
  attentionWidth: 'attention width (num_heads·d_kv)',
  dFf: 'd_ff',
  relativeBias: 'relative attention bias',
  head: 'LM head',
};

/**
 * Compares a checkpoint's tensor names, shapes and dtypes with what `config` needs, without
 * reading any tensor data.
 *
 * A tied checkpoint may carry copies of `shared.weight` (`encoder.embed_tokens.weight`,
 * `decoder.embed_tokens.weight`, and, for a tied config, `lm_head.weight`): they are accepted when
 * their shape is right and then ignored, as HF's tying makes them the same tensor.
 *
 * @returns the tensors to load, in config order
 * @throws {@link T5WeightsError}: `ARCHITECTURE_MISMATCH` (with the differences spelled out) when the
 *   file is for another architecture, else the code of the first problem (`MISSING_TENSOR`,
 *   `UNEXPECTED_TENSOR`, `SHAPE_MISMATCH`, `BAD_DTYPE`) naming the tensor
 */
export function checkT5Checkpoint(config: T5Config, ckpt: T5Checkpoint): T5ParameterSpec[] {
  const specs = t5ParameterSpecs(config);
  const expected = new Map(specs.map((s) => [s.name, s]));
  const problems: T5WeightsProblem[] = [];
  for (const s of specs) {
    if (!ckpt.has(s.name)) {
      problems.push({ code: 'MISSING_TENSOR', tensor: s.name, detail: `missing tensor '${s.name}' ${shapeStr(s.shape)}` });
      continue;
    }
    const e = ckpt.entry(s.name);
    if (!sameShape(e.shape, s.shape)) {
      problems.push({ code: 'SHAPE_MISMATCH', tensor: s.name, detail: `tensor '${s.name}' has shape ${shapeStr(e.shape)}, the config needs ${shapeStr(s.shape)}` });
    }
    if (!FLOAT_DTYPES.has(e.dtype)) {
      problems.push({ code: 'BAD_DTYPE', tensor: s.name, detail: `tensor '${s.name}' is ${e.dtype}; weights must be F32, F16, BF16 or F64` });
    }
  }
  const sharedShape = [config.vocabSize, config.dModel];
  for (const name of ckpt.names()) {
    if (expected.has(name)) continue;
    const tiedCopy = name === 'encoder.embed_tokens.weight' || name === 'decoder.embed_tokens.weight' || (name === 'lm_head.weight' && config.tieWordEmbeddings);
    if (tiedCopy) {
      const e = ckpt.entry(name);
      if (!sameShape(e.shape, sharedShape)) {
        problems.push({ code: 'SHAPE_MISMATCH', tensor: name, detail: `tensor '${name}' has shape ${shapeStr(e.shape)}, a copy of shared.weight needs ${shapeStr(sharedShape)}` });
      }
      continue;
    }
    if (T5_IGNORED_TENSORS.includes(name)) continue;
    problems.push({ code: 'UNEXPECTED_TENSOR', tensor: name, detail: `unexpected tensor '${name}' ${shapeStr(ckpt.entry(name).shape)}` });
  }
  if (problems.length === 0) return specs;

  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const fromFile = summariseCheckpoint(ckpt);
  const fromConfig = summariseConfig(config);
  const diffs = (Object.keys(SUMMARY_LABELS) as (keyof ArchitectureSummary)[])
    .filter((k) => fromFile[k] !== undefined && fromFile[k] !== fromConfig[k])
    .map((k) => `${SUMMARY_LABELS[k]}: config ${String(fromConfig[k])}, weights ${String(fromFile[k])}`);
  const notT5 = !ckpt.has('shared.weight') && fromFile.encoderBlocks === 0;
  if (notT5 || diffs.length > 0) {
    const why = notT5 ? 'the file does not look like a T5 checkpoint (no shared.weight, no encoder.block.*)' : diffs.join('; ');
    throw new T5WeightsError('ARCHITECTURE_MISMATCH', `these weights are for a different architecture than the config describes: ${why}. ` +
      `Use the config.json that came with the weights. First problem: ${first.detail}${more}`, { tensor: first.tensor, problems, source: ckpt.source });
  }
  throw new T5WeightsError(first.code, `${first.detail}${more}`, { tensor: first.tensor, problems, source: ckpt.source });
}

/** Options for {@link loadT5Weights}. */
export interface LoadT5WeightsOptions {
  /** Mark the loaded tensors trainable (default false: a frozen model records no graph). */
  requiresGrad?: boolean;
}

/**
 * Checks `ckpt` against `config` and loads every parameter as a float32 tensor on the current
 * backend. Tensors are read and uploaded one at a time, so at most one tensor exists twice (host
 * and backend) at any moment; the checkpoint is not closed.
 *
 * @returns HF state-dict name → tensor, in `named_parameters()` order
 * @throws {@link T5WeightsError} as {@link checkT5Checkpoint}, or `BAD_FILE` on a read failure
 */
export function loadT5Weights(config: T5Config, ckpt: T5Checkpoint, options: LoadT5WeightsOptions = {}): Map<string, Tensor> {
  const specs = checkT5Checkpoint(config, ckpt);
  const out = new Map<string, Tensor>();
  try {
    for (const s of specs) {
      const { data } = ckpt.readFloat32(s.name);
      const t = tensor(data, { shape: s.shape, dtype: 'float32' });
      if (options.requiresGrad) t.requiresGrad_(true);
      out.set(s.name, t);
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}
