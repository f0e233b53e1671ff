/**
 * The WebGPU backend: WGSL kernels for every primitive, on Dawn in Node (npm `webgpu`).
 * Register it with {@link registerWebGPU}, then `await setBackend('webgpu')`.
 * @module
 */
import { registerBackendFactory } from '../../core/engine.js';
import { createWebGPUBackend, type WebGPUOptions } from './device.js';

export { createWebGPUBackend, probeWebGPU, loadDawn, createGPU, NO_ADAPTER_HELP, type WebGPUOptions, type DawnModule } from './device.js';
export { WebGPUBackend, type WebGPUInfo, type WebGPUStats, type WebGPUBackendTuning } from './webgpu-backend.js';
export { MATMUL_TABLE, MATMUL_VARIANTS, chooseMatmulVariant, type MatmulShape, type MatmulRule } from './kernels/matmul.js';
export type { GpuStorage, DeviceFacts } from './context.js';

/**
 * Registers `'webgpu'` as a lazily created backend: nothing native loads until the first
 * `setBackend('webgpu')`, which then throws NO_ADAPTER (with setup instructions) if no adapter
 * exists.
 */
export function registerWebGPU(options: WebGPUOptions = {}): void {
  registerBackendFactory('webgpu', () => createWebGPUBackend(options));
}
