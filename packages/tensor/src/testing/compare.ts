/**
 * Tolerance checks for the op suite. An element passes when
 * `|actual − expected| ≤ rtol·|expected| + atol·max(1, median|expected|)`: relative for large
 * values, and absolute at the scale of the tensor's typical value for entries that cancel to
 * near zero (a median, so that a −1e9 mask fill does not loosen every other element).
 */

/** Relative and absolute tolerances. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** The first mismatch of a comparison, or null when everything is within tolerance. */
export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
  allowed: number;
  maxError: number;
}

function median(xs: ArrayLike<number>): number {
  const a = Array.from(xs, Math.abs).filter(Number.isFinite).sort((x, y) => x - y);
  return a.length ? a[a.length >> 1]! : 0;
}

/** Compares element by element; NaN matches NaN and infinities must match exactly. */
export function findMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Mismatch | null {
  if (actual.length !== expected.length) {
    return { index: -1, actual: actual.length, expected: expected.length, allowed: 0, maxError: Infinity };
  }
  const scale = Math.max(1, median(expected));
  let first: Mismatch | null = null;
  let maxError = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e && !first) first = { index: i, actual: a, expected: e, allowed: 0, maxError: Infinity };
      continue;
    }
    const err = Math.abs(a - e);
    const allowed = tol.rtol * Math.abs(e) + tol.atol * scale;
    maxError = Math.max(maxError, err);
    if (err > allowed && !first) first = { index: i, actual: a, expected: e, allowed, maxError: 0 };
  }
  if (first) first.maxError = Math.max(first.maxError, maxError);
  return first;
}

/** Throws a readable error naming `what` when `actual` is not close to `expected`. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string): void {
  const m = findMismatch(actual, expected, tol);
  if (!m) return;
  if (m.index < 0) throw new Error(`${what}: length ${m.actual} != expected ${m.expected}`);
  throw new Error(
    `${what}: element ${m.index} is ${m.actual}, expected ${m.expected} (allowed error ${m.allowed.toExponential(2)}, ` +
      `max error over the tensor ${m.maxError.toExponential(2)}, rtol ${tol.rtol}, atol ${tol.atol})`,
  );
}
