/**
 * Command line for the WebGPU benchmark:
 * `node packages/bench/dist/webgpu/run.js [--json out.json] [--rounds 3] [--sizes 256,512] [--groups matmul,t5]
 *  [--variants 2,3,5] [--no-peers] [--no-check] [--tfjs-from DIR]`.
 */
import { parseArgs } from 'node:util';
import { benchWebGPUMatmul } from './matmul-webgpu.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    rounds: { type: 'string' },
    sizes: { type: 'string' },
    groups: { type: 'string' },
    variants: { type: 'string' },
    'no-peers': { type: 'boolean' },
    'no-check': { type: 'boolean' },
    'tfjs-from': { type: 'string' },
  },
});
const list = (s?: string) => s?.split(',').map((x) => x.trim()).filter(Boolean);
await benchWebGPUMatmul({
  json: values.json,
  rounds: values.rounds ? Number(values.rounds) : undefined,
  sizes: list(values.sizes)?.map(Number),
  groups: list(values.groups) as never,
  variants: list(values.variants)?.map(Number),
  peers: !values['no-peers'],
  check: !values['no-check'],
  tfjsFrom: values['tfjs-from'],
});
