import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bfloat16BitsToNumber,
  decodeBfloat16Array,
  decodeFloat16Array,
  encodeBfloat16Array,
  encodeFloat16Array,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
} from './half.js';

/** Independent reference: the textbook formula, evaluated in doubles. */
function halfByFormula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * Math.pow(2, e - 15);
}

function bf16ByFormula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 0) return s * m * Math.pow(2, -133);
  if (e === 255) return m ? NaN : s * Infinity;
  return s * (1 + m / 128) * Math.pow(2, e - 127);
}

/**
 * Nearest-value reference by binary search over the positive bit patterns, which are ordered like
 * their values. `top` is the infinity pattern, valued at the next power of two for rounding purposes.
 */
function nearestBits(x: number, decode: (b: number) => number, top: number, topValue: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const value = (b: number) => (b === top ? topValue : decode(b));
  if (a >= topValue) return sign | top;
  let lo = 0;
  let hi = top; // invariant: value(lo) <= a < value(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value(mid) <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - value(lo);
  const dh = value(hi) - a;
  const pick = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

describe('half-precision codecs', () => {
  it('decodes all 65536 F16 patterns exactly like the IEEE formula', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const fast = decodeFloat16Array(all);
    for (let h = 0; h < 65536; h++) {
      const want = Math.fround(halfByFormula(h));
      expect(Object.is(fast[h], want) || (Number.isNaN(want) && Number.isNaN(fast[h]!))).toBe(true);
      expect(Object.is(float16BitsToNumber(h), fast[h]) || Number.isNaN(want)).toBe(true);
    }
  });

  it('decodes all 65536 BF16 patterns exactly like the formula (bits << 16)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const fast = decodeBfloat16Array(all);
    const bits = new Uint32Array(fast.buffer);
    for (let h = 0; h < 65536; h++) {
      const want = bf16ByFormula(h);
      expect(bits[h]).toBe((h << 16) >>> 0); // NaN payloads survive too
      expect(Object.is(fast[h], want) || Number.isNaN(want)).toBe(true);
      expect(Object.is(bfloat16BitsToNumber(h), fast[h]) || Number.isNaN(want)).toBe(true);
    }
  });

  it('encode(decode(h)) === h for every non-NaN pattern', () => {
    for (let h = 0; h < 65536; h++) {
      if (!Number.isNaN(halfByFormula(h))) expect(numberToFloat16Bits(float16BitsToNumber(h))).toBe(h);
      if (!Number.isNaN(bf16ByFormula(h))) expect(numberToBfloat16Bits(bfloat16BitsToNumber(h))).toBe(h);
    }
  });

  it('encodes NaN as a quiet NaN', () => {
    expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN)))).toBe(true);
    expect(Number.isNaN(bfloat16BitsToNumber(numberToBfloat16Bits(NaN)))).toBe(true);
  });

  it('rounds to nearest, ties to even (hand-picked boundaries)', () => {
    expect(numberToFloat16Bits(65504)).toBe(0x7bff);
    expect(numberToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00); // tie between 0x7bff (odd) and 2^16 → inf
    expect(numberToFloat16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
    expect(numberToFloat16Bits(2 ** -25 * 1.0000001)).toBe(1);
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToFloat16Bits(-0)).toBe(0x8000);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBfloat16Bits(-Infinity)).toBe(0xff80);
    expect(numberToBfloat16Bits(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds up to inf
  });

  it('float32 and float64 inputs round to the nearest F16 (property)', () => {
    const top16 = 0x7c00;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.float({ noNaN: true }),
          fc.double({ noNaN: true }),
          fc.double({ min: -70000, max: 70000, noNaN: true })
        ),
        (x) => {
          expect(numberToFloat16Bits(x)).toBe(nearestBits(x, float16BitsToNumber, top16, 65536));
        }
      ),
      { numRuns: 5000, seed: 1 }
    );
  });

  it('float32 and float64 inputs round to the nearest BF16 (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.float({ noNaN: true }), fc.double({ noNaN: true })), (x) => {
        expect(numberToBfloat16Bits(x)).toBe(nearestBits(x, bfloat16BitsToNumber, 0x7f80, 2 ** 128));
      }),
      { numRuns: 5000, seed: 2 }
    );
  });

  it('array encoders agree with the scalar ones', () => {
    const xs = Float32Array.from([0, -0, 1.5, -2.75, 1e-8, 7e4, Infinity, -Infinity, 3.1415927]);
    expect([...encodeFloat16Array(xs)]).toEqual([...xs].map(numberToFloat16Bits));
    expect([...encodeBfloat16Array(xs)]).toEqual([...xs].map(numberToBfloat16Bits));
  });
});
