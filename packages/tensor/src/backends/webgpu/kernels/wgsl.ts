/**
 * Small WGSL templating helpers shared by every kernel family: dtype → storage type, the
 * uniform block (shapes and strides live there, so a new shape reuses a cached pipeline),
 * binding declarations generated from one list (so the WGSL and the bind-group layout cannot
 * disagree) and typed-array-exact conversions between stored dtypes.
 */
import type { DType } from '../../../core/dtype.js';
import { TensorError } from '../../../core/errors.js';

/** WGSL scalar type a dtype is stored as: f32, i32, or u32 for bool (WGSL has no 8-bit storage). */
export type WgslScalar = 'f32' | 'i32' | 'u32';

/** The dtypes a WebGPU buffer can hold; every one is 4 bytes per element. */
export type GpuDType = 'float32' | 'int32' | 'bool';

/** Bytes per element on the GPU (bool is widened to u32). */
export const GPU_ITEM_BYTES = 4;

/** Rejects dtypes WGSL cannot store (float64) with a DTYPE error that says what to do instead. */
export function gpuDType(dtype: DType): GpuDType {
  if (dtype === 'float64') {
    throw new TensorError(
      'DTYPE',
      "float64 is not supported on the WebGPU backend (WGSL has no f64). Use float32, or keep float64 work on the 'cpu' backend.",
    );
  }
  return dtype;
}

/** The WGSL storage type of a dtype. */
export function wgslType(dtype: DType): WgslScalar {
  switch (gpuDType(dtype)) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
  }
}

/** One storage binding of a kernel. */
export interface BindingDecl {
  /** Variable name in WGSL. */
  name: string;
  /** Element type, e.g. `f32`, `vec4<f32>`, `atomic<u32>`. */
  type: string;
  /** Whether the kernel writes it (`read_write`); read-only otherwise. */
  write?: boolean;
}

/** A complete shader plus the access pattern its bind-group layout needs. */
export interface ShaderSource {
  code: string;
  /** One char per storage binding: `r` read-only, `w` read-write (binding i+1). */
  access: string;
}

/** Threads of a workgroup, as in `@workgroup_size(x, y, z)`. */
export type WorkgroupSize = readonly [number, number?, number?];

/**
 * Assembles a compute shader: uniform block at binding 0 read through `P(i)` (u32 words),
 * `PF(i)`/`PI(i)` for f32/i32 views, storage bindings 1..n in order, helper code, and `main`
 * with every builtin a kernel might need.
 */
export function shader(opts: {
  bindings: readonly BindingDecl[];
  /** Number of u32 uniform words the kernel reads. */
  params: number;
  workgroupSize: WorkgroupSize;
  body: string;
  helpers?: string;
}): ShaderSource {
  const words = Math.max(1, Math.ceil(opts.params / 4));
  const [x, y = 1, z = 1] = opts.workgroupSize;
  const decls = opts.bindings
    .map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: array<${b.type}>;`)
    .join('\n');
  const code = `struct Params { v: array<vec4<u32>, ${words}> }
@group(0) @binding(0) var<uniform> params: Params;
fn P(i: u32) -> u32 { return params.v[i >> 2u][i & 3u]; }
fn PF(i: u32) -> f32 { return bitcast<f32>(P(i)); }
fn PI(i: u32) -> i32 { return bitcast<i32>(P(i)); }
${decls}
${opts.helpers ?? ''}
@compute @workgroup_size(${x}, ${y}, ${z})
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) lidx: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
${opts.body}
}
`;
  return { code, access: opts.bindings.map((b) => (b.write ? 'w' : 'r')).join('') };
}

/**
 * WGSL expression converting `expr` stored as `from` into `to` with JavaScript typed-array
 * semantics (what the CPU backend does when it stores a number into an Int32Array/Uint8Array):
 * floats truncate toward zero, NaN/±Inf become 0, bools keep their low 8 bits.
 * Needs {@link CONVERT_HELPERS}.
 */
export function convert(expr: string, from: GpuDType, to: GpuDType): string {
  if (from === to) return expr;
  if (to === 'float32') return `f32(${expr})`;
  if (to === 'int32') return from === 'float32' ? `to_i32(${expr})` : `i32(${expr})`;
  // to bool (u32 holding a Uint8Array value)
  return from === 'float32' ? `(u32(to_i32(${expr})) & 255u)` : `(u32(${expr}) & 255u)`;
}

/** WGSL boolean expression: JavaScript truthiness of a stored value (NaN and 0 are false). */
export function truthy(expr: string, dtype: GpuDType): string {
  if (dtype === 'float32') return `(${expr} != 0.0 && !is_nan(${expr}))`;
  return dtype === 'int32' ? `(${expr} != 0)` : `(${expr} != 0u)`;
}

/** Helpers used by {@link convert} and {@link truthy}; NaN tests look at bits so fast-math cannot drop them. */
export const CONVERT_HELPERS = `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn to_i32(x: f32) -> i32 { if (is_nan(x) || is_inf(x)) { return 0; } return i32(trunc(x)); }
`;

/**
 * Unrolled WGSL that splits the flat index `idx` over `rank` dims whose sizes are uniforms at
 * `shapeAt..`, and accumulates into `offs[k]` the offset of operand k whose strides start at
 * `strideAt[k]`. Rank is baked into the code; sizes and strides stay uniforms.
 */
export function stridedOffsets(idx: string, rank: number, shapeAt: number, strideAt: readonly number[], offs: readonly string[]): string {
  const lines = [`var rem = ${idx};`];
  for (const o of offs) lines.push(`var ${o} = 0u;`);
  for (let d = rank - 1; d >= 0; d--) {
    if (d === 0) {
      lines.push('let c0 = rem;');
    } else {
      lines.push(`let c${d} = rem % P(${shapeAt + d}u);`, `rem = rem / P(${shapeAt + d}u);`);
    }
    offs.forEach((o, k) => lines.push(`${o} = ${o} + c${d} * P(${strideAt[k]! + d}u);`));
  }
  return lines.join('\n  ');
}

/**
 * The flat thread index of a 1-D launch folded into 2-D by {@link grid2d}, for a workgroup of
 * `wg` threads in x.
 */
export function flatIndex(wg: number): string {
  return `(gid.x + gid.y * nwg.x * ${wg}u)`;
}
