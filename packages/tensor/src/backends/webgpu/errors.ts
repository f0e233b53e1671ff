/**
 * Turns Dawn's asynchronous error reporting into typed {@link TensorError}s. One set of error
 * scopes (validation, out-of-memory, internal) is always open; each submit closes it and opens
 * the next, so every device call belongs to exactly one submit's scope. The popped scopes are
 * awaited at the next `read()`/`sync()`, which rethrow the first error with the kernels of the
 * failing submit named. Device loss is recorded once and fails every later call immediately.
 */
import { TensorError, type TensorErrorCode } from '../../core/errors.js';

const FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

function codeOf(err: GPUError): TensorErrorCode {
  const kind = err.constructor?.name ?? '';
  if (kind.includes('OutOfMemory')) return 'OUT_OF_MEMORY';
  if (kind.includes('Validation')) return 'VALIDATION';
  return 'BACKEND';
}

const WHAT: Partial<Record<TensorErrorCode, string>> = {
  VALIDATION: 'WebGPU validation error',
  OUT_OF_MEMORY: 'WebGPU out-of-memory error',
  BACKEND: 'WebGPU internal error',
};

/** Collects Dawn errors per submit and rethrows them as TensorErrors. */
export class GpuErrorTracker {
  /** Scopes popped but not yet resolved (each removes itself, so a loop that never reads stays bounded). */
  private readonly pending = new Set<Promise<void>>();
  private known: TensorError | null = null;
  /** Set once the device is lost; every later call throws it. */
  lost: TensorError | null = null;

  constructor(private readonly device: GPUDevice) {
    for (const f of FILTERS) device.pushErrorScope(f);
    void device.lost.then((info) => {
      this.lost = new TensorError(
        'DEVICE_LOST',
        `WebGPU device lost (${info.reason}): ${info.message || 'no message'}. Tensors on this backend are gone; ` +
          'create a new backend (createWebGPUBackend) to continue.',
      );
    });
    // Safety net: errors outside any scope (there should be none) still surface at the next check.
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.known ??= new TensorError(codeOf(e), `${WHAT[codeOf(e)]}: ${e.message}`);
    });
  }

  /**
   * Closes the current scopes (attributing their errors to `context`, e.g. the kernel names
   * of the submit) and opens fresh ones.
   */
  rotate(context: () => string): void {
    if (this.lost) return;
    const pops = [this.device.popErrorScope(), this.device.popErrorScope(), this.device.popErrorScope()];
    for (const f of FILTERS) this.device.pushErrorScope(f);
    const p: Promise<void> = Promise.all(pops)
      .then(
        (errs) => {
          const e = errs.find((x): x is GPUError => x !== null);
          if (!e) return;
          const code = codeOf(e);
          this.known ??= new TensorError(code, `${WHAT[code]} in ${context()}: ${e.message.trim()}`);
        },
        // popErrorScope rejects only when the device is gone; loss is reported separately.
        () => undefined,
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Throws the device-loss error if the device is gone. */
  throwIfLost(): void {
    if (this.lost) throw this.lost;
  }

  /** Throws an already-reported error or device loss, without waiting. */
  throwIfKnown(): void {
    if (this.lost) throw this.lost;
    if (this.known) {
      const e = this.known;
      this.known = null;
      throw e;
    }
  }

  /** Waits for every closed scope and throws the first error seen (then forgets it). */
  async check(): Promise<void> {
    await Promise.all([...this.pending]);
    this.throwIfKnown();
  }
}
