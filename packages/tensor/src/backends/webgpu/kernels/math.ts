/**
 * WGSL math with accuracy that does not depend on the driver. WGSL only promises
 * `exp` to 3+2|x| ULP, `log` to 2^-21 absolute near 1 and `cos` to 2^-11 absolute, which is
 * not enough to match the CPU reference to 1e-5 (and differs between lavapipe and NVIDIA). These
 * range-reduced polynomials are within a few ULP everywhere, on every device.
 */
import { CONVERT_HELPERS } from './wgsl.js';

/** Chebyshev coefficients of erfc from Numerical Recipes (the same fit as the CPU `erf`). */
const ERFC_COF = [
  -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
  3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8,
  -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
  -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/** Formats a JS number as a WGSL f32 literal. */
export function f32Lit(x: number): string {
  const s = x.toPrecision(17);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

// Beyond ~1e-10 the tail coefficients are below f32 resolution; drop them to shorten the loop.
const ERFC_USED = ERFC_COF.slice(0, 20);

/** The WGSL math library; include it in any kernel that calls these functions. */
export const MATH_WGSL = `${CONVERT_HELPERS}
fn nan_f32() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn inf_f32() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }

// exp: x = k ln2 + r (Cody–Waite split of ln2), degree-7 Taylor on |r| <= ln2/2, times 2^k
// built from exponent bits in two halves (each stays a normal float). Branch-free: selects
// handle overflow, the flush below the normal range, and NaN.
fn exp_(x: f32) -> f32 {
  let xc = clamp(x, -87.3365402, 88.7228394);
  let k = round(xc * 1.44269504088896341);
  let r = (xc - k * 0.693145751953125) - k * 1.42860682030941723e-6;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.166666672 + r * (0.0416666679 + r * (0.00833333377 + r * (0.00138888892 + r * 0.000198412701))))));
  let ki = i32(k);
  let k1 = ki >> 1u;
  let y = p * bitcast<f32>(u32(k1 + 127) << 23u) * bitcast<f32>(u32(ki - k1 + 127) << 23u);
  return select(select(select(y, 0.0, x < -87.3365402), inf_f32(), x > 88.7228394), x, is_nan(x));
}

// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)) taken from the float's bits (subnormals are
// scaled up first), log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172.
fn log_(x: f32) -> f32 {
  let sub = x < 1.17549435e-38;
  let xs = select(x, x * 8388608.0, sub);
  let bits = bitcast<u32>(xs);
  var e = i32(bits >> 23u) - 127 - select(0, 23, sub);
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  let big = m > 1.41421356;
  m = select(m, m * 0.5, big);
  e = e + select(0, 1, big);
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let poly = s2 * (0.666666667 + s2 * (0.4 + s2 * (0.285714286 + s2 * (0.222222222 + s2 * (0.181818182 + s2 * 0.153846154)))));
  let ef = f32(e);
  let y = ef * 0.693145751953125 + ((2.0 * s + s * poly) + ef * 1.42860682030941723e-6);
  // Special cases last (x < 0 and NaN give NaN, 0 gives -inf, +inf stays).
  return select(select(select(y, x, is_inf(x) || is_nan(x)), -inf_f32(), x == 0.0), nan_f32(), x < 0.0);
}

// tanh: odd Taylor series near 0 (where 1 - 2/(e^2x + 1) would cancel), the exp form elsewhere.
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.4) {
    let x2 = x * x;
    return x + x * x2 * (-0.333333343 + x2 * (0.133333340 + x2 * (-0.0539682540 + x2 * (0.0218694881 + x2 * (-0.00886323553 + x2 * 0.00359212803)))));
  }
  if (a > 9.1) { return select(1.0, -1.0, x < 0.0); }
  let t = 1.0 - 2.0 / (exp_(2.0 * a) + 1.0);
  return select(t, -t, x < 0.0);
}

fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp_(-x)); }

// erfc(z) for z >= 0 by the Chebyshev fit the CPU erf uses (Clenshaw recurrence).
const ERFC_COF = array<f32, ${ERFC_USED.length}>(${ERFC_USED.map(f32Lit).join(', ')});
fn erfc_pos(z: f32) -> f32 {
  let t = 2.0 / (2.0 + z);
  let ty = 4.0 * t - 2.0;
  var d = 0.0;
  var dd = 0.0;
  for (var j = ${ERFC_USED.length - 1}; j > 0; j = j - 1) {
    let tmp = d;
    d = ty * d - dd + ERFC_COF[j];
    dd = tmp;
  }
  return t * exp_(-z * z + 0.5 * (ERFC_COF[0] + ty * d) - dd);
}
// 1 + erf(x), computed as erfc(-x) for x < 0 so that it keeps its relative accuracy in the tail.
fn one_plus_erf(x: f32) -> f32 {
  if (x >= 0.0) { return 2.0 - erfc_pos(x); }
  return erfc_pos(-x);
}

// a^b with JavaScript Math.pow semantics: exact repeated multiplication for small integer
// exponents (so x^2 equals x*x bit for bit, and negative bases work), exp/log otherwise.
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  let integral = b == round(b);
  if (integral && abs(b) <= 64.0) {
    var n = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((n & 1u) == 1u) { r = r * base; }
      n = n >> 1u;
      if (n == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (a < 0.0 && !integral) { return nan_f32(); }
  let m = exp_(b * log_(abs(a)));
  let odd = integral && abs(b) < 16777216.0 && (b * 0.5) != round(b * 0.5);
  return select(m, -m, a < 0.0 && odd);
}

// cos(2 pi u) for u in [0, 1): quarter-turn reduction is exact on u itself, then short
// Taylor series on |x| <= pi/4 (the WGSL builtin is only 2^-11 absolute).
fn cos_2pi(u: f32) -> f32 {
  let q = round(u * 4.0);
  let x = (u - q * 0.25) * 6.28318530717958648;
  let x2 = x * x;
  let c = 1.0 + x2 * (-0.5 + x2 * (0.0416666679 + x2 * (-0.00138888892 + x2 * 0.0000248015876)));
  let s = x * (1.0 + x2 * (-0.166666672 + x2 * (0.00833333377 + x2 * (-0.000198412701 + x2 * 0.00000275573188))));
  let qi = u32(q) & 3u;
  if (qi == 0u) { return c; }
  if (qi == 1u) { return -s; }
  if (qi == 2u) { return -c; }
  return s;
}
`;
