/**
 * Philox4x32-10 in WGSL with the counter layout of `random/philox.ts`, so a seeded stream gives
 * the same numbers on the GPU as on the CPU: uniforms bit for bit (24 random bits scaled by
 * 2^-24 are exact in f32), normals up to f32 rounding of Box–Muller (log and cos come from
 * the accurate math library, not the loose WGSL builtins).
 */
import type { RandomStream } from '../../../random/philox.js';
import { type GpuStorage, type KernelContext, Uniforms } from '../context.js';
import { grid2d } from '../layout.js';
import { MATH_WGSL } from './math.js';
import { shader } from './wgsl.js';

/** WGSL Philox4x32-10 (mulhi through 16-bit halves: WGSL has no 64-bit integers). */
export const PHILOX_WGSL = `
fn mulhi32(a: u32, b: u32) -> u32 {
  let aL = a & 0xffffu; let aH = a >> 16u; let bL = b & 0xffffu; let bH = b >> 16u;
  let ll = aL * bL; let lh = aL * bH; let hl = aH * bL; let hh = aH * bH;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var r = 0; r < 10; r = r + 1) {
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
fn to_uniform(u: u32) -> f32 { return f32(u >> 8u) * 5.9604644775390625e-8; }
fn to_uniform_open(u: u32) -> f32 { return f32((u >> 8u) + 1u) * 5.9604644775390625e-8; }
`;

const WG = 64;

/** Fills a new float32 buffer of `size` with uniform [0,1) or standard normal samples. */
export function random(ctx: KernelContext, kind: 'uniform' | 'normal', size: number, stream: RandomStream): GpuStorage {
  const out = ctx.alloc(size);
  if (size === 0) return out;
  const perBlock = kind === 'uniform' ? 4 : 2;
  const blocks = Math.ceil(size / perBlock);
  // Counter (block, offset, 0, 0) for uniforms and (block, offset, 1, 0) for normals, as on the CPU.
  const body =
    kind === 'uniform'
      ? `let w = philox(vec4<u32>(b, P(3u), 0u, 0u), vec2<u32>(P(1u), P(2u)));
  let i = b * 4u;
  for (var j = 0u; j < 4u; j = j + 1u) { if (i + j < n) { out[i + j] = to_uniform(w[j]); } }`
      : `let w = philox(vec4<u32>(b, P(3u), 1u, 0u), vec2<u32>(P(1u), P(2u)));
  let i = b * 2u;
  for (var j = 0u; j < 2u; j = j + 1u) {
    if (i + j < n) {
      let u1 = to_uniform_open(w[2u * j]);
      let u2 = to_uniform(w[2u * j + 1u]);
      out[i + j] = sqrt(-2.0 * log_(u1)) * cos_2pi(u2);
    }
  }`;
  const src = shader({
    bindings: [{ name: 'out', type: 'f32', write: true }],
    params: 5,
    workgroupSize: [WG],
    helpers: MATH_WGSL + PHILOX_WGSL,
    body: `let b = gid.x + gid.y * nwg.x * ${WG}u;
  if (b >= P(4u)) { return; }
  let n = P(0u);
  ${body}`,
  });
  ctx.run({
    name: `random_${kind}`,
    shader: src,
    buffers: [out.buffer],
    uniforms: new Uniforms().u32(size, stream.key0, stream.key1, stream.offset, blocks).build(),
    workgroups: grid2d(Math.ceil(blocks / WG)),
  });
  return out;
}
