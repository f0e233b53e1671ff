/**
 * CPU GEMM: C[M,N] = A[M,K]·B[K,N] for strided A and B (so transposed operands need no copy
 * before packing). A is packed into 4-row panels and B into 4-column panels, interleaved by k,
 * and a 4×4 register tile of float64 accumulators walks k in blocks that stay in L1/L2. V8 does
 * not vectorise, so the win comes from 16 independent multiply-adds per 8 loads.
 */

const KB = 256; // k-block: a 4×256 float64 panel is 8 KiB, two of them sit in L1

/** Strided view of a matrix inside a flat array. */
export interface MatView {
  data: ArrayLike<number>;
  offset: number;
  /** Stride between rows (first index). */
  rs: number;
  /** Stride between columns (second index). */
  cs: number;
}

function packA(a: MatView, M: number, k0: number, kLen: number, out: Float64Array): void {
  const panels = Math.ceil(M / 4);
  const d = a.data;
  for (let p = 0; p < panels; p++) {
    const base = p * kLen * 4;
    for (let r = 0; r < 4; r++) {
      const i = p * 4 + r;
      if (i >= M) {
        for (let k = 0; k < kLen; k++) out[base + k * 4 + r] = 0;
        continue;
      }
      let src = a.offset + i * a.rs + k0 * a.cs;
      for (let k = 0; k < kLen; k++, src += a.cs) out[base + k * 4 + r] = d[src]!;
    }
  }
}

function packB(b: MatView, N: number, k0: number, kLen: number, out: Float64Array): void {
  const panels = Math.ceil(N / 4);
  const d = b.data;
  for (let p = 0; p < panels; p++) {
    const base = p * kLen * 4;
    for (let c = 0; c < 4; c++) {
      const j = p * 4 + c;
      if (j >= N) {
        for (let k = 0; k < kLen; k++) out[base + k * 4 + c] = 0;
        continue;
      }
      let src = b.offset + k0 * b.rs + j * b.cs;
      for (let k = 0; k < kLen; k++, src += b.rs) out[base + k * 4 + c] = d[src]!;
    }
  }
}

/**
 * Computes C = A·B into `c` (row-major M×N at `cOffset`), overwriting it. `acc` is scratch of
 * at least M·N float64 (reused across calls by the backend to avoid allocation).
 */
export function gemm(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: Float32Array | Float64Array,
  cOffset: number,
): void {
  if (M < 4) {
    gemmFewRows(M, N, K, a, b, c, cOffset);
    return;
  }
  const mp = Math.ceil(M / 4);
  const np = Math.ceil(N / 4);
  const acc = new Float64Array(mp * 4 * np * 4);
  const kb = Math.min(KB, Math.max(K, 1));
  const ap = new Float64Array(mp * 4 * kb);
  const bp = new Float64Array(np * 4 * kb);
  const ldacc = np * 4;
  for (let k0 = 0; k0 < K; k0 += kb) {
    const kLen = Math.min(kb, K - k0);
    packA(a, M, k0, kLen, ap);
    packB(b, N, k0, kLen, bp);
    for (let pi = 0; pi < mp; pi++) {
      const aBase = pi * kLen * 4;
      for (let pj = 0; pj < np; pj++) {
        const bBase = pj * kLen * 4;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let ia = aBase;
        let ib = bBase;
        for (let k = 0; k < kLen; k++, ia += 4, ib += 4) {
          const a0 = ap[ia]!, a1 = ap[ia + 1]!, a2 = ap[ia + 2]!, a3 = ap[ia + 3]!;
          const b0 = bp[ib]!, b1 = bp[ib + 1]!, b2 = bp[ib + 2]!, b3 = bp[ib + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        let o = pi * 4 * ldacc + pj * 4;
        acc[o] += c00; acc[o + 1] += c01; acc[o + 2] += c02; acc[o + 3] += c03;
        o += ldacc;
        acc[o] += c10; acc[o + 1] += c11; acc[o + 2] += c12; acc[o + 3] += c13;
        o += ldacc;
        acc[o] += c20; acc[o + 1] += c21; acc[o + 2] += c22; acc[o + 3] += c23;
        o += ldacc;
        acc[o] += c30; acc[o + 1] += c31; acc[o + 2] += c32; acc[o + 3] += c33;
      }
    }
  }
  for (let i = 0; i < M; i++) {
    const src = i * ldacc;
    const dst = cOffset + i * N;
    for (let j = 0; j < N; j++) c[dst + j] = acc[src + j]!;
  }
}

/**
 * C = A·B when A has fewer than 4 rows (KV-cached decoding, batch-1 inference): packing would
 * waste most of a 4-row panel and re-pack all of B on every call, so read B in place instead —
 * dot products when B's k-dimension is contiguous (an `[out, in]` weight used transposed), row
 * updates when its n-dimension is.
 */
function gemmFewRows(M: number, N: number, K: number, a: MatView, b: MatView, c: Float32Array | Float64Array, cOffset: number): void {
  const A = a.data;
  const B = b.data;
  const arow = new Float64Array(K);
  if (b.rs === 1) {
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) arow[k] = A[a.offset + i * a.rs + k * a.cs]!;
      for (let j = 0; j < N; j++) {
        let base = b.offset + j * b.cs;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let k = 0;
        for (; k + 3 < K; k += 4, base += 4) {
          s0 += arow[k]! * B[base]!;
          s1 += arow[k + 1]! * B[base + 1]!;
          s2 += arow[k + 2]! * B[base + 2]!;
          s3 += arow[k + 3]! * B[base + 3]!;
        }
        for (; k < K; k++, base++) s0 += arow[k]! * B[base]!;
        c[cOffset + i * N + j] = s0 + s1 + s2 + s3;
      }
    }
    return;
  }
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = A[a.offset + i * a.rs + k * a.cs]!;
      let base = b.offset + k * b.rs;
      const cs = b.cs;
      for (let j = 0; j < N; j++, base += cs) acc[j] += av * B[base]!;
    }
    for (let j = 0; j < N; j++) c[cOffset + i * N + j] = acc[j]!;
  }
}
