/**
 * Exact conversions between 16-bit floats (IEEE binary16 and bfloat16) and JS numbers.
 *
 * Decoding works on bit patterns (never through arithmetic) so that the widened float32 is exactly the
 * value PyTorch's `.float()` produces, NaN payloads included. Encoding rounds once, to nearest with
 * ties to even, directly from the double, so float64 inputs do not suffer double rounding via float32.
 */
import { HOST_IS_LITTLE_ENDIAN } from './endian.js';

let f16Table: Uint32Array | undefined;

/** float32 bit pattern for each of the 65536 half bit patterns, built on first use (256 KiB). */
function float16Table(): Uint32Array {
  if (f16Table) return f16Table;
  const table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    let man = h & 0x3ff;
    let bits: number;
    if (exp === 0x1f) {
      bits = sign | 0x7f800000 | (man << 13);
    } else if (exp !== 0) {
      bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man === 0) {
      bits = sign;
    } else {
      // Subnormal half: every one is a normal float32, so shift the leading 1 into the implicit bit.
      let e = 113;
      while ((man & 0x400) === 0) {
        man <<= 1;
        e--;
      }
      bits = sign | (e << 23) | ((man & 0x3ff) << 13);
    }
    table[h] = bits >>> 0;
  }
  f16Table = table;
  return table;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Widens one IEEE half bit pattern to the float32 it denotes (exactly; subnormals, ±inf, NaN). */
export function float16BitsToNumber(bits: number): number {
  scratchU32[0] = float16Table()[bits & 0xffff]!;
  return scratchF32[0]!;
}

/** Widens one bfloat16 bit pattern to its float32 value: by definition the top half of the float32. */
export function bfloat16BitsToNumber(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/** Widens a whole array of half bit patterns; see {@link float16BitsToNumber}. */
export function decodeFloat16Array(src: Uint16Array): Float32Array {
  const table = float16Table();
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]!]!;
  return out;
}

/** Widens a whole array of bfloat16 bit patterns; see {@link bfloat16BitsToNumber}. */
export function decodeBfloat16Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

const scratchF64 = new Float64Array(1);
const scratchF64Words = new Uint32Array(scratchF64.buffer);
const HI_WORD = HOST_IS_LITTLE_ENDIAN ? 1 : 0;

/** Unbiased binary exponent of a positive normal double, read from its bits to avoid `log2` error. */
function exponentOf(a: number): number {
  scratchF64[0] = a;
  return ((scratchF64Words[HI_WORD]! >>> 20) & 0x7ff) - 1023;
}

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f; // exact: q < 2^53 and f is q's integer part
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/**
 * Rounds `x` to a binary float with `manBits` stored mantissa bits, `expBits` exponent bits and IEEE
 * bias, returning its bit pattern. Scaling by powers of two is exact in doubles, so the only rounding
 * is the explicit `roundHalfEven`; overflow goes to infinity exactly as IEEE round-to-nearest requires.
 */
function encodeMinifloat(x: number, manBits: number, expBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const expMax = (1 << expBits) - 1;
  const sign = x < 0 || Object.is(x, -0) ? 1 << (manBits + expBits) : 0;
  if (Number.isNaN(x)) return (expMax << manBits) | (1 << (manBits - 1));
  const a = Math.abs(x);
  if (a === Infinity) return sign | (expMax << manBits);
  const implicit = 1 << manBits;
  if (a < 2 ** (1 - bias)) {
    // Subnormal range (fixed spacing). A result of `implicit` is the smallest normal, which is also its
    // bit pattern, so no special case is needed.
    return sign | roundHalfEven(a * 2 ** (bias - 1 + manBits));
  }
  let e = exponentOf(a);
  let m = roundHalfEven(a * 2 ** (manBits - e));
  if (m === implicit * 2) {
    m = implicit;
    e++;
  }
  const field = e + bias;
  if (field >= expMax) return sign | (expMax << manBits);
  return sign | (field << manBits) | (m - implicit);
}

/** Rounds a number to the nearest IEEE half (ties to even) and returns its bit pattern. */
export function numberToFloat16Bits(x: number): number {
  return encodeMinifloat(x, 10, 5);
}

/** Rounds a number to the nearest bfloat16 (ties to even) and returns its bit pattern. */
export function numberToBfloat16Bits(x: number): number {
  return encodeMinifloat(x, 7, 8);
}

/** Encodes float values (typically a `Float32Array`) as IEEE half bit patterns for writing F16. */
export function encodeFloat16Array(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = encodeMinifloat(src[i]!, 10, 5);
  return out;
}

/** Encodes float values (typically a `Float32Array`) as bfloat16 bit patterns for writing BF16. */
export function encodeBfloat16Array(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = encodeMinifloat(src[i]!, 7, 8);
  return out;
}
