/**
 * The WebGPU benchmark cases, each written once against tpv's API and once against tfjs, with
 * its work (FLOPs) or traffic (bytes) for throughput: square matmuls, the T5-base shapes prompt
 * tuning spends its time in, softmax over a T5 vocabulary, T5's RMSNorm, and a whole T5
 * self-attention block (12 heads × 64, no 1/√d scaling, as T5 does).
 */
import * as T from '@tpvjs/tensor';
import type { Tfjs } from './tfjs-peer.js';

type TfTensor = ReturnType<Tfjs['tensor']>;

/** One benchmark case. */
export interface GpuCase {
  name: string;
  group: 'matmul' | 't5' | 'softmax' | 'rmsnorm' | 'attention';
  /** Input shapes; data is uniform(−1, 1)·scale from the shared LCG, seeded by position. */
  inputs: { shape: number[]; scale?: number }[];
  /** Floating-point operations per call (compute-bound cases). */
  flops?: number;
  /** Bytes read + written per call (memory-bound cases). */
  bytes?: number;
  /** Whether matmul variants are swept (and which sizes allow the slow ones). */
  sweep?: boolean;
  /** Skip the CPU reference check (too slow on the CPU backend). */
  noCheck?: boolean;
  tpv: (xs: T.Tensor[]) => T.Tensor;
  tfjs: (tf: Tfjs, xs: TfTensor[]) => TfTensor;
}

const mm = (name: string, group: GpuCase['group'], b: number, m: number, k: number, n: number, noCheck = false): GpuCase => ({
  name,
  group,
  inputs: b > 1 ? [{ shape: [b, m, k] }, { shape: [b, k, n] }] : [{ shape: [m, k] }, { shape: [k, n] }],
  flops: 2 * b * m * k * n,
  sweep: true,
  noCheck,
  tpv: ([a, w]) => T.matmul(a!, w!),
  tfjs: (tf, [a, w]) => tf.matMul(a as never, w as never),
});

/** `x·Wᵀ` with an nn.Linear weight [out, in]: the layout T5's projections actually use. */
const linear = (name: string, m: number, k: number, n: number): GpuCase => ({
  name,
  group: 't5',
  inputs: [{ shape: [m, k] }, { shape: [n, k] }],
  flops: 2 * m * k * n,
  sweep: true,
  tpv: ([x, w]) => T.linear(x!, w!),
  tfjs: (tf, [x, w]) => tf.matMul(x as never, w as never, false, true),
});

const L = 256;
const H = 12;
const D = 64;
const DM = H * D;

/** The benchmark's case list; `sizes` are the square matmul edges. */
export function gpuCases(sizes: readonly number[] = [256, 512, 1024, 2048]): GpuCase[] {
  return [
    ...sizes.map((s) => mm(`mm${s}`, 'matmul', 1, s, s, s, s > 1024)),
    mm('t5_attn_proj 256×768×768', 't5', 1, L, DM, DM),
    mm('t5_ffn 256×768×3072', 't5', 1, L, DM, 3072),
    linear('t5_ffn x·Wᵀ 256×768→3072', L, DM, 3072),
    mm('t5_attn_qk 12×256×64×256', 't5', H, L, D, L),
    {
      name: 'softmax 256×32128',
      group: 'softmax',
      inputs: [{ shape: [256, 32128], scale: 8 }],
      bytes: 2 * 4 * 256 * 32128,
      tpv: ([x]) => T.softmax(x!, -1),
      tfjs: (tf, [x]) => tf.softmax(x as never),
    },
    {
      name: 'rmsNorm 4096×768',
      group: 'rmsnorm',
      inputs: [{ shape: [4096, DM] }, { shape: [DM] }],
      bytes: 2 * 4 * 4096 * DM,
      tpv: ([x, w]) => T.tidy(() => T.rmsNorm(x!, w!, 1e-6)),
      tfjs: (tf, [x, w]) =>
        tf.tidy(() => tf.mul(w!, tf.mul(x!, tf.rsqrt(tf.add(tf.mean(tf.mul(x!, x!), -1, true), 1e-6))))),
    },
    {
      name: 'attention block L256 12×64',
      group: 'attention',
      inputs: [{ shape: [L, DM] }, ...[0, 1, 2, 3].map(() => ({ shape: [DM, DM], scale: 1 / Math.sqrt(DM) }))],
      flops: 4 * 2 * L * DM * DM + 2 * 2 * H * L * L * D,
      tpv: ([x, wq, wk, wv, wo]) =>
        T.tidy(() => {
          const heads = (w: T.Tensor) => T.permute(T.reshape(T.linear(x!, w), [L, H, D]), [1, 0, 2]);
          const q = heads(wq!);
          const k = heads(wk!);
          const v = heads(wv!);
          const p = T.softmax(T.matmul(q, T.transpose(k, 1, 2)), -1);
          const o = T.reshape(T.permute(T.matmul(p, v), [1, 0, 2]), [L, DM]);
          return T.linear(o, wo!);
        }),
      tfjs: (tf, [x, wq, wk, wv, wo]) =>
        tf.tidy(() => {
          const heads = (w: TfTensor) => tf.transpose(tf.reshape(tf.matMul(x as never, w as never, false, true), [L, H, D]), [1, 0, 2]);
          const q = heads(wq!);
          const k = heads(wk!);
          const v = heads(wv!);
          const p = tf.softmax(tf.matMul(q as never, k as never, false, true));
          const o = tf.reshape(tf.transpose(tf.matMul(p as never, v as never), [1, 0, 2]), [L, DM]);
          return tf.matMul(o as never, wo as never, false, true);
        }),
    },
  ];
}
