/**
 * WebGPU backend tests: the shared op suite (PyTorch goldens + parity with the CPU), plus what
 * only a device has: typed errors for validation failures, oversize allocations, bad indices
 * and device loss; flat memory over a training loop; batching and pipeline reuse.
 *
 * Without an adapter the suite is skipped with a loud notice, except in CI (`CI=true`), where a
 * missing adapter fails the run: CI installs lavapipe, so no adapter means a broken setup.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../index.js';
import { describeOpSuite } from '../../testing/op-suite.js';
import { createWebGPUBackend, type WebGPUBackend } from './index.js';
import { withWebGPU } from '../../testing/webgpu-gate.js';


await withWebGPU('webgpu tests', async () => {
  describeOpSuite('webgpu');
  // The same suite with the kernel choices made for real GPUs (workgroup-memory matmul tiles,
  // a workgroup per row in reductions and softmax), so CI on lavapipe covers those paths too.
  T.registerBackend(await createWebGPUBackend({ name: 'webgpu-gpu-profile', profile: 'gpu' }));
  describeOpSuite('webgpu-gpu-profile');

  const gpu = async () => (await T.setBackend('webgpu')) as WebGPUBackend;

  /** Expects `p` (a promise or a thunk) to fail with a TensorError of `code`. */
  async function expectCode(p: Promise<unknown> | (() => unknown), code: T.TensorErrorCode): Promise<T.TensorError> {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (e) {
      expect(e).toBeInstanceOf(T.TensorError);
      expect((e as T.TensorError).code, (e as Error).message).toBe(code);
      return e as T.TensorError;
    }
    throw new Error(`expected a TensorError '${code}'`);
  }

  describe('webgpu backend', () => {
    it('reports the adapter, the real limits and features', async () => {
      const b = await gpu();
      expect(b.info.vendor.length + b.info.device.length).toBeGreaterThan(0);
      expect(b.info.backendType).toBeTruthy();
      expect(Array.isArray(b.info.features)).toBe(true);
      // Requested at the adapter maximum, so at least the spec defaults.
      expect(b.info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
      expect(b.info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    });

    it('rejects float64 with a DTYPE error', async () => {
      await gpu();
      await expectCode(() => T.tensor(new Float64Array([1, 2])), 'DTYPE');
      await expectCode(() => T.zeros([2], { dtype: 'float64' }), 'DTYPE');
    });

    it('turns an invalid shader into a VALIDATION error at the next sync, and keeps working', async () => {
      const b = await gpu();
      b._debugRunShader('@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }', 'deliberately_invalid');
      const e = await expectCode(b.sync(), 'VALIDATION');
      expect(e.message).toMatch(/deliberately_invalid|convert/);
      const x = T.tensor([1, 2, 3]);
      expect(Array.from(await T.mul(x, x).data())).toEqual([1, 4, 9]);
      x.dispose();
    });

    it('fails allocations beyond the device limits immediately with OUT_OF_MEMORY', async () => {
      const b = await gpu();
      const max = Math.max(b.info.limits.maxBufferSize!, b.info.limits.maxStorageBufferBindingSize!);
      const before = T.memory().numTensors;
      const e = await expectCode(() => T.zeros([Math.floor(max / 4) + 1024]), 'OUT_OF_MEMORY');
      expect(e.message).toMatch(/maxStorageBufferBindingSize/);
      expect(T.memory().numTensors).toBe(before);
    });

    it('reports out-of-range embedding ids and cross-entropy targets as ARGUMENT at the next read', async () => {
      await gpu();
      const w = T.ones([4, 3]);
      const ids = T.tensor(new Int32Array([0, 7]));
      const y = T.embedding(w, ids);
      const e = await expectCode(y.data(), 'ARGUMENT');
      expect(e.message).toMatch(/index 7 is out of range for 4 rows/);
      const logits = T.zeros([2, 3]);
      const t = T.tensor(new Int32Array([1, 5]));
      const l = T.crossEntropy(logits, t);
      await expectCode(l.data(), 'ARGUMENT');
      // The flag is cleared: the next read succeeds.
      expect(Array.from(await w.sum().data())).toEqual([12]);
      T.dispose([w, ids, y, logits, t, l]);
    });

    it('batches many dispatches per submit and reuses pipelines across shapes', async () => {
      const b = await gpu();
      const s0 = b.stats();
      const xs = [3, 7, 100, 1000].map((n) => T.ones([n]));
      const ys = xs.map((x) => T.add(T.mul(x, 2), x));
      const sums = await Promise.all(ys.map((y) => y.sum().item()));
      expect(sums).toEqual([9, 21, 300, 3000]);
      const s1 = b.stats();
      // Same-rank contiguous kernels whatever the length: no new pipelines after the first size.
      expect(s1.pipelines - s0.pipelines).toBeLessThanOrEqual(4);
      expect(s1.dispatches - s0.dispatches).toBeGreaterThan(s1.submits - s0.submits);
      T.dispose([xs, ys]);
    });

    it('trains a small MLP for 100 AdamW steps with flat tensor counts and GPU bytes, matching the CPU', async () => {
      const run = async (backend: string) => {
        await T.setBackend(backend);
        const g = new T.Generator(42);
        const x = T.randn([64, 16], { generator: g });
        const target = T.tensor(Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 5));
        const w1 = T.mul(T.randn([32, 16], { generator: g }), 0.25);
        const w2 = T.mul(T.randn([5, 32], { generator: g }), 0.25);
        const params = [T.keep(w1).requiresGrad_(), T.zeros([32], { requiresGrad: true }), T.keep(w2).requiresGrad_(), T.zeros([5], { requiresGrad: true })];
        const [W1, b1, W2, b2] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor];
        const opt = new T.AdamW(params, { lr: 1e-2, weightDecay: 1e-4 });
        const losses: number[] = [];
        const samples: { tensors: number; bytes: number; live: number; pooled: number; created: number }[] = [];
        for (let step = 1; step <= 100; step++) {
          const loss = T.tidy(() => {
            const h = T.gelu(T.linear(x, W1, b1));
            const l = T.crossEntropy(T.linear(h, W2, b2), target);
            l.backward();
            return l;
          });
          T.clipGradNorm(params, 1.0).dispose();
          opt.step();
          opt.zeroGrad();
          if (step % 10 === 0) {
            losses.push(await loss.item());
            const m = T.memory();
            const st = backend === 'webgpu' ? (T.findBackend('webgpu') as WebGPUBackend).stats() : null;
            samples.push({
              tensors: m.numTensors,
              bytes: m.backends[backend]!.bytes,
              live: st?.liveBytes ?? 0,
              pooled: m.backends[backend]!.pooledBytes,
              created: st?.buffersCreated ?? 0,
            });
          }
          loss.dispose();
        }
        opt.dispose();
        T.dispose([params, x, target]);
        return { losses, samples };
      };
      const gpuRun = await run('webgpu');
      const cpuRun = await run('cpu');
      expect(gpuRun.losses[9]!).toBeLessThan(gpuRun.losses[0]! * 0.8);
      for (let i = 0; i < gpuRun.losses.length; i++) {
        expect(Math.abs(gpuRun.losses[i]! - cpuRun.losses[i]!)).toBeLessThan(1e-3 * Math.max(1, cpuRun.losses[i]!));
      }
      // After warm-up (step 20 on), nothing grows: tensors, live bytes, pooled bytes, buffers created.
      const steady = gpuRun.samples.slice(1);
      for (const s of steady) {
        expect(s.tensors).toBe(steady[0]!.tensors);
        expect(s.bytes).toBe(steady[0]!.bytes);
        expect(s.live + s.pooled).toBe(steady[0]!.live + steady[0]!.pooled);
        expect(s.created).toBe(steady[0]!.created);
      }
    });

    it('reports device loss as DEVICE_LOST instead of hanging', async () => {
      const b = await createWebGPUBackend();
      const x = b.upload(new Float32Array([1, 2, 3]), 'float32');
      b._debugLoseDevice();
      await new Promise((r) => setTimeout(r, 50));
      await expectCode(() => b.fill(4, 'float32', 1), 'DEVICE_LOST');
      await expectCode(b.read(x, 'float32', 3), 'DEVICE_LOST');
      await expectCode(b.sync(), 'DEVICE_LOST');
      b.free(x);
    });
  });
});
