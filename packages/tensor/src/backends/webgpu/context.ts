/**
 * The narrow interface kernel launchers see: allocate, dispatch, and the device facts that
 * steer variant choice. Keeping kernels off the backend class means each kernel family is a
 * plain module of functions that can be read (and tested) on its own.
 */
import type { TensorRef } from '../backend.js';
import type { ShaderSource } from './kernels/wgsl.js';

/** A tensor's buffer on the GPU (the `storage` of a {@link TensorRef}). */
export interface GpuStorage {
  readonly buffer: GPUBuffer;
  /** Allocated bytes (a pool size class, ≥ 4 · elements). */
  readonly bytes: number;
  /** Set by `free`; guards against double release into the pool. */
  freed: boolean;
}

/** A tensor as a kernel sees it. */
export type GpuRef = TensorRef<GpuStorage>;

/** One compute dispatch. */
export interface Dispatch {
  /** Kernel name: pipeline label, `WEBGPU_PRINT_SHADER` filter, error messages. */
  name: string;
  shader: ShaderSource;
  /** Storage buffers for bindings 1..n, in the order of `shader.access`. */
  buffers: readonly GPUBuffer[];
  /** Uniform words (u32 bit patterns) read by `P(i)` in the shader. */
  uniforms: Uint32Array;
  /** Workgroup counts; a zero anywhere skips the dispatch. */
  workgroups: readonly [number, number?, number?];
}

/** Device facts used to size launches and pick kernel variants. */
export interface DeviceFacts {
  maxInvocationsPerWorkgroup: number;
  maxWorkgroupStorageBytes: number;
  /** Largest buffer a kernel can bind (tensors are bound whole). */
  maxBindingBytes: number;
  /** A CPU emulation (lavapipe, SwiftShader): barriers and workgroup memory are expensive there. */
  software: boolean;
}

/** What a kernel launcher can do. */
export interface KernelContext {
  readonly facts: DeviceFacts;
  /** A new buffer for `elements` 4-byte elements (contents undefined). */
  alloc(elements: number): GpuStorage;
  /** Releases a temporary buffer (after the pending submit, like any free). */
  release(s: GpuStorage): void;
  /** Records a dispatch in the current batch. */
  run(d: Dispatch): void;
  /** A 16-byte device buffer kernels flag bad indices into (checked at every read). */
  readonly errorFlag: GPUBuffer;
}

/** Packs numbers into u32 uniform words; floats are stored by their f32 bit pattern. */
export class Uniforms {
  private readonly words: number[] = [];
  private readonly f = new Float32Array(1);
  private readonly u = new Uint32Array(this.f.buffer);

  /** Appends unsigned (or non-negative) integers. */
  u32(...xs: number[]): this {
    for (const x of xs) this.words.push(x >>> 0);
    return this;
  }

  /** Appends signed integers (two's complement). */
  i32(...xs: number[]): this {
    for (const x of xs) this.words.push(x | 0);
    return this;
  }

  /** Appends f32 values by bit pattern. */
  f32(...xs: number[]): this {
    for (const x of xs) {
      this.f[0] = x;
      this.words.push(this.u[0]!);
    }
    return this;
  }

  /** Current word count (the index the next value lands at). */
  get length(): number {
    return this.words.length;
  }

  /** The packed words. */
  build(): Uint32Array {
    return Uint32Array.from(this.words, (w) => w >>> 0);
  }
}
