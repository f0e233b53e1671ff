/**
 * The engine must also load where there is no Node.js (a browser, a worker): bundle it for the
 * browser platform and run a small training loop in a VM context that has no `process`,
 * `require` or file system — the CPU backend (wasm GEMM, one thread) must work, and file IO must
 * fail with a typed error instead of crashing at import time.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';

describe('browser-like runtime (no process, no node: modules)', () => {
  it('bundles for the browser and trains on the CPU backend', async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'T',
      external: ['webgpu'],
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/\bimport\s+[\w{}*\s,]+\s+from\s+["']node:/);
    const logs: string[] = [];
    const ctx = vm.createContext({ console: { log: (s: string) => logs.push(s) }, WebAssembly, TextEncoder, TextDecoder, performance });
    vm.runInContext(code, ctx);
    const result = vm.runInContext(
      `(() => {
        const w = T.randn([3, 16], { requiresGrad: true, generator: new T.Generator(1) });
        const x = T.randn([64, 16], { generator: new T.Generator(2) });
        const y = T.tensor(Array.from({ length: 64 }, (_, i) => i % 3), { dtype: 'int32' });
        const opt = new T.AdamW([w], { lr: 0.05 });
        const losses = [];
        for (let s = 0; s < 30; s++) {
          const l = T.tidy(() => { opt.zeroGrad(); const l = T.crossEntropy(T.linear(x, w), y); l.backward(); opt.step(); return l.detach(); });
          losses.push(l.dataSync()[0]);
          l.dispose();
        }
        const m = T.matmul(T.randn([300, 300]), T.randn([300, 300]));
        let io = '';
        try { T.SafetensorsFile.open('/nope'); } catch (e) { io = e.name + ':' + e.code; }
        return { first: losses[0], last: losses[losses.length - 1], shape: m.shape, io, hasProcess: typeof process };
      })()`,
      ctx,
    ) as { first: number; last: number; shape: number[]; io: string; hasProcess: string };
    expect(result.hasProcess).toBe('undefined');
    expect(result.last).toBeLessThan(result.first * 0.5);
    expect(Array.from(result.shape)).toEqual([300, 300]);
    expect(result.io).toBe('SafetensorsError:IO');
  });
});
