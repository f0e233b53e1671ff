/**
 * The same oracle with the WebGPU backend forced to its discrete-GPU tuning (the matmul variants,
 * workgroup sizes and reductions an NVIDIA card gets), so CI on lavapipe checks the kernels a GPU
 * would run at T5 scale. The env var is read when the backend is created, once per test process.
 */
import { expect, it } from 'vitest';
import { setBackend } from '@tpvjs/tensor';
import { withWebGPU } from '../../../tensor/src/testing/webgpu-gate.js';

process.env.TPV_WEBGPU_PROFILE = 'gpu';
const { defineWebGPUOracleSuite } = await import('./__tests__/oracle-webgpu-suite.js');
await defineWebGPUOracleSuite('gpu profile');

await withWebGPU('webgpu gpu-profile check', () => {
  it('really runs with the GPU tuning', async () => {
    const b = (await setBackend('webgpu')) as unknown as { facts: { software: boolean } };
    expect(b.facts.software).toBe(false);
    await setBackend('cpu');
  });
});
