/**
 * Host-side index arithmetic shared by the kernel launchers: dimension coalescing (so that
 * most launches use rank 1 or 2 and a handful of pipelines serve every shape) and grid sizing
 * within the 65,535-workgroups-per-dimension limit.
 */

/** A shape and one stride list per operand, after {@link coalesce}. */
export interface Coalesced {
  shape: number[];
  strides: number[][];
}

/**
 * Drops size-1 dims and merges neighbouring dims that are contiguous in every operand
 * (`stride[d] == stride[d+1] * shape[d+1]`). A same-shape elementwise op becomes rank 1,
 * a row broadcast rank 2. Always returns rank ≥ 1.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable =
      last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** Largest workgroup count per dispatch dimension that WebGPU guarantees. */
export const MAX_GROUPS_PER_DIM = 65535;

/**
 * Workgroup counts covering `groups` workgroups in x then y (a 1-D index space folded into 2-D
 * because x alone is capped at 65,535). Kernels recover the flat index as
 * `wid.x + wid.y * nwg.x`.
 */
export function grid2d(groups: number): [number, number] {
  if (groups <= MAX_GROUPS_PER_DIM) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}
