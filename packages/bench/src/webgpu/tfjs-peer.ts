/**
 * Loads tfjs-webgpu on the *same* Dawn `GPU` instance (hence the same adapter) as tpv's WebGPU
 * backend, following `spec/peer-bench.md`: install Dawn's globals, set `navigator.gpu`, and
 * only then import the backend (it registers itself at import time iff `navigator.gpu` exists).
 *
 * `@tensorflow/tfjs-backend-webgpu` is resolved at run time (not a compile-time import), so the
 * package builds whether or not the peer is installed; tfjs-core is resolved from the backend's
 * own location so both share one engine instance.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createGPU, loadDawn } from '@tpvjs/tensor';

/** The subset of tfjs-core the benchmark uses. */
export type Tfjs = typeof import('@tensorflow/tfjs-core');

/**
 * tfjs-core with the webgpu backend active, or null (with the reason) when the peer is not
 * installed. `resolveFrom` is a directory or file to resolve the packages from (default: here).
 */
export async function loadTfjsWebGPU(resolveFrom: string = import.meta.url): Promise<{ tf: Tfjs } | { error: string }> {
  try {
    const require = createRequire(resolveFrom.startsWith('file:') ? resolveFrom : pathToFileURL(`${resolveFrom.replace(/\/$/, '')}/`).href);
    const backendPath = require.resolve('@tensorflow/tfjs-backend-webgpu');
    const corePath = createRequire(backendPath).resolve('@tensorflow/tfjs-core');
    const { globals } = await loadDawn();
    for (const [k, v] of Object.entries(globals as Record<string, unknown>)) {
      if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
    }
    const gpu = await createGPU();
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    // A CJS module imported from ESM may arrive as a namespace or wrapped in `default`.
    const ns = (await import(pathToFileURL(corePath).href)) as { default?: Tfjs; setBackend?: unknown };
    const core = (typeof ns.setBackend === 'function' ? ns : ns.default) as Tfjs;
    await import(pathToFileURL(backendPath).href);
    if (!(await core.setBackend('webgpu'))) return { error: "tf.setBackend('webgpu') failed" };
    await core.ready();
    return { tf: core };
  } catch (e) {
    return { error: `tfjs-webgpu unavailable: ${(e as Error).message.split('\n')[0]}` };
  }
}
