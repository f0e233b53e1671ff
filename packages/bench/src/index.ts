export * from './harness.js';
export * from './svg.js';
export * from './cpu/matmul-cpu.js';
export * from './t5/t5-bench.js';
export * from './webgpu/matmul-webgpu.js';
