/**
 * `@tpvjs/tensor`: an autograd tensor engine with a TypeScript CPU backend and a WebGPU
 * backend. Import ops as functions (`add(a, b)`) or methods (`a.add(b)`).
 * @packageDocumentation
 */
import { CpuBackend } from './backends/cpu/cpu-backend.js';
import { registerBackend } from './core/engine.js';
import { registerWebGPU } from './backends/webgpu/index.js';

export { Tensor, type GradNode } from './core/tensor.js';
export type { DType, TypedArray } from './core/dtype.js';
export { TensorError, type TensorErrorCode } from './core/errors.js';
export { type Shape, broadcastShapes, sizeOf } from './core/shape.js';
export {
  setBackend, getBackend, findBackend, registerBackend, registerBackendFactory, memory, type MemoryInfo,
} from './core/engine.js';
export { tidy, keep, dispose, noGrad, isGradEnabled } from './core/tidy.js';
export { gradCheck, type GradCheckInput, type GradCheckResult } from './core/gradcheck.js';
export * from './ops/index.js';
export * as optim from './optim/index.js';
export { AdamW, clipGradNorm, linearWarmupDecay, LinearWarmupSchedule } from './optim/index.js';
export { Generator, manualSeed, defaultGenerator } from './random/generator.js';
export { philox4x32, type RandomStream } from './random/philox.js';
export type { Backend, TensorRef, UnaryOp, BinaryOp, ReduceOp, AdamWHyper, BackendMemory } from './backends/backend.js';
export { CpuBackend } from './backends/cpu/cpu-backend.js';
export { createWebGPUBackend, registerWebGPU, probeWebGPU, createGPU, loadDawn, WebGPUBackend, MATMUL_VARIANTS, type WebGPUOptions, type WebGPUInfo, type WebGPUStats } from './backends/webgpu/index.js';
export * from './io/index.js';

registerBackend(new CpuBackend());
registerWebGPU();
