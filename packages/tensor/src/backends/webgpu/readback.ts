/**
 * Getting results (and errors) back from the device. `read()` copies a buffer and the kernels'
 * error flag into one staging buffer in the same submit, maps it, then reports — in this order —
 * device loss, Dawn errors of every earlier submit, and bad indices flagged by kernels. Nothing
 * waits forever: a mapping races the device-lost promise.
 */
import { TensorError } from '../../core/errors.js';
import { type BufferPool, BufferUsage, MAP_MODE_READ } from './buffer-pool.js';
import type { GpuErrorTracker } from './errors.js';
import { FLAG_GATHER, FLAG_SCATTER, FLAG_TARGET } from './kernels/gather.js';
import type { CommandQueue } from './queue.js';

const FLAG_BYTES = 16;

const FLAG_MESSAGE: Record<number, string> = {
  [FLAG_GATHER]: 'embedding index {v} is out of range for {n} rows',
  [FLAG_TARGET]: 'cross-entropy target {v} is out of range for {n} classes',
  [FLAG_SCATTER]: 'embedding-gradient index {v} is out of range for {n} rows',
};

/** Read-back, synchronisation and the device-side error flag of one backend. */
export class Readback {
  /** 16 bytes kernels flag bad indices into: [code, value, limit, 0]. */
  readonly errorFlag: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    private readonly queue: CommandQueue,
    private readonly staging: BufferPool,
    private readonly errors: GpuErrorTracker,
    private readonly lost: Promise<never>,
  ) {
    this.errorFlag = device.createBuffer({
      size: FLAG_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      label: 'error-flag',
    });
  }

  /** Copies `bytes` of `src` to the host after all recorded work. */
  async read(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const flagAt = Math.ceil(bytes / 16) * 16;
    const data = await this.fetch(flagAt + FLAG_BYTES, (dst) => {
      this.queue.copy(src, 0, dst, 0, bytes);
      this.queue.copy(this.errorFlag, 0, dst, flagAt, FLAG_BYTES);
    });
    this.checkFlag(new Uint32Array(data, flagAt, 4));
    return data;
  }

  /** Waits for all recorded work, then reports errors as {@link read} does. */
  async sync(): Promise<void> {
    const data = await this.fetch(FLAG_BYTES, (dst) => this.queue.copy(this.errorFlag, 0, dst, 0, FLAG_BYTES));
    this.checkFlag(new Uint32Array(data));
  }

  private async fetch(total: number, record: (dst: GPUBuffer) => void): Promise<ArrayBuffer> {
    this.errors.throwIfLost();
    const st = this.staging.acquire(total);
    record(st.buffer);
    this.queue.flush();
    let data: ArrayBuffer;
    try {
      data = await this.map(st.buffer, total);
    } finally {
      if (!this.errors.lost) this.staging.release(st);
    }
    await this.errors.check();
    return data;
  }

  private async map(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    try {
      await Promise.race([buffer.mapAsync(MAP_MODE_READ, 0, bytes), this.lost]);
    } catch (e) {
      if (e instanceof TensorError) throw e;
      this.errors.throwIfLost();
      await this.errors.check();
      throw new TensorError('BACKEND', `WebGPU read-back failed: ${(e as Error).message}`);
    }
    const out = buffer.getMappedRange(0, bytes).slice(0);
    buffer.unmap();
    return out;
  }

  /** Throws (and clears) an index error raised by a kernel since the last check. */
  private checkFlag(words: Uint32Array): void {
    if (words[0] === 0) return;
    const code = words[0]!;
    this.device.queue.writeBuffer(this.errorFlag, 0, new Uint32Array(4));
    const what = (FLAG_MESSAGE[code] ?? 'index {v} is out of range for {n}')
      .replace('{v}', String(words[1]! | 0))
      .replace('{n}', String(words[2]!));
    throw new TensorError('ARGUMENT', `${what} (raised by a WebGPU kernel before this read)`);
  }
}
