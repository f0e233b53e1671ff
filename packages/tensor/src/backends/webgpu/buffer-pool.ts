/**
 * GPU buffers pooled by size class. Exact-size pools thrash on dynamic shapes (ORT found T5
 * decoders reallocating every step, ORT #18754), so sizes round up to one of four classes per
 * power of two (at most 25% slack). Buffers come back through {@link BufferPool.release} only
 * after the submit that last used them: the queue executes in order, so a later writeBuffer or
 * dispatch on a reused buffer cannot overtake earlier work.
 */

/** `GPUBufferUsage` flags (spec constants; Node has no global for them unless installed). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** `GPUMapMode.READ`. */
export const MAP_MODE_READ = 0x0001;

const MIN_CLASS = 256;

/**
 * The pool size class for a request of `bytes`: 256 B minimum, then 2^e·{1, 1.25, 1.5, 1.75, 2}.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const base = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = base / 4;
  return base + Math.ceil((bytes - base) / step) * step;
}

/** A pooled GPU buffer and the size class it belongs to. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Allocated size in bytes (the size class, clamped to the device limit). */
  readonly bytes: number;
}

/** A free list of GPU buffers of one usage, keyed by size class. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooled = 0;
  private live = 0;
  private created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly label: string,
    /** Largest buffer this pool may create (the relevant device limit). */
    readonly maxBytes: number,
    /** Free bytes kept before released buffers are destroyed instead of pooled. */
    private readonly keepBytes: number,
  ) {}

  /** A buffer of at least `bytes` bytes; reuses a pooled one of the same class when possible. */
  acquire(bytes: number): PooledBuffer {
    // Clamp to the limit (and a multiple of 4) so the largest legal request still fits its class.
    const cls = Math.min(sizeClass(bytes), Math.floor(this.maxBytes / 4) * 4);
    const list = this.free.get(cls);
    const reused = list?.pop();
    this.live += cls;
    if (reused) {
      this.pooled -= cls;
      return { buffer: reused, bytes: cls };
    }
    this.created++;
    const buffer = this.device.createBuffer({ size: cls, usage: this.usage, label: `${this.label}:${cls}` });
    return { buffer, bytes: cls };
  }

  /** Returns a buffer whose last use has been submitted. */
  release(b: PooledBuffer): void {
    this.live -= b.bytes;
    if (this.pooled + b.bytes > this.keepBytes) {
      b.buffer.destroy();
      return;
    }
    let list = this.free.get(b.bytes);
    if (!list) {
      list = [];
      this.free.set(b.bytes, list);
    }
    list.push(b.buffer);
    this.pooled += b.bytes;
  }

  /** Destroys every pooled (not live) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooled = 0;
  }

  /** Bytes held for reuse. */
  get pooledBytes(): number {
    return this.pooled;
  }

  /** Bytes of buffers handed out and not yet released. */
  get liveBytes(): number {
    return this.live;
  }

  /** Buffers created so far (a steady-state training loop should stop creating them). */
  get createdCount(): number {
    return this.created;
  }
}
