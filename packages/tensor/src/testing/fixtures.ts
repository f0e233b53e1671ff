/**
 * The PyTorch golden values (`test-data/torch-ops.json`, generated with PyTorch 1.13 in float64
 * from float32-representable inputs) and the mapping from each fixture op name to the public
 * API call that computes it.
 */
import { readFileSync } from 'node:fs';
import * as T from '../index.js';
import type { OpCase } from './evaluate.js';

interface FixtureTensor {
  shape: number[];
  values: number[];
}

/** One golden case as stored in the JSON. */
export interface FixtureCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: FixtureTensor[];
  ints: Record<string, FixtureTensor>;
  out: FixtureTensor;
  w?: number[];
  grads?: (number[] | null)[];
}

/** The whole fixture file. */
export interface TorchFixture {
  cases: FixtureCase[];
  adamw: {
    p0: number[];
    shape: number[];
    grads: number[][];
    lr: number;
    weight_decay: number;
    betas: [number, number];
    eps: number;
    trajectory: number[][];
  };
  schedule: { warmup: number; total: number; base_lr: number; lrs: number[]; steps: number[] };
  clip: { grads: FixtureTensor[]; max_norm: number; total_norm: number; clipped: number[][] };
}

/** Default location: `packages/tensor/test-data/torch-ops.json` (works from src/ and dist/). */
export const DEFAULT_FIXTURE = new URL('../../test-data/torch-ops.json', import.meta.url);

/** Loads and parses the fixture. */
export function loadFixture(path: string | URL = DEFAULT_FIXTURE): TorchFixture {
  return JSON.parse(readFileSync(path, 'utf8')) as TorchFixture;
}

type Run = OpCase['run'];

const num = (p: Record<string, unknown>, k: string) => p[k] as number;

/** The public-API implementation of each fixture op. */
export function fixtureOp(c: FixtureCase): Run {
  const p = c.params;
  const unary = (f: (x: T.Tensor) => T.Tensor): Run => ([x]) => f(x!);
  switch (c.op) {
    case 'add':
      return ([a, b]) => T.add(a!, b!);
    case 'sub':
      return ([a, b]) => T.sub(a!, b!);
    case 'mul':
      return ([a, b]) => T.mul(a!, b!);
    case 'div':
      return ([a, b]) => T.div(a!, b!);
    case 'matmul':
      return ([a, b]) => T.matmul(a!, b!);
    case 'softmax':
      return ([x]) => T.softmax(x!, num(p, 'dim'));
    case 'logSoftmax':
      return ([x]) => T.logSoftmax(x!, num(p, 'dim'));
    case 'crossEntropy':
      return ([x], ints) => T.crossEntropy(x!, ints.targets!, { ignoreIndex: num(p, 'ignoreIndex') });
    case 'gelu':
      return ([x]) => T.gelu(x!, p.approximate as 'none' | 'tanh');
    case 'silu':
      return unary(T.silu);
    case 'relu':
      return unary(T.relu);
    case 'tanh':
      return unary(T.tanh);
    case 'exp':
      return unary(T.exp);
    case 'log':
      return unary(T.log);
    case 'sqrt':
      return unary(T.sqrt);
    case 'rsqrt':
      return unary(T.rsqrt);
    case 'pow':
      return ([x]) => T.pow(x!, num(p, 'exponent'));
    case 'rmsNorm':
      return ([x, w]) => T.rmsNorm(x!, w!, num(p, 'eps'));
    case 'layerNorm':
      return ([x, w, b]) => T.layerNorm(x!, w!, b!, num(p, 'eps'));
    case 'sum':
      return ([x]) => T.sum(x!, p.dim as number | undefined, (p.keepdim as boolean | undefined) ?? false);
    case 'mean':
      return ([x]) => T.mean(x!, p.dim as number | undefined, (p.keepdim as boolean | undefined) ?? false);
    case 'max':
      return ([x]) => T.max(x!, p.dim as number | undefined, (p.keepdim as boolean | undefined) ?? false);
    case 'embedding':
      return ([w], ints) => T.embedding(w!, ints.ids!);
    case 'permuteReshape':
      return ([x]) => T.reshape(T.permute(x!, p.dims as number[]), p.shape as number[]);
    case 'transpose':
      return ([x]) => T.transpose(x!, num(p, 'dim0'), num(p, 'dim1'));
    case 'cat':
      return (xs) => T.cat(xs, num(p, 'dim'));
    case 'narrow':
      return ([x]) => T.narrow(x!, num(p, 'dim'), num(p, 'start'), num(p, 'length'));
    case 'maskedFill':
      return ([x], ints) => T.maskedFill(x!, ints.mask!, num(p, 'value'));
    case 'clamp':
      return ([x]) => T.clamp(x!, p.min as number | null, p.max as number | null);
    default:
      throw new Error(`fixture op '${c.op}' has no mapping in testing/fixtures.ts`);
  }
}

/** A fixture case as an {@link OpCase} (masks become bool, other integer inputs int32). */
export function fixtureCase(c: FixtureCase): OpCase {
  const ints: OpCase['ints'] = {};
  for (const [k, v] of Object.entries(c.ints)) ints[k] = { ...v, dtype: k === 'mask' ? 'bool' : 'int32' };
  return {
    name: c.name,
    inputs: c.inputs.map((x, i) => ({ ...x, requiresGrad: c.grads ? c.grads[i] !== null : false })),
    ints,
    run: fixtureOp(c),
    w: c.w,
  };
}
