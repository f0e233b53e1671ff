/**
 * Data movement: strided gather-copies (permute, expand, narrow, clone) and concatenation.
 * Every dtype is 4 bytes on the GPU, so these copy raw u32 words and one pipeline per rank
 * serves all dtypes.
 */
import { sizeOf, type Shape } from '../../../core/shape.js';
import { type GpuRef, type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { coalesce, grid2d } from '../layout.js';
import { flatIndex, gpuDType, shader, stridedOffsets } from './wgsl.js';

const WG = 64;

/** `out[i] = x[offset + Σ idx_d · strides_d]` over `outShape`, row-major. */
export function stridedCopy(ctx: KernelContext, x: GpuRef, outShape: Shape, strides: readonly number[], offset: number): GpuStorage {
  gpuDType(x.dtype);
  const n = sizeOf(outShape);
  const out = ctx.alloc(n);
  if (n === 0) return out;
  const { shape, strides: st } = coalesce(outShape, [strides]);
  const rank = shape.length;
  const u = new Uniforms().u32(n, offset);
  const contiguous = rank === 1 && st[0]![0] === 1;
  let index: string;
  let key: string;
  if (contiguous) {
    index = 'let o0 = i;';
    key = 'c';
  } else {
    u.u32(...shape, ...st[0]!);
    index = stridedOffsets('i', rank, 2, [2 + rank], ['o0']);
    key = `r${rank}`;
  }
  const src = shader({
    bindings: [
      { name: 'x', type: 'u32' },
      { name: 'out', type: 'u32', write: true },
    ],
    params: u.length,
    workgroupSize: [WG],
    body: `let i = ${flatIndex(WG)}; if (i >= P(0u)) { return; }
  ${index}
  out[i] = x[P(1u) + o0];`,
  });
  ctx.run({ name: `strided_copy_${key}`, shader: src, buffers: [x.storage.buffer, out.buffer], uniforms: u.build(), workgroups: grid2d(Math.ceil(n / WG)) });
  return out;
}

const BLOCK_COPY = shader({
  bindings: [
    { name: 'x', type: 'u32' },
    { name: 'out', type: 'u32', write: true },
  ],
  params: 4,
  workgroupSize: [WG],
  // out[o·innerOut + col + j] = x[o·inner + j] for the flat index o·inner + j < n.
  body: `let i = ${flatIndex(WG)}; if (i >= P(0u)) { return; }
  let inner = P(1u);
  let o = i / inner;
  let j = i - o * inner;
  out[o * P(2u) + P(3u) + j] = x[i];`,
});

/** Concatenation along `dim`: one block-copy dispatch per input into its column range. */
export function cat(ctx: KernelContext, xs: readonly GpuRef[], dim: number, outShape: Shape): GpuStorage {
  gpuDType(xs[0]!.dtype);
  const out = ctx.alloc(sizeOf(outShape));
  const innerOut = sizeOf(outShape.slice(dim));
  let col = 0;
  for (const x of xs) {
    const inner = sizeOf(x.shape.slice(dim));
    const n = sizeOf(x.shape);
    if (n > 0) {
      ctx.run({
        name: 'cat_block',
        shader: BLOCK_COPY,
        buffers: [x.storage.buffer, out.buffer],
        uniforms: new Uniforms().u32(n, inner, innerOut, col).build(),
        workgroups: grid2d(Math.ceil(n / WG)),
      });
    }
    col += inner;
  }
  return out;
}
