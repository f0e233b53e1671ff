/**
 * Double-double ("DD") arithmetic: a real number held as an unevaluated sum `hi + lo` of two float64
 * values with `fl(hi + lo) = hi`. It gives ~106 significant bits and, crucially, represents the
 * difference of two float32 numbers **exactly** (see {@link twoSumInto}), which is what makes the
 * task prompt vector laws exact. The algorithms are the classic error-free transformations (Knuth's
 * TwoSum, Dekker's Fast2Sum and TwoProduct) and the accurate pair additions analysed by Joldes,
 * Muller and Popescu, "Tight and rigorous error bounds for basic building blocks of double-word
 * arithmetic" (ACM TOMS 2017): `AccurateDWPlusDW` (relative error ≤ 3u²) and `DWTimesFP`/`DWDivFP`.
 *
 * Everything here works on scalars and writes its two results into a caller-supplied scratch pair so
 * that the element loops over a 76,800-entry prompt table allocate nothing.
 *
 * @module
 */

/** A reusable output pair: `[hi, lo]`. */
export type Pair = Float64Array;

/** Allocates a scratch pair. */
export function pair(): Pair {
  return new Float64Array(2);
}

/**
 * TwoSum (Knuth/Møller): `s = fl(a + b)` and `e = (a + b) − s` exactly, for any float64 `a`, `b`
 * whose sum does not overflow. No ordering precondition, so it is safe on arbitrary inputs.
 *
 * Why exact: the rounding error of a floating-point addition is always itself a float64 (also in the
 * subnormal range), and this six-operation sequence recovers it without branches.
 */
export function twoSumInto(out: Pair, a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  const e = (a - (s - bb)) + (b - bb);
  out[0] = s;
  out[1] = e;
}

/** Fast2Sum (Dekker): like TwoSum but needs `|a| ≥ |b|` (or `a = 0`); three operations. */
function fastTwoSumInto(out: Pair, a: number, b: number): void {
  const s = a + b;
  const z = s - a;
  out[0] = s;
  out[1] = b - z;
}

/** Veltkamp splitter for float64: 2^27 + 1. */
const SPLITTER = 134217729;
/** Above this magnitude the splitter product could overflow; rescale by a power of two first. */
const SPLIT_LIMIT = 2 ** 996;

/** Dekker's TwoProduct: `p = fl(a·b)`, `e = a·b − p` exactly (absent underflow/overflow). */
function twoProdInto(out: Pair, a: number, b: number): void {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  out[0] = p;
  out[1] = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * `AccurateDWPlusDW`: (xh + xl) + (yh + yl) as a normalised pair, relative error ≤ 3u² (u = 2^−53).
 *
 * Not symmetric in its operands at the level of zero signs, so callers that need `a + b` and `b + a`
 * to be bit-identical order the operands first (see {@link ddAddInto}).
 */
function accurateAddInto(out: Pair, xh: number, xl: number, yh: number, yl: number): void {
  // TwoSum(xh, yh) and TwoSum(xl, yl), inlined so the hot loop allocates nothing.
  const sh = xh + yh;
  let bb = sh - xh;
  const sl = (xh - (sh - bb)) + (yh - bb);
  const th = xl + yl;
  bb = th - xl;
  const tl = (xl - (th - bb)) + (yl - bb);
  const c = sl + th;
  // Fast2Sum(sh, c), then Fast2Sum(vh, tl + vl).
  const vh = sh + c;
  const vl = c - (vh - sh);
  const w = tl + vl;
  const zh = vh + w;
  out[0] = zh;
  out[1] = w - (zh - vh);
}

/** Total order on pairs by value and then by the sign of zeros, used to canonicalise operand order. */
function pairLess(ah: number, al: number, bh: number, bl: number): boolean {
  if (ah !== bh) return ah < bh;
  if (ah === 0 && !Object.is(ah, bh)) return Object.is(ah, -0);
  if (al !== bl) return al < bl;
  if (al === 0 && !Object.is(al, bl)) return Object.is(al, -0);
  return false;
}

/**
 * Commutative pair addition: operands are put in a canonical order before {@link accurateAddInto},
 * so `add(a, b)` and `add(b, a)` give the same bits, signed zeros included.
 */
export function ddAddInto(out: Pair, ah: number, al: number, bh: number, bl: number): void {
  if (pairLess(bh, bl, ah, al)) accurateAddInto(out, bh, bl, ah, al);
  else accurateAddInto(out, ah, al, bh, bl);
}

/**
 * `DWTimesFP` (Joldes et al., algorithm 9): (xh + xl)·k, relative error ≤ 2u². Large operands are
 * scaled by a power of two around the split, which is exact.
 */
export function ddMulInto(out: Pair, xh: number, xl: number, k: number): void {
  let scaleBack = 1;
  if (Math.abs(k) > SPLIT_LIMIT) {
    k *= 2 ** -100;
    scaleBack = 2 ** 100;
  }
  if (Math.abs(xh) > SPLIT_LIMIT) {
    xh *= 2 ** -100;
    xl *= 2 ** -100;
    scaleBack *= 2 ** 100;
  }
  twoProdInto(out, xh, k);
  const ch = out[0]!;
  const cl1 = out[1]!;
  const cl3 = cl1 + xl * k;
  fastTwoSumInto(out, ch, cl3);
  if (scaleBack !== 1) {
    out[0] = out[0]! * scaleBack;
    out[1] = out[1]! * scaleBack;
  }
}

/**
 * `DWDivFP` (Joldes et al., algorithm 15): (xh + xl)/k, relative error ≤ 3.5u². Used for means and
 * for DARE's 1/density rescale, where a multiplication by a rounded reciprocal would add an error of u.
 */
export function ddDivInto(out: Pair, xh: number, xl: number, k: number): void {
  const th = xh / k;
  if (th === 0 || !Number.isFinite(th) || Math.abs(th) > SPLIT_LIMIT || Math.abs(k) > SPLIT_LIMIT) {
    // Underflow, overflow or operands outside the splitter's safe range: the correction term is
    // meaningless there; the plain quotient is the best answer (and non-finite results are caught by
    // the caller's finiteness check).
    out[0] = th;
    out[1] = 0;
    return;
  }
  twoProdInto(out, th, k);
  const dh = xh - out[0]!;
  const dt = dh - out[1]!;
  const d = dt + xl;
  const tl = d / k;
  fastTwoSumInto(out, th, tl);
}
