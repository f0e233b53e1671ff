import { TensorError } from '../core/errors.js';
import { fillUniform, type RandomStream } from './philox.js';

/**
 * A seeded source of random streams. Each draw takes the next offset, so a sequence of draws
 * from a generator seeded with the same value is reproducible on every backend.
 */
export class Generator {
  private key0: number;
  private key1: number;
  private offset = 0;

  /** Creates a generator from an integer seed (up to 2^53). */
  constructor(seed: number) {
    this.key0 = 0;
    this.key1 = 0;
    this.seed(seed);
  }

  /** Resets the generator to the start of the stream for `seed`. */
  seed(seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new TensorError('ARGUMENT', `seed must be a non-negative safe integer, got ${seed}`);
    }
    this.key0 = seed >>> 0;
    this.key1 = Math.floor(seed / 2 ** 32) >>> 0;
    this.offset = 0;
  }

  /** Reserves the next stream; every random op calls this once. */
  next(): RandomStream {
    return { key0: this.key0, key1: this.key1, offset: this.offset++ };
  }

  /** Current position, for checkpointing (restore with {@link Generator.setState}). */
  getState(): { key0: number; key1: number; offset: number } {
    return { key0: this.key0, key1: this.key1, offset: this.offset };
  }

  /** Restores a position saved with {@link Generator.getState}. */
  setState(s: { key0: number; key1: number; offset: number }): void {
    this.key0 = s.key0 >>> 0;
    this.key1 = s.key1 >>> 0;
    this.offset = s.offset;
  }

  /** `n` uniforms in [0, 1) as float64 numbers (host side). */
  uniforms(n: number): Float64Array {
    const out = new Float64Array(n);
    fillUniform(out, this.next());
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates driven by one stream). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    const u = this.uniforms(n);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(u[i]! * (i + 1)));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** `k` distinct integers drawn uniformly from [0, n), in draw order. */
  sampleWithoutReplacement(n: number, k: number): number[] {
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new TensorError('ARGUMENT', `cannot draw ${k} distinct values from [0, ${n})`);
    }
    return this.permutation(n).slice(0, k);
  }
}

let defaultGen = new Generator(0);

/** The process-wide default generator used when an op is given no generator. */
export function defaultGenerator(): Generator {
  return defaultGen;
}

/** Seeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  defaultGen = new Generator(seed);
}
