/**
 * The WebGPU backend: owns the device, buffer pools, pipeline cache and command queue, and
 * forwards each primitive of {@link Backend} to its kernel family in `kernels/`. Everything is
 * asynchronous on the device; only `read()` and `sync()` wait, and they are where device errors
 * (validation, out-of-memory, bad indices flagged by kernels) surface as TensorErrors.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { TensorError } from '../../core/errors.js';
import type { Shape } from '../../core/shape.js';
import type { RandomStream } from '../../random/philox.js';
import type { AdamWHyper, Backend, BackendMemory, BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { BufferPool, BufferUsage } from './buffer-pool.js';
import type { DeviceFacts, GpuRef, GpuStorage, KernelContext } from './context.js';
import { GpuErrorTracker } from './errors.js';
import { adamw } from './kernels/adamw.js';
import { cat, stridedCopy } from './kernels/copy.js';
import { binary, cast, fill, unary, where } from './kernels/elementwise.js';
import { gather, scatterAddRows } from './kernels/gather.js';
import { type MatmulShape, chooseMatmulVariant, matmul } from './kernels/matmul.js';
import { random } from './kernels/random.js';
import { reduce } from './kernels/reduce.js';
import { rmsNorm, rmsNormGrad } from './kernels/rmsnorm.js';
import { crossEntropy, crossEntropyGrad, softmax } from './kernels/softmax.js';
import { gpuDType } from './kernels/wgsl.js';
import { PipelineCache } from './pipelines.js';
import { CommandQueue } from './queue.js';
import { Readback } from './readback.js';

/** What the adapter and device are (reported by {@link WebGPUBackend.info}). */
export interface WebGPUInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Native API under Dawn, inferred from the platform (Dawn does not report it). */
  backendType: string;
  isFallbackAdapter: boolean;
  /** Optional features enabled on the device. */
  features: string[];
  /** The limits the device was created with (the adapter's, not the spec defaults). */
  limits: Record<string, number>;
}

/** Tuning knobs of a backend instance. */
export interface WebGPUBackendTuning {
  /** Dispatches recorded before a submit (default 32). */
  dispatchesPerSubmit?: number;
  /** Free bytes kept in the buffer pool before freed buffers are destroyed (default 1 GiB). */
  poolKeepBytes?: number;
  /** Backend name (default `webgpu`); another name lets two differently tuned instances coexist. */
  name?: string;
}

/** Counters for tests and benchmarks. */
export interface WebGPUStats {
  /** Bytes of pooled buffers currently backing tensors (size classes, not logical sizes). */
  liveBytes: number;
  /** Bytes held for reuse (tensor and staging pools). */
  pooledBytes: number;
  /** Buffers created so far; flat in a steady-state loop. */
  buffersCreated: number;
  pipelines: number;
  dispatches: number;
  submits: number;
}

const SMALL_FILL_BYTES = 4096;

/** The WebGPU implementation of {@link Backend}; create it with `createWebGPUBackend`. */
export class WebGPUBackend implements Backend<GpuStorage> {
  /** Registered name (`webgpu` unless created with another). */
  readonly name: string;
  /**
   * Forces a matmul variant (0..5, see `kernels/matmul-wgsl.ts`); `null` uses the shape table.
   * The `TPV_MATMUL_VARIANT` environment variable does the same without code.
   */
  matmulVariant: number | null = null;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly errors: GpuErrorTracker;
  private readonly queue: CommandQueue;
  private readonly readback: Readback;
  private readonly ctx: KernelContext;

  /** @internal use `createWebGPUBackend`. */
  constructor(
    /** The Dawn device (exposed for interop, e.g. benchmarks sharing the adapter). */
    readonly device: GPUDevice,
    /** Adapter and device description. */
    readonly info: WebGPUInfo,
    /** Device facts that steer kernel variants. */
    readonly facts: DeviceFacts,
    tuning: WebGPUBackendTuning = {},
  ) {
    this.name = tuning.name ?? 'webgpu';
    this.errors = new GpuErrorTracker(device);
    this.pipelines = new PipelineCache(device);
    const keep = tuning.poolKeepBytes ?? 2 ** 30;
    const storage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
    this.pool = new BufferPool(device, storage, 'tensor', facts.maxBindingBytes, keep);
    this.staging = new BufferPool(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'staging', device.limits.maxBufferSize, keep);
    this.queue = new CommandQueue(device, this.pipelines, this.errors, {
      maxDispatches: tuning.dispatchesPerSubmit ?? 32,
      uniformBytes: 64 * 1024,
    });
    const lost = device.lost.then((): never => {
      throw this.errors.lost ?? new TensorError('DEVICE_LOST', 'WebGPU device lost');
    });
    lost.catch(() => undefined);
    this.readback = new Readback(device, this.queue, this.staging, this.errors, lost);
    this.ctx = {
      facts,
      errorFlag: this.readback.errorFlag,
      alloc: (n) => this.alloc(n),
      release: (s) => this.free(s),
      run: (d) => {
        this.errors.throwIfLost();
        this.queue.dispatch(d);
      },
    };
  }

  // ---------------------------------------------------------------------------------------
  // Memory
  // ---------------------------------------------------------------------------------------

  private alloc(elements: number): GpuStorage {
    this.errors.throwIfLost();
    const bytes = Math.max(4, elements * 4);
    if (bytes > this.facts.maxBindingBytes) {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      throw new TensorError(
        'OUT_OF_MEMORY',
        `cannot allocate ${elements} elements (${mib(bytes)}) on WebGPU: the largest buffer a kernel can bind on this device is ` +
          `${mib(this.facts.maxBindingBytes)} (maxStorageBufferBindingSize; maxBufferSize is ${mib(this.device.limits.maxBufferSize)}). ` +
          'Split the tensor (e.g. chunk the logits) or use a device with larger limits.',
      );
    }
    try {
      return { ...this.pool.acquire(bytes), freed: false };
    } catch (e) {
      throw new TensorError('OUT_OF_MEMORY', `WebGPU could not create a ${bytes}-byte buffer: ${(e as Error).message}`);
    }
  }

  /** Copies host data into a new buffer (bool is widened to u32). */
  upload(data: TypedArray, dtype: DType): GpuStorage {
    const t = gpuDType(dtype);
    const n = data.length;
    const s = this.alloc(n);
    if (n === 0) return s;
    let words: Float32Array | Int32Array | Uint32Array;
    if (t === 'float32') words = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    else if (t === 'int32') {
      words = data instanceof Int32Array ? data : new Int32Array(n);
      if (words !== data) words.set(data as ArrayLike<number>);
    } else {
      // Store what a Uint8Array would hold (the CPU bool representation), one u32 each.
      const u8 = data instanceof Uint8Array ? data : new Uint8Array(n);
      if (u8 !== data) u8.set(data as ArrayLike<number>);
      words = Uint32Array.from(u8);
    }
    this.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, n * 4);
    return s;
  }

  /** A new buffer with every element equal to `value` (converted like a typed-array store). */
  fill(size: number, dtype: DType, value: number): GpuStorage {
    const t = gpuDType(dtype);
    const s = this.alloc(size);
    if (size === 0) return s;
    const one = t === 'float32' ? new Float32Array([value]) : t === 'int32' ? new Int32Array([value]) : Uint32Array.of(new Uint8Array([value])[0]!);
    const bits = new Uint32Array(one.buffer)[0]!;
    if (size * 4 <= SMALL_FILL_BYTES) {
      // A fresh (or submitted-and-released) buffer: writing it now cannot race pending work.
      this.device.queue.writeBuffer(s.buffer, 0, new Uint32Array(size).fill(bits));
    } else {
      fill(this.ctx, s, size, bits);
    }
    return s;
  }

  /** Returns the buffer to the pool once the work that uses it has been submitted. */
  free(s: GpuStorage): void {
    if (s.freed) return;
    s.freed = true;
    if (this.errors.lost) return;
    this.queue.whenSubmitted(() => this.pool.release(s));
  }

  /** Bytes kept for reuse. */
  memory(): BackendMemory {
    return { pooledBytes: this.pool.pooledBytes + this.staging.pooledBytes };
  }

  /** Pool, pipeline and queue counters. */
  stats(): WebGPUStats {
    return {
      liveBytes: this.pool.liveBytes,
      pooledBytes: this.pool.pooledBytes + this.staging.pooledBytes,
      buffersCreated: this.pool.createdCount + this.staging.createdCount,
      pipelines: this.pipelines.size,
      dispatches: this.queue.stats.dispatches,
      submits: this.queue.stats.submits,
    };
  }

  /** Destroys pooled buffers (live tensors are untouched). */
  trimPool(): void {
    this.pool.trim();
    this.staging.trim();
  }

  // ---------------------------------------------------------------------------------------
  // Read-back and synchronisation
  // ---------------------------------------------------------------------------------------

  /** Reads `size` elements back to the host. */
  async read(s: GpuStorage, dtype: DType, size: number): Promise<TypedArray> {
    const t = gpuDType(dtype);
    if (s.freed) throw new TensorError('DISPOSED', 'read of a freed WebGPU buffer');
    const data = await this.readback.read(s.buffer, size * 4);
    if (t === 'float32') return new Float32Array(data, 0, size);
    if (t === 'int32') return new Int32Array(data, 0, size);
    return Uint8Array.from(new Uint32Array(data, 0, size));
  }

  /** Submits pending work and waits for it, then reports device errors and kernel index errors. */
  async sync(): Promise<void> {
    await this.readback.sync();
  }

  /** Submits recorded work without waiting. */
  flush(): void {
    this.queue.flush();
  }

  /** Releases the device; the backend is unusable afterwards. */
  dispose(): void {
    this.queue.flush();
    this.trimPool();
    this.device.destroy();
  }

  // ---------------------------------------------------------------------------------------
  // Kernels
  // ---------------------------------------------------------------------------------------

  cast(x: GpuRef, to: DType): GpuStorage {
    return cast(this.ctx, x, to);
  }

  unary(op: UnaryOp, x: GpuRef, outDtype: DType): GpuStorage {
    return unary(this.ctx, op, x, outDtype);
  }

  binary(op: BinaryOp, a: GpuRef, b: GpuRef, outShape: Shape, outDtype: DType): GpuStorage {
    return binary(this.ctx, op, a, b, outShape, outDtype);
  }

  where(c: GpuRef, a: GpuRef, b: GpuRef, outShape: Shape, outDtype: DType): GpuStorage {
    return where(this.ctx, c, a, b, outShape, outDtype);
  }

  reduce(op: ReduceOp, x: GpuRef, axes: number[]): GpuStorage {
    return reduce(this.ctx, op, x, axes);
  }

  matmul(a: GpuRef, b: GpuRef, transA: boolean, transB: boolean, outShape: Shape): GpuStorage {
    // Kernels read f32; integer operands are converted once up front.
    const af = a.dtype === 'float32' ? a : { ...a, storage: cast(this.ctx, a, 'float32'), dtype: 'float32' as const };
    const bf = b.dtype === 'float32' ? b : { ...b, storage: cast(this.ctx, b, 'float32'), dtype: 'float32' as const };
    const out = matmul(this.ctx, af, bf, transA, transB, outShape, this.matmulVariant);
    if (af !== a) this.free(af.storage);
    if (bf !== b) this.free(bf.storage);
    return out;
  }

  /** The matmul variant this backend would run for a problem (override, env, then the table). */
  matmulVariantFor(shape: MatmulShape): number {
    return chooseMatmulVariant(shape, this.facts, this.matmulVariant);
  }

  stridedCopy(x: GpuRef, outShape: Shape, strides: readonly number[], offset: number): GpuStorage {
    return stridedCopy(this.ctx, x, outShape, strides, offset);
  }

  cat(xs: GpuRef[], dim: number, outShape: Shape): GpuStorage {
    return cat(this.ctx, xs, dim, outShape);
  }

  gather(weight: GpuRef, ids: GpuRef): GpuStorage {
    return gather(this.ctx, weight, ids);
  }

  scatterAddRows(ids: GpuRef, src: GpuRef, numRows: number): GpuStorage {
    return scatterAddRows(this.ctx, ids, src, numRows);
  }

  softmax(x: GpuRef, log: boolean, bias?: GpuRef): GpuStorage {
    return softmax(this.ctx, x, log, bias);
  }

  rmsNorm(x: GpuRef, w: GpuRef, eps: number): { y: GpuStorage; r: GpuStorage } {
    return rmsNorm(this.ctx, x, w, eps);
  }

  rmsNormGrad(x: GpuRef, w: GpuRef, r: GpuRef, g: GpuRef, needW: boolean): { dx: GpuStorage; dw: GpuStorage | null } {
    return rmsNormGrad(this.ctx, x, w, r, g, needW);
  }

  crossEntropy(logits: GpuRef, targets: GpuRef, ignoreIndex: number): GpuStorage {
    return crossEntropy(this.ctx, logits, targets, ignoreIndex);
  }

  crossEntropyGrad(logits: GpuRef, targets: GpuRef, ignoreIndex: number): GpuStorage {
    return crossEntropyGrad(this.ctx, logits, targets, ignoreIndex);
  }

  random(kind: 'uniform' | 'normal', size: number, dtype: DType, stream: RandomStream): GpuStorage {
    if (gpuDType(dtype) !== 'float32') throw new TensorError('DTYPE', `random tensors must be float32 on WebGPU, got ${dtype}`);
    return random(this.ctx, kind, size, stream);
  }

  adamw(p: GpuRef, g: GpuRef, m: GpuRef, v: GpuRef, h: AdamWHyper): void {
    adamw(this.ctx, p, g, m, v, h);
  }

  // ---------------------------------------------------------------------------------------
  // Test hooks
  // ---------------------------------------------------------------------------------------

  /**
   * @internal Dispatches one workgroup of arbitrary WGSL (entry point `main`, no storage
   * bindings), for tests that need a shader Dawn rejects.
   */
  _debugRunShader(code: string, name = 'debug_shader'): void {
    this.ctx.run({ name, shader: { code, access: '' }, buffers: [], uniforms: new Uint32Array(4), workgroups: [1] });
  }

  /** @internal Destroys the device, as a driver reset would, to test device-loss handling. */
  _debugLoseDevice(): void {
    this.device.destroy();
  }
}
