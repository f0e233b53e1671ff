/**
 * Matmul launcher: coalesces broadcast batch dims into uniforms, picks a variant from
 * {@link MATMUL_TABLE} by shape and device (or `TPV_MATMUL_VARIANT`), and dispatches it.
 */
import { broadcastStrides, sizeOf, type Shape } from '../../../core/shape.js';
import { TensorError } from '../../../core/errors.js';
import { type DeviceFacts, type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { coalesce, grid2d, MAX_GROUPS_PER_DIM } from '../layout.js';
import {
  type MatmulLayout,
  U_BATCH,
  matmulNaive,
  matmulRegister,
  matmulTiled,
  matmulTiledRegister,
  splitKReduce,
} from './matmul-wgsl.js';
import { V5, matmulRowUniform } from './matmul-row-uniform.js';
import type { ShaderSource } from './wgsl.js';

/** The problem a variant is chosen for. */
export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/** One row of the selection table: the first row whose `when` holds wins. */
export interface MatmulRule {
  variant: number;
  when: (s: MatmulShape, f: DeviceFacts) => boolean;
  /** Why this row exists (printed nowhere; read it here). */
  why: string;
}

/** Variant names, indexed by number. */
export const MATMUL_VARIANTS = ['naive', 'tiled16', 'register4x4', 'tiled64-register4x4', 'splitK', 'rowUniform8x8'] as const;

/** Shape → variant rules (measured on lavapipe; on GPUs the tiled kernel is the safe default). */
export const MATMUL_TABLE: readonly MatmulRule[] = [
  { variant: 0, when: (s) => s.M * s.N * s.K <= 16384, why: 'tiny products: launch overhead dominates, keep it simple' },
  {
    variant: 4,
    when: (s) => s.batch * s.M * s.N <= 16384 && s.K >= 1024,
    why: 'few outputs and a long K (skinny T5 gradients): split K so enough workgroups run',
  },
  { variant: 5, when: (_s, f) => f.software, why: 'CPU emulation: uniform A loads broadcast across SIMD lanes; no barriers' },
  { variant: 3, when: () => true, why: 'real GPUs: workgroup-memory tiles with 4×4 register blocking' },
];

/** `TPV_MATMUL_VARIANT=<n>` (read per call so benchmarks can switch variants at run time). */
function forcedVariant(): number | null {
  const v = typeof process !== 'undefined' ? process.env?.TPV_MATMUL_VARIANT : undefined;
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n >= MATMUL_VARIANTS.length) {
    throw new TensorError('ARGUMENT', `TPV_MATMUL_VARIANT=${v} is not a variant (0..${MATMUL_VARIANTS.length - 1}: ${MATMUL_VARIANTS.join(', ')})`);
  }
  return n;
}

/** The variant the table (or the environment) picks for a problem. */
export function chooseMatmulVariant(s: MatmulShape, f: DeviceFacts, override: number | null = null): number {
  const forced = override ?? forcedVariant();
  if (forced !== null) return forced;
  return MATMUL_TABLE.find((r) => r.when(s, f))!.variant;
}

/** Outputs per workgroup along n and m, by variant (4, split-K, uses its inner variant's). */
const TILE_N = [8, 16, 32, 64, 0, V5.threads * V5.cols];
const TILE_M = [8, 16, 32, 64, 0, V5.rows];

/**
 * Batched matmul with broadcasting and transposition flags (see `Backend.matmul`). Inputs must
 * be float32 (the backend casts others first).
 */
export function matmul(ctx: KernelContext, a: GpuRef, b: GpuRef, transA: boolean, transB: boolean, outShape: Shape, override: number | null = null): GpuStorage {
  const r = outShape.length;
  const M = outShape[r - 2]!;
  const N = outShape[r - 1]!;
  const K = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  const batchShape = outShape.slice(0, r - 2);
  const batch = sizeOf(batchShape);
  const out = ctx.alloc(batch * M * N);
  if (batch * M * N === 0) return out;
  const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * M * K);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * K * N);
  const cb = coalesce(batchShape, [aBatch, bBatch]);
  const layout: MatmulLayout = { transA, transB, batchRank: cb.shape.length, M4: M % 4 === 0, N4: N % 4 === 0, K4: K % 4 === 0 };
  const shape: MatmulShape = { batch, M, N, K, transA, transB };
  let variant = chooseMatmulVariant(shape, ctx.facts, override);
  // Split-K needs its partial buffer to fit one binding; fall back to the plain kernel if not.
  let S = 1;
  let kChunk = Math.max(K, 1);
  if (variant === 4) {
    const target = Math.max(1, Math.ceil(K / 256));
    kChunk = Math.max(4, Math.ceil(Math.ceil(K / Math.min(target, 64)) / 4) * 4);
    S = Math.max(1, Math.ceil(K / kChunk));
    if (S * batch * M * N * 4 > ctx.facts.maxBindingBytes) S = 1;
    if (S === 1) kChunk = Math.max(K, 1);
  }
  const inner = variant === 4 ? (ctx.facts.software ? 5 : 3) : variant;
  const params = U_BATCH + 3 * cb.shape.length;
  const gen = [matmulNaive, matmulTiled, matmulRegister, matmulTiledRegister, null, matmulRowUniform][inner]!;
  const src: ShaderSource = gen(layout, params);
  const partial = S > 1 ? ctx.alloc(S * batch * M * N) : out;
  const Z = batch * S;
  const name = `matmul_v${variant}_${MATMUL_VARIANTS[inner]}${transA ? '_tA' : ''}${transB ? '_tB' : ''}`;
  for (let zBase = 0; zBase < Z; zBase += MAX_GROUPS_PER_DIM) {
    const zCount = Math.min(MAX_GROUPS_PER_DIM, Z - zBase);
    const u = new Uniforms().u32(M, N, K, zBase, kChunk, S, zCount, ...cb.shape, ...cb.strides[0]!, ...cb.strides[1]!);
    ctx.run({
      name,
      shader: src,
      buffers: [a.storage.buffer, b.storage.buffer, partial.buffer],
      uniforms: u.build(),
      workgroups: inner === 5 ? [Math.ceil(M / TILE_M[5]!), Math.ceil(N / TILE_N[5]!), zCount] : [Math.ceil(N / TILE_N[inner]!), Math.ceil(M / TILE_M[inner]!), zCount],
    });
  }
  if (S > 1) {
    const n = batch * M * N;
    ctx.run({
      name: 'matmul_splitK_reduce',
      shader: splitKReduce(),
      buffers: [partial.buffer, out.buffer],
      uniforms: new Uniforms().u32(n, M * N, S).build(),
      workgroups: grid2d(Math.ceil(n / 64)),
    });
    ctx.release(partial);
  }
  return out;
}
