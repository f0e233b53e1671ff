/**
 * Command batching. Dispatches accumulate in one compute pass of one command encoder and are
 * submitted together: every `maxDispatches` launches, when the uniform arena fills, before a
 * read-back, or at the end of the current synchronous stretch of JavaScript (a deferred flush),
 * whichever comes first. Per-dispatch submits cost a fence each (webgpu-torch); tfjs batches 15.
 *
 * Uniforms for a whole batch go into one CPU arena, written with a single `writeBuffer` right
 * before the submit. The same GPU uniform buffer is reused by the next batch: `writeBuffer` and
 * `submit` execute in queue order, so the next batch's write lands after this batch ran.
 */
import type { Dispatch } from './context.js';
import type { GpuErrorTracker } from './errors.js';
import { BufferUsage } from './buffer-pool.js';
import type { PipelineCache } from './pipelines.js';

/** Batching knobs. */
export interface QueueOptions {
  /** Dispatches per submit (default 32). */
  maxDispatches: number;
  /** Bytes of the uniform arena (default 64 KiB). */
  uniformBytes: number;
}

const defer: (f: () => void) => void =
  typeof setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0);

/** Records dispatches and copies and submits them in batches. */
export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private count = 0;
  private names: string[] = [];
  private readonly arena: Uint32Array;
  private arenaUsed = 0;
  private readonly uniformBuffer: GPUBuffer;
  private readonly align: number;
  private afterSubmit: (() => void)[] = [];
  private flushScheduled = false;
  /** Dispatches and submits so far (for tests and benchmarks). */
  readonly stats = { dispatches: 0, submits: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
    private readonly errors: GpuErrorTracker,
    private readonly options: QueueOptions,
  ) {
    this.arena = new Uint32Array(options.uniformBytes / 4);
    this.uniformBuffer = device.createBuffer({
      size: options.uniformBytes,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    this.align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
  }

  /** Whether commands are recorded but not yet submitted. */
  get pending(): boolean {
    return this.encoder !== null;
  }

  /** Records one dispatch. */
  dispatch(d: Dispatch): void {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const bytes = Math.max(16, Math.ceil((d.uniforms.length * 4) / 16) * 16);
    if (this.count >= this.options.maxDispatches || this.arenaUsed + bytes > this.arena.byteLength) this.flush();
    const offset = this.arenaUsed;
    this.arena.set(d.uniforms, offset / 4);
    this.arenaUsed = Math.ceil((offset + bytes) / this.align) * this.align;
    const { pipeline, layout } = this.pipelines.get(d.name, d.shader.code, d.shader.access);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset, size: bytes } }];
    d.buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const group = this.device.createBindGroup({ layout, entries });
    const pass = this.beginPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    this.count++;
    this.stats.dispatches++;
    this.names.push(d.name);
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.names.push('copy');
  }

  /**
   * Runs `fn` once everything recorded so far has been submitted (immediately when nothing is
   * pending): buffers go back to the pool through this.
   */
  whenSubmitted(fn: () => void): void {
    if (this.encoder) this.afterSubmit.push(fn);
    else fn();
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.arena.buffer, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    const names = this.names;
    const n = this.stats.submits;
    this.errors.rotate(() => `submit #${n} (${summarize(names)})`);
    this.encoder = null;
    this.count = 0;
    this.arenaUsed = 0;
    this.names = [];
    const after = this.afterSubmit;
    this.afterSubmit = [];
    for (const f of after) f();
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      if (!this.flushScheduled) {
        // Submit at the end of the current synchronous run of ops, so the GPU starts while JS
        // awaits something else and freed buffers return to the pool promptly.
        this.flushScheduled = true;
        defer(() => {
          this.flushScheduled = false;
          if (!this.errors.lost) this.flush();
        });
      }
    }
    return this.encoder;
  }

  private beginPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
}

/** "kernels: add×3, matmul_v2" — names the work of a failing submit without flooding the message. */
function summarize(names: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const parts = [...counts].slice(0, 12).map(([n, c]) => (c > 1 ? `${n}×${c}` : n));
  if (counts.size > 12) parts.push('…');
  return `kernels: ${parts.join(', ')}`;
}
