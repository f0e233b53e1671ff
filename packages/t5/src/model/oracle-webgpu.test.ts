/** T5 + PEFT oracle on WebGPU with the kernels the adapter's profile picks (software tuning on lavapipe). */
import { defineWebGPUOracleSuite } from './__tests__/oracle-webgpu-suite.js';

await defineWebGPUOracleSuite('auto profile');
