/**
 * Matmul variant 5, the row-uniform register tile (see the variant list in `matmul-wgsl.ts`).
 * A workgroup owns `V5.rows` rows of the output, so every A address is the same for all of
 * its threads: lavapipe compiles those into one scalar load broadcast to all SIMD lanes
 * instead of a per-lane gather, which is what limits the other variants there.
 */
import { type MatmulLayout, C, aIndex, bIndex, prologue } from './matmul-wgsl.js';
import { type ShaderSource, shader } from './wgsl.js';

/** Rows (per workgroup) and columns (per thread) of variant 5. */
export const V5 = { rows: 8, threads: 16, cols: 8 } as const;

/** Variant 5: row-uniform 8×8 register tile (see the header). */
export function matmulRowUniform(l: MatmulLayout, params: number): ShaderSource {
  const TM = V5.rows;
  const G = V5.cols / 4; // vec4 column groups per thread
  const span = 4 * V5.threads; // distance between a thread's column groups
  const aVecK = !l.transA && l.K4;
  const aVecM = l.transA && l.M4;
  const bVecN = !l.transB && l.N4;
  const bVecK = l.transB && l.K4;
  const lines: string[] = [];
  for (let i = 0; i < TM; i++) lines.push(`let mr${i} = min(m0 + ${i}u, M - 1u);`);
  for (let g = 0; g < G; g++) for (let j = 0; j < 4; j++) lines.push(`let nc${g}_${j} = min(n0 + ${g * span + j}u, N - 1u);`);
  if (bVecN) for (let g = 0; g < G; g++) lines.push(`let nv${g} = min(n0 + ${g * span}u, N - 4u);`);
  const step: string[] = [];
  const tail: string[] = [];
  // A (uniform across the workgroup): a(i, kk).
  const a = (i: number, kk: number) => (aVecK ? `a${i}.${C[kk]}` : aVecM ? `ac${kk}_${i >> 2}.${C[i & 3]}` : `a${i}_${kk}`);
  if (aVecK) for (let i = 0; i < TM; i++) step.push(`let a${i} = A[(${aIndex(l, `mr${i}`, 'k')}) >> 2u];`);
  else if (aVecM) {
    for (let kk = 0; kk < 4; kk++) for (let q = 0; q < TM / 4; q++) step.push(`let ac${kk}_${q} = A[(${aIndex(l, `min(m0 + ${q * 4}u, M - 4u)`, `k + ${kk}u`)}) >> 2u];`);
  } else {
    for (let i = 0; i < TM; i++) for (let kk = 0; kk < 4; kk++) step.push(`let a${i}_${kk} = A[${aIndex(l, `mr${i}`, `k + ${kk}u`)}];`);
  }
  // B: b(kk, g) as a vec4 over the group's 4 columns.
  for (let g = 0; g < G; g++) {
    if (bVecN) for (let kk = 0; kk < 4; kk++) step.push(`let b${kk}_${g} = B[(${bIndex(l, `k + ${kk}u`, `nv${g}`)}) >> 2u];`);
    else if (bVecK) {
      for (let j = 0; j < 4; j++) step.push(`let bc${g}_${j} = B[(${bIndex(l, 'k', `nc${g}_${j}`)}) >> 2u];`);
      for (let kk = 0; kk < 4; kk++) step.push(`let b${kk}_${g} = vec4<f32>(${[0, 1, 2, 3].map((j) => `bc${g}_${j}.${C[kk]}`).join(', ')});`);
    } else {
      for (let kk = 0; kk < 4; kk++) {
        step.push(`let b${kk}_${g} = vec4<f32>(${[0, 1, 2, 3].map((j) => `B[${bIndex(l, `k + ${kk}u`, `nc${g}_${j}`)}]`).join(', ')});`);
      }
    }
  }
  for (let kk = 0; kk < 4; kk++) for (let i = 0; i < TM; i++) for (let g = 0; g < G; g++) step.push(`acc${i}_${g} = fma(vec4<f32>(${a(i, kk)}), b${kk}_${g}, acc${i}_${g});`);
  if (!aVecK && !bVecK) {
    // K % 4 tail: one k at a time.
    for (let i = 0; i < TM; i++) tail.push(`let at${i} = A[${aVecM ? `(${aIndex(l, `min(m0 + ${(i >> 2) * 4}u, M - 4u)`, 'k')}) >> 2u][${i & 3}u` : aIndex(l, `mr${i}`, 'k')}];`);
    for (let g = 0; g < G; g++) {
      if (bVecN) tail.push(`let bt${g} = B[(${bIndex(l, 'k', `nv${g}`)}) >> 2u];`);
      else tail.push(`let bt${g} = vec4<f32>(${[0, 1, 2, 3].map((j) => `B[${bIndex(l, 'k', `nc${g}_${j}`)}]`).join(', ')});`);
    }
    for (let i = 0; i < TM; i++) for (let g = 0; g < G; g++) tail.push(`acc${i}_${g} = fma(vec4<f32>(at${i}), bt${g}, acc${i}_${g});`);
  }
  const accs: string[] = [];
  for (let i = 0; i < TM; i++) for (let g = 0; g < G; g++) accs.push(`var acc${i}_${g} = vec4<f32>(0.0);`);
  const store: string[] = [];
  for (let i = 0; i < TM; i++) {
    for (let g = 0; g < G; g++) {
      const row = `cOff + (m0 + ${i}u) * N + n0 + ${g * span}u`;
      if (l.N4) store.push(`if (m0 + ${i}u < M && n0 + ${g * span}u < N) { C[(${row}) >> 2u] = acc${i}_${g}; }`);
      else {
        store.push(
          `if (m0 + ${i}u < M) { ${[0, 1, 2, 3].map((j) => `if (n0 + ${g * span + j}u < N) { C[${row} + ${j}u] = acc${i}_${g}.${C[j]}; }`).join(' ')} }`,
        );
      }
    }
  }
  return shader({
    bindings: [
      { name: 'A', type: aVecK || aVecM ? 'vec4<f32>' : 'f32' },
      { name: 'B', type: bVecN || bVecK ? 'vec4<f32>' : 'f32' },
      { name: 'C', type: l.N4 ? 'vec4<f32>' : 'f32', write: true },
    ],
    params,
    workgroupSize: [V5.threads],
    body: `${prologue(l)}
  let m0 = wid.x * ${TM}u;
  let n0 = wid.y * ${V5.threads * V5.cols}u + lid.x * 4u;
  ${lines.join('\n  ')}
  ${accs.join('\n  ')}
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
