/**
 * WGSL generators for the numbered matmul variants (llm.c style: each variant is a small
 * step from the previous one, and `TPV_MATMUL_VARIANT=<n>` forces one):
 *  0. naive — one thread per output, k loop from global memory;
 *  1. tiled — 16×16 workgroup-memory tiles, one output per thread;
 *  2. register 4×4 — each thread owns a 4×4 block, operands read straight from global memory
 *     with vec4 loads where the layout is divisible by 4 (the fastest shape on lavapipe, which
 *     pays for every barrier);
 *  3. tiled + register 4×4 — 64×64 workgroup tiles in workgroup memory, 4×4 per thread (the
 *     classic GPU kernel, close to tfjs's MatMulPackedProgram);
 *  4. split-K — variant 5 (or 3) over K chunks into partial sums, then a deterministic
 *     reduction pass: skinny products with few outputs and a long K;
 *  5. row-uniform register tile (`matmul-row-uniform.ts`) — a workgroup owns 8 rows, so A is read at addresses that are
 *     the same for every thread: a CPU emulation (lavapipe) turns those into one scalar load
 *     broadcast to all SIMD lanes instead of a per-lane gather. Each thread owns 8 rows × 8
 *     columns (two vec4 column groups 64 apart, so neighbouring lanes read neighbouring B).
 *     Workgroups walk M fastest, so consecutive ones reuse the same B column panel from cache
 *     (10% on the 256×768×3072 T5 feed-forward, whose B does not fit in L2).
 * All variants read A(m,k) and B(k,n) through transposition flags baked into the code and the
 * broadcast batch offsets from uniforms, so autograd's Aᵀ·dY and dY·Bᵀ need no copies.
 */
import { type ShaderSource, shader } from './wgsl.js';
import { stridedOffsets } from './wgsl.js';

/** Compile-time facts of one matmul launch (part of the shader key). */
export interface MatmulLayout {
  transA: boolean;
  transB: boolean;
  /** Rank of the coalesced batch dims (≥ 1). */
  batchRank: number;
  M4: boolean;
  N4: boolean;
  K4: boolean;
}

/**
 * First uniform word of the batch shape and strides; words 0..6 are M, N, K, the z offset of
 * this dispatch, the K chunk, the number of K splits and the z count.
 */
export const U_BATCH = 7;

/** Common prologue: sizes, batch/split decomposition, operand offsets, K range, output offset. */
export function prologue(l: MatmulLayout): string {
  const rb = l.batchRank;
  return `let M = P(0u); let N = P(1u); let K = P(2u);
  let z = wid.z + P(3u);
  let S = P(5u);
  let bi = z / S;
  let split = z - bi * S;
  ${stridedOffsets('bi', rb, U_BATCH, [U_BATCH + rb, U_BATCH + 2 * rb], ['aOff', 'bOff'])}
  let kBegin = split * P(4u);
  let kEnd = min(K, kBegin + P(4u));
  let cOff = z * M * N;`;
}

/** WGSL index of A(m, k) (transposition baked in). */
export function aIndex(l: MatmulLayout, m: string, k: string): string {
  return l.transA ? `aOff + (${k}) * M + (${m})` : `aOff + (${m}) * K + (${k})`;
}

/** WGSL index of B(k, n) (transposition baked in). */
export function bIndex(l: MatmulLayout, k: string, n: string): string {
  return l.transB ? `bOff + (${n}) * K + (${k})` : `bOff + (${k}) * N + (${n})`;
}

const BINDINGS_SCALAR = [
  { name: 'A', type: 'f32' },
  { name: 'B', type: 'f32' },
  { name: 'C', type: 'f32', write: true },
];

/** Variant 0: naive. Workgroup 8×8, one output per thread. */
export function matmulNaive(l: MatmulLayout, params: number): ShaderSource {
  return shader({
    bindings: BINDINGS_SCALAR,
    params,
    workgroupSize: [8, 8],
    body: `${prologue(l)}
  let n = gid.x; let m = gid.y;
  if (m >= M || n >= N) { return; }
  var acc = 0.0;
  for (var k = kBegin; k < kEnd; k = k + 1u) { acc = fma(A[${aIndex(l, 'm', 'k')}], B[${bIndex(l, 'k', 'n')}], acc); }
  C[cOff + m * N + n] = acc;`,
  });
}

/** Variant 1: 16×16 workgroup-memory tiles, one output per thread. */
export function matmulTiled(l: MatmulLayout, params: number): ShaderSource {
  return shader({
    bindings: BINDINGS_SCALAR,
    params,
    workgroupSize: [16, 16],
    helpers: 'var<workgroup> As: array<array<f32, 16>, 16>;\nvar<workgroup> Bs: array<array<f32, 16>, 16>;',
    body: `${prologue(l)}
  let m = wid.y * 16u + lid.y;
  let n = wid.x * 16u + lid.x;
  let mc = min(m, M - 1u);
  let nc = min(n, N - 1u);
  var acc = 0.0;
  for (var t = kBegin; t < kEnd; t = t + 16u) {
    let ka = t + lid.x;
    let kb = t + lid.y;
    As[lid.y][lid.x] = select(0.0, A[${aIndex(l, 'mc', 'min(ka, K - 1u)')}], ka < kEnd);
    Bs[lid.y][lid.x] = select(0.0, B[${bIndex(l, 'min(kb, K - 1u)', 'nc')}], kb < kEnd);
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) { acc = fma(As[lid.y][kk], Bs[kk][lid.x], acc); }
    workgroupBarrier();
  }
  if (m < M && n < N) { C[cOff + m * N + n] = acc; }`,
  });
}

/** Vector-load choices of variant 2 for one layout. */
function vecFlags(l: MatmulLayout) {
  return {
    aVecK: !l.transA && l.K4,
    aVecM: l.transA && l.M4,
    bVecN: !l.transB && l.N4,
    bVecK: l.transB && l.K4,
    cVec: l.N4,
  };
}

/** vec4 component names. */
export const C = ['x', 'y', 'z', 'w'];

/** Variant 2: register 4×4 per thread, operands from global memory, vec4 where divisible. */
export function matmulRegister(l: MatmulLayout, params: number): ShaderSource {
  const v = vecFlags(l);
  const lines: string[] = [];
  // Clamped indices keep every load in bounds without branches; stores are guarded.
  for (let i = 0; i < 4; i++) lines.push(`let mr${i} = min(m0 + ${i}u, M - 1u);`);
  for (let j = 0; j < 4; j++) lines.push(`let nc${j} = min(n0 + ${j}u, N - 1u);`);
  if (v.aVecM) lines.push('let m0v = min(m0, M - 4u);');
  const step: string[] = [];
  // A values a(i, kk) for rows m0+i at k+kk.
  const a: string[][] = [[], [], [], []];
  if (v.aVecK) {
    for (let i = 0; i < 4; i++) {
      step.push(`let a${i} = A[(${aIndex(l, `mr${i}`, 'k')}) >> 2u];`);
      for (let kk = 0; kk < 4; kk++) a[i]![kk] = `a${i}.${C[kk]}`;
    }
  } else if (v.aVecM) {
    for (let kk = 0; kk < 4; kk++) {
      step.push(`let ac${kk} = A[(${aIndex(l, 'm0v', `k + ${kk}u`)}) >> 2u];`);
      for (let i = 0; i < 4; i++) a[i]![kk] = `ac${kk}.${C[i]}`;
    }
  } else {
    for (let i = 0; i < 4; i++) {
      for (let kk = 0; kk < 4; kk++) {
        step.push(`let a${i}_${kk} = A[${aIndex(l, `mr${i}`, `k + ${kk}u`)}];`);
        a[i]![kk] = `a${i}_${kk}`;
      }
    }
  }
  if (v.aVecK && v.bVecK) {
    for (let j = 0; j < 4; j++) step.push(`let bc${j} = B[(${bIndex(l, 'k', `nc${j}`)}) >> 2u];`);
    for (let i = 0; i < 4; i++) {
      step.push(`acc${i} = acc${i} + vec4<f32>(dot(a${i}, bc0), dot(a${i}, bc1), dot(a${i}, bc2), dot(a${i}, bc3));`);
    }
  } else {
    for (let kk = 0; kk < 4; kk++) {
      if (v.bVecN) step.push(`let b${kk} = B[(${bIndex(l, `k + ${kk}u`, 'n0')}) >> 2u];`);
      else if (!v.bVecK) {
        step.push(`let b${kk} = vec4<f32>(${[0, 1, 2, 3].map((j) => `B[${bIndex(l, `k + ${kk}u`, `nc${j}`)}]`).join(', ')});`);
      }
    }
    if (v.bVecK) {
      for (let j = 0; j < 4; j++) step.push(`let bc${j} = B[(${bIndex(l, 'k', `nc${j}`)}) >> 2u];`);
      for (let kk = 0; kk < 4; kk++) step.push(`let b${kk} = vec4<f32>(bc0.${C[kk]}, bc1.${C[kk]}, bc2.${C[kk]}, bc3.${C[kk]});`);
    }
    for (let kk = 0; kk < 4; kk++) {
      for (let i = 0; i < 4; i++) step.push(`acc${i} = fma(vec4<f32>(${a[i]![kk]}), b${kk}, acc${i});`);
    }
  }
  // Tail for K % 4 != 0 (only possible when no operand is vectorised along k).
  const tail: string[] = [];
  if (!v.aVecK && !v.bVecK) {
    if (v.aVecM) tail.push(`let at = A[(${aIndex(l, 'm0v', 'k')}) >> 2u];`);
    const at = (i: number) => (v.aVecM ? `at.${C[i]}` : `A[${aIndex(l, `mr${i}`, 'k')}]`);
    if (v.bVecN) tail.push(`let bt = B[(${bIndex(l, 'k', 'n0')}) >> 2u];`);
    else tail.push(`let bt = vec4<f32>(${[0, 1, 2, 3].map((j) => `B[${bIndex(l, 'k', `nc${j}`)}]`).join(', ')});`);
    for (let i = 0; i < 4; i++) tail.push(`acc${i} = fma(vec4<f32>(${at(i)}), bt, acc${i});`);
  }
  const store: string[] = [];
  for (let i = 0; i < 4; i++) {
    if (v.cVec) store.push(`if (m0 + ${i}u < M) { C[(cOff + (m0 + ${i}u) * N + n0) >> 2u] = acc${i}; }`);
    else {
      store.push(
        `if (m0 + ${i}u < M) { ${[0, 1, 2, 3].map((j) => `if (n0 + ${j}u < N) { C[cOff + (m0 + ${i}u) * N + n0 + ${j}u] = acc${i}.${C[j]}; }`).join(' ')} }`,
      );
    }
  }
  return shader({
    bindings: [
      { name: 'A', type: v.aVecK || v.aVecM ? 'vec4<f32>' : 'f32' },
      { name: 'B', type: v.bVecN || v.bVecK ? 'vec4<f32>' : 'f32' },
      { name: 'C', type: v.cVec ? 'vec4<f32>' : 'f32', write: true },
    ],
    params,
    workgroupSize: [8, 8],
    body: `${prologue(l)}
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= M || n0 >= N) { return; }
  ${lines.join('\n  ')}
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var k = kBegin;
  for (; k + 4u <= kEnd; k = k + 4u) {
    ${step.join('\n    ')}
  }
  for (; k < kEnd; k = k + 1u) {
    ${tail.join('\n    ')}
  }
  ${store.join('\n  ')}`,
  });
}

/** Variant 3: 64×64 workgroup tiles (k-tile 16) in workgroup memory, 4×4 per thread. */
export function matmulTiledRegister(l: MatmulLayout, params: number): ShaderSource {
  const v = vecFlags(l);
  const store: string[] = [];
  for (let i = 0; i < 4; i++) {
    store.push(
      `if (m0 + ${i}u < M) { ${[0, 1, 2, 3].map((j) => `if (n0 + ${j}u < N) { C[cOff + (m0 + ${i}u) * N + n0 + ${j}u] = acc${i}.${C[j]}; }`).join(' ')} }`,
    );
  }
  const loadA = [0, 1, 2, 3].map((i) => `select(0.0, A[${aIndex(l, `min(am + ${i}u, M - 1u)`, 'min(ak, K - 1u)')}], am + ${i}u < M && ak < kEnd)`);
  const loadB = [0, 1, 2, 3].map((j) => `select(0.0, B[${bIndex(l, 'min(bk, K - 1u)', `min(bn + ${j}u, N - 1u)`)}], bn + ${j}u < N && bk < kEnd)`);
  void v;
  return shader({
    bindings: BINDINGS_SCALAR,
    params,
    workgroupSize: [16, 16],
    helpers: 'var<workgroup> As: array<vec4<f32>, 256>;\nvar<workgroup> Bs: array<vec4<f32>, 256>;',
    body: `${prologue(l)}
  let tileM = wid.y * 64u;
  let tileN = wid.x * 64u;
  let m0 = tileM + lid.y * 4u;
  let n0 = tileN + lid.x * 4u;
  // Loader roles: thread t fills As[kk*16 + r] (4 rows r*4.., k = t0 + kk) and the same for Bs.
  let kk = lidx / 16u;
  let r = lidx % 16u;
  let am = tileM + r * 4u;
  let bn = tileN + r * 4u;
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var t0 = kBegin; t0 < kEnd; t0 = t0 + 16u) {
    let ak = t0 + kk;
    let bk = t0 + kk;
    As[kk * 16u + r] = vec4<f32>(${loadA.join(', ')});
    Bs[kk * 16u + r] = vec4<f32>(${loadB.join(', ')});
    workgroupBarrier();
    for (var q = 0u; q < 16u; q = q + 1u) {
      let av = As[q * 16u + lid.y];
      let bv = Bs[q * 16u + lid.x];
      acc0 = fma(vec4<f32>(av.x), bv, acc0);
      acc1 = fma(vec4<f32>(av.y), bv, acc1);
      acc2 = fma(vec4<f32>(av.z), bv, acc2);
      acc3 = fma(vec4<f32>(av.w), bv, acc3);
    }
    workgroupBarrier();
  }
  ${store.join('\n  ')}`,
  });
}

/** Second pass of split-K: sums the S partial products of each batch in a fixed order. */
export function splitKReduce(): ShaderSource {
  return shader({
    bindings: [
      { name: 'Pp', type: 'f32' },
      { name: 'C', type: 'f32', write: true },
    ],
    params: 3,
    workgroupSize: [64],
    body: `let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P(0u)) { return; }
  let mn = P(1u);
  let S = P(2u);
  let b = i / mn;
  let e = i - b * mn;
  var acc = 0.0;
  for (var s = 0u; s < S; s = s + 1u) { acc = acc + Pp[(b * S + s) * mn + e]; }
  C[i] = acc;`,
  });
}
