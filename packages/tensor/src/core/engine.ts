import type { Backend } from '../backends/backend.js';
import { TensorError } from './errors.js';
import type { Tensor } from './tensor.js';

/**
 * A buffer shared by tensors that view the same data (reshape, detach). Reference counted so
 * a buffer is freed exactly when its last tensor is disposed.
 */
export class Storage {
  /** Live tensors that use this buffer. */
  refs = 1;
  constructor(
    /** Owning backend. */
    readonly backend: Backend,
    /** Backend-specific buffer handle. */
    readonly handle: unknown,
    /** Size in bytes, as counted by {@link memory}. */
    readonly bytes: number,
  ) {
    engine.onAlloc(this);
  }
}

interface BackendCounters {
  tensors: number;
  bytes: number;
}

/** Memory report returned by {@link memory}. */
export interface MemoryInfo {
  /** Live tensors on all backends. */
  numTensors: number;
  /** Bytes of live buffers on all backends. */
  numBytes: number;
  /** Per-backend figures; `pooledBytes` is what a backend keeps for reuse. */
  backends: Record<string, { tensors: number; bytes: number; pooledBytes: number }>;
}

class Engine {
  readonly backends = new Map<string, Backend>();
  readonly factories = new Map<string, () => Backend | Promise<Backend>>();
  current: Backend | null = null;
  readonly counters = new Map<string, BackendCounters>();
  readonly scopes: Set<Tensor>[] = [];
  gradEnabled = true;
  nextId = 1;

  counter(name: string): BackendCounters {
    let c = this.counters.get(name);
    if (!c) {
      c = { tensors: 0, bytes: 0 };
      this.counters.set(name, c);
    }
    return c;
  }

  onAlloc(s: Storage): void {
    this.counter(s.backend.name).bytes += s.bytes;
  }

  onFree(s: Storage): void {
    this.counter(s.backend.name).bytes -= s.bytes;
    s.backend.free(s.handle);
  }

  onTensorCreated(t: Tensor): void {
    this.counter(t.backend.name).tensors++;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.add(t);
  }

  onTensorDisposed(t: Tensor): void {
    this.counter(t.backend.name).tensors--;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.delete(t);
  }

  backend(): Backend {
    if (!this.current) {
      const cpu = this.backends.get('cpu');
      if (!cpu) throw new TensorError('BACKEND', 'no backend is registered');
      this.current = cpu;
    }
    return this.current;
  }
}

/** The process-wide engine state (backends, memory counters, tidy scopes, grad mode). */
export const engine = new Engine();

/** Registers a backend that is ready to use (the CPU backend registers itself). */
export function registerBackend(backend: Backend): void {
  engine.backends.set(backend.name, backend);
}

/** Registers a backend created on first use (WebGPU needs an async adapter request). */
export function registerBackendFactory(name: string, factory: () => Backend | Promise<Backend>): void {
  engine.factories.set(name, factory);
}

/**
 * Makes `name` the backend new tensors are created on, creating it if needed.
 * @returns the backend.
 */
export async function setBackend(name: string): Promise<Backend> {
  let b = engine.backends.get(name);
  if (!b) {
    const f = engine.factories.get(name);
    if (!f) {
      const known = [...new Set([...engine.backends.keys(), ...engine.factories.keys()])].join(', ');
      throw new TensorError('BACKEND', `unknown backend '${name}' (known: ${known})`);
    }
    b = await f();
    engine.backends.set(name, b);
  }
  engine.current = b;
  return b;
}

/** The backend new tensors are created on. */
export function getBackend(): Backend {
  return engine.backend();
}

/** A registered (already created) backend by name, or undefined. */
export function findBackend(name: string): Backend | undefined {
  return engine.backends.get(name);
}

/** Live tensors and bytes per backend, plus what backends keep pooled. */
export function memory(): MemoryInfo {
  const backends: MemoryInfo['backends'] = {};
  let numTensors = 0;
  let numBytes = 0;
  for (const [name, c] of engine.counters) {
    const b = engine.backends.get(name);
    backends[name] = { tensors: c.tensors, bytes: c.bytes, pooledBytes: b ? b.memory().pooledBytes : 0 };
    numTensors += c.tensors;
    numBytes += c.bytes;
  }
  return { numTensors, numBytes, backends };
}
