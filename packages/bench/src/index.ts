export * from './harness.js';
export * from './svg.js';
export * from './cpu/matmul-cpu.js';
