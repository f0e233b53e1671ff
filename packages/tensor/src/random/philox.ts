/**
 * Philox4x32-10, the counter-based generator of Salmon et al. (2011), also used by cuRAND,
 * JAX and PyTorch's CUDA backend. Counter-based means element i of a stream is a pure function
 * of (key, counter, i), so the WebGPU backend can generate the same numbers in parallel in WGSL
 * as the CPU backend generates in a loop here.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 (JS has no 64-bit integer multiply on numbers). */
export function mulhi32(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * One Philox4x32-10 block: four u32 outputs for counter (c0..c3) and key (k0, k1).
 * Writes into `out` to avoid allocating in hot loops.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** Maps a u32 to a float in [0, 1) with 24 random bits (exact in float32). */
export function u32ToUniform(u: number): number {
  return (u >>> 8) * 5.9604644775390625e-8;
}

/** Maps a u32 to a float in (0, 1], safe for `log` in Box–Muller. */
export function u32ToUniformOpen(u: number): number {
  return ((u >>> 8) + 1) * 5.9604644775390625e-8;
}

/** Parameters that identify one random stream: a 64-bit key from the seed and a per-call offset. */
export interface RandomStream {
  /** Low 32 bits of the seed. */
  key0: number;
  /** High 32 bits of the seed. */
  key1: number;
  /** Per-call counter so successive draws from one generator differ. */
  offset: number;
}

/**
 * Fills `out` with uniforms in [0, 1): element i is word (i mod 4) of block (i div 4) for
 * counter (i div 4, offset, 0, 0).
 */
export function fillUniform(out: Float32Array | Float64Array, s: RandomStream): void {
  const buf = new Uint32Array(4);
  const n = out.length;
  for (let b = 0; b * 4 < n; b++) {
    philox4x32(b, s.offset, 0, 0, s.key0, s.key1, buf);
    for (let w = 0; w < 4 && b * 4 + w < n; w++) out[b * 4 + w] = u32ToUniform(buf[w]!);
  }
}

/**
 * Fills `out` with standard normals by Box–Muller: element i uses the two words (2j, 2j+1),
 * j = i mod 2, of block (i div 2) for counter (i div 2, offset, 1, 0).
 */
export function fillNormal(out: Float32Array | Float64Array, s: RandomStream): void {
  const buf = new Uint32Array(4);
  const n = out.length;
  for (let b = 0; b * 2 < n; b++) {
    philox4x32(b, s.offset, 1, 0, s.key0, s.key1, buf);
    for (let j = 0; j < 2 && b * 2 + j < n; j++) {
      const u1 = u32ToUniformOpen(buf[2 * j]!);
      const u2 = u32ToUniform(buf[2 * j + 1]!);
      out[b * 2 + j] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
}
