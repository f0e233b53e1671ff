/**
 * fast-check arbitraries shared by the vector tests: float32 values that stress the exactness laws
 * (subnormals, the largest finite values, signed zeros, pairs whose exponents differ by 20–40, i.e.
 * around the boundary where a float32 difference stops fitting in a float64) and prompt tables built
 * from them. Test-only; not exported from the package index.
 *
 * @module
 */
import fc from 'fast-check';

const bits = new Uint32Array(1);
const asF32 = new Float32Array(bits.buffer);

/** The float32 with the given bit pattern. */
export function float32FromBits(b: number): number {
  bits[0] = b >>> 0;
  return asF32[0]!;
}

/** Named extreme float32 values. */
export const EXTREME_FLOAT32: readonly number[] = [
  0,
  -0,
  float32FromBits(0x00000001), // smallest subnormal 2^-149
  float32FromBits(0x80000001),
  float32FromBits(0x007fffff), // largest subnormal
  float32FromBits(0x00800000), // smallest normal 2^-126
  float32FromBits(0x7f7fffff), // largest finite ≈ 3.4e38
  float32FromBits(0xff7fffff),
  1,
  -1,
  Math.fround(2 ** -100),
  Math.fround(1 + 2 ** -23),
  Math.fround(-(2 ** 127)),
];

/** Any finite float32, drawn uniformly over bit patterns (so every exponent is equally likely). */
export const float32Bits: fc.Arbitrary<number> = fc
  .integer({ min: 0, max: 0xffffffff })
  .map(float32FromBits)
  .filter((x) => Number.isFinite(x));

/** A finite float32 from fast-check's own float generator (biased towards small and special values). */
export const float32Fc: fc.Arbitrary<number> = fc.float({ noNaN: true, noDefaultInfinity: true });

/** A mixture of all the above, NaN and ±Infinity excluded (they are rejected explicitly by the API). */
export const anyFloat32: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: float32Bits, weight: 3 },
  { arbitrary: float32Fc, weight: 3 },
  { arbitrary: fc.constantFrom(...EXTREME_FLOAT32), weight: 2 },
);

/** A (tuned, origin) value pair whose binary exponents differ by 20–40 (either way round). */
export const nearBoundaryPair: fc.Arbitrary<[number, number]> = fc
  .tuple(
    fc.integer({ min: -149, max: 86 }),
    fc.integer({ min: 20, max: 40 }),
    fc.double({ min: 1, max: 2, noNaN: true }),
    fc.double({ min: 1, max: 2, noNaN: true }),
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([e, gap, m1, m2, s1, s2, swap]) => {
    const big = Math.fround((s1 ? -1 : 1) * m1 * 2 ** (e + gap));
    const small = Math.fround((s2 ? -1 : 1) * m2 * 2 ** e);
    return (swap ? [small, big] : [big, small]) as [number, number];
  })
  .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));

/** A prompt-table pair: shape [rows, dim] (1–4 × 1–6) and tuned/origin float32 values. */
export interface PromptPair {
  shape: [number, number];
  tuned: Float32Array;
  origin: Float32Array;
}

/** Tuned/origin tables mixing independent values and near-boundary pairs. */
export const promptPair: fc.Arbitrary<PromptPair> = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }))
  .chain(([rows, dim]) =>
    fc.tuple(
      fc.constant<[number, number]>([rows, dim]),
      fc.array(fc.oneof(fc.tuple(anyFloat32, anyFloat32), nearBoundaryPair), { minLength: rows * dim, maxLength: rows * dim }),
    ),
  )
  .map(([shape, pairs]) => ({
    shape,
    tuned: Float32Array.from(pairs.map((p) => p[0])),
    origin: Float32Array.from(pairs.map((p) => p[1])),
  }));

/** A float32 table of a given shape. */
export function table(rows: number, dim: number): fc.Arbitrary<Float32Array> {
  return fc.array(anyFloat32, { minLength: rows * dim, maxLength: rows * dim }).map((a) => Float32Array.from(a));
}

/** Bitwise equality of two float arrays (signed zeros distinguished). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
