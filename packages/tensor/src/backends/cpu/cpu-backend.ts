import { type DType, type TypedArray, allocArray } from '../../core/dtype.js';
import { TensorError } from '../../core/errors.js';
import { type Shape, broadcastStrides, sizeOf, stridesOf } from '../../core/shape.js';
import { fillNormal, fillUniform, type RandomStream } from '../../random/philox.js';
import type { AdamWHyper, Backend, BackendMemory, BinaryOp, ReduceOp, TensorRef, UnaryOp } from '../backend.js';
import { BINARY, UNARY } from './elementwise.js';
import { gemm } from './matmul.js';
import { chooseCpuMatmul, gemmWasm } from './matmul-wasm.js';

type Ref = TensorRef<TypedArray>;

/** Largest buffer we allocate on the CPU; beyond this is almost surely a bug, not a model. */
const MAX_ELEMENTS = 2 ** 31 - 1;

function alloc(dtype: DType, size: number): TypedArray {
  if (size > MAX_ELEMENTS) throw new TensorError('OUT_OF_MEMORY', `cannot allocate ${size} elements on the CPU`);
  return allocArray(dtype, size);
}

/**
 * Iterates over every index of `shape` in row-major order, calling `fn` with the flat offset
 * into each strided operand. The innermost dimension is a tight loop.
 */
function forEachStrided(shape: Shape, strides: number[][], fn: (offsets: number[], inner: number, innerStrides: number[]) => void): void {
  const rank = shape.length;
  const nOps = strides.length;
  if (rank === 0) {
    fn(new Array(nOps).fill(0), 1, new Array(nOps).fill(0));
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStrides = strides.map((s) => s[rank - 1]!);
  const outer = sizeOf(shape.slice(0, rank - 1));
  const idx = new Array<number>(rank - 1).fill(0);
  const offs = new Array<number>(nOps).fill(0);
  for (let o = 0; o < outer; o++) {
    fn(offs.slice(), inner, innerStrides);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < nOps; k++) offs[k]! += strides[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < nOps; k++) offs[k]! -= strides[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * `out[o + k] = A[ia + k·da] op B[ib + k·db]` for k < n. The common arithmetic ops get their own
 * loops so V8 compiles them without a call per element; the rest go through the scalar table.
 */
function stridedBinary(
  op: BinaryOp, out: TypedArray, o: number, n: number,
  A: TypedArray, ia: number, da: number, B: TypedArray, ib: number, db: number,
): void {
  switch (op) {
    case 'add':
      for (let k = 0; k < n; k++, ia += da, ib += db) out[o + k] = A[ia]! + B[ib]!;
      return;
    case 'sub':
      for (let k = 0; k < n; k++, ia += da, ib += db) out[o + k] = A[ia]! - B[ib]!;
      return;
    case 'mul':
      for (let k = 0; k < n; k++, ia += da, ib += db) out[o + k] = A[ia]! * B[ib]!;
      return;
    case 'div':
      for (let k = 0; k < n; k++, ia += da, ib += db) out[o + k] = A[ia]! / B[ib]!;
      return;
    default: {
      const f = BINARY[op];
      for (let k = 0; k < n; k++, ia += da, ib += db) out[o + k] = f(A[ia]!, B[ib]!);
    }
  }
}

/**
 * `(log-)softmax(x + bias)` over the last axis, with `bias` read through broadcast strides so
 * the sum is never stored: each row's logits are formed once into the output, then normalised.
 */
function softmaxBiased(x: Ref, log: boolean, bias: Ref): TypedArray {
  const X = x.storage;
  const B = bias.storage;
  const out = alloc(x.dtype, X.length);
  if (X.length === 0) return out;
  const sb = broadcastStrides(bias.shape, x.shape);
  let base = 0;
  forEachStrided(x.shape, [sb], (offs, C, is) => {
    const db = is[0]!;
    let m = -Infinity;
    for (let c = 0, ib = offs[0]!; c < C; c++, ib += db) {
      const z = X[base + c]! + B[ib]!;
      out[base + c] = z;
      m = Math.max(m, z);
    }
    let s = 0;
    if (log) {
      for (let c = 0; c < C; c++) s += Math.exp(out[base + c]! - m);
      const ls = Math.log(s) + m;
      for (let c = 0; c < C; c++) out[base + c] = out[base + c]! - ls;
    } else {
      for (let c = 0; c < C; c++) {
        const e = Math.exp(out[base + c]! - m);
        out[base + c] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let c = 0; c < C; c++) out[base + c] = out[base + c]! * inv;
    }
    base += C;
  });
  return out;
}

/**
 * The reference backend: plain TypeScript over typed arrays. Float32 math is done in float64
 * registers and rounded on store, which matches PyTorch within float32 tolerances; the
 * exception is float32 matmul, which runs a WebAssembly SIMD kernel accumulating in float32
 * like BLAS (`TPV_CPU_MATMUL=js` restores the float64-accumulating JS kernel).
 */
export class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';

  upload(data: TypedArray, dtype: DType): TypedArray {
    const out = alloc(dtype, data.length);
    out.set(data as ArrayLike<number>);
    return out;
  }

  fill(size: number, dtype: DType, value: number): TypedArray {
    const out = alloc(dtype, size);
    if (value !== 0) out.fill(value);
    return out;
  }

  async read(s: TypedArray, dtype: DType, size: number): Promise<TypedArray> {
    return this.readSync(s, dtype, size);
  }

  readSync(s: TypedArray, _dtype: DType, size: number): TypedArray {
    return s.slice(0, size);
  }

  free(): void {
    // Garbage collected; the engine's counters are what matter.
  }

  cast(x: Ref, to: DType): TypedArray {
    const out = alloc(to, x.storage.length);
    if (to === 'int32') {
      for (let i = 0; i < out.length; i++) out[i] = Math.trunc(x.storage[i]!);
    } else if (to === 'bool') {
      for (let i = 0; i < out.length; i++) out[i] = x.storage[i] ? 1 : 0;
    } else {
      out.set(x.storage as ArrayLike<number>);
    }
    return out;
  }

  unary(op: UnaryOp, x: Ref, outDtype: DType): TypedArray {
    const f = UNARY[op];
    const src = x.storage;
    const out = alloc(outDtype, src.length);
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
    return out;
  }

  binary(op: BinaryOp, a: Ref, b: Ref, outShape: Shape, outDtype: DType): TypedArray {
    const n = sizeOf(outShape);
    const out = alloc(outDtype, n);
    const A = a.storage;
    const B = b.storage;
    if (A.length === n && B.length === n) {
      stridedBinary(op, out, 0, n, A, 0, 1, B, 0, 1);
      return out;
    }
    if (B.length === 1 && A.length === n) {
      stridedBinary(op, out, 0, n, A, 0, 1, B, 0, 0);
      return out;
    }
    if (A.length === 1 && B.length === n) {
      stridedBinary(op, out, 0, n, A, 0, 0, B, 0, 1);
      return out;
    }
    const sa = broadcastStrides(a.shape, outShape);
    const sb = broadcastStrides(b.shape, outShape);
    let o = 0;
    forEachStrided(outShape, [sa, sb], (offs, inner, is) => {
      stridedBinary(op, out, o, inner, A, offs[0]!, is[0]!, B, offs[1]!, is[1]!);
      o += inner;
    });
    return out;
  }

  where(cond: Ref, a: Ref, b: Ref, outShape: Shape, outDtype: DType): TypedArray {
    const out = alloc(outDtype, sizeOf(outShape));
    const C = cond.storage;
    const A = a.storage;
    const B = b.storage;
    const sc = broadcastStrides(cond.shape, outShape);
    const sa = broadcastStrides(a.shape, outShape);
    const sb = broadcastStrides(b.shape, outShape);
    let o = 0;
    forEachStrided(outShape, [sc, sa, sb], (offs, inner, is) => {
      let ic = offs[0]!;
      let ia = offs[1]!;
      let ib = offs[2]!;
      for (let k = 0; k < inner; k++, ic += is[0]!, ia += is[1]!, ib += is[2]!) out[o++] = C[ic] ? A[ia]! : B[ib]!;
    });
    return out;
  }

  reduce(op: ReduceOp, x: Ref, axes: number[]): TypedArray {
    const shape = x.shape;
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outSize = sizeOf(outShape);
    const X = x.storage;
    // Output strides with 0 on reduced axes map each input element to its output slot.
    const os = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
    const xs = stridesOf(shape);
    if (op === 'argmax') {
      const axis = axes[0]!;
      const out = alloc('int32', outSize);
      const best = new Float64Array(outSize).fill(-Infinity);
      const seen = new Uint8Array(outSize);
      const idx = new Array<number>(shape.length).fill(0);
      for (let i = 0; i < X.length; i++) {
        let o = 0;
        for (let d = 0; d < shape.length; d++) o += idx[d]! * os[d]!;
        const v = X[i]!;
        // First maximal index wins (PyTorch/NumPy); NaN counts as maximal.
        if (!seen[o] || v > best[o]! || (Number.isNaN(v) && !Number.isNaN(best[o]!))) {
          best[o] = v;
          out[o] = idx[axis]!;
          seen[o] = 1;
        }
        for (let d = shape.length - 1; d >= 0; d--) {
          if (++idx[d]! < shape[d]!) break;
          idx[d] = 0;
        }
      }
      void xs;
      return out;
    }
    const acc = new Float64Array(outSize);
    if (op === 'max') acc.fill(-Infinity);
    if (op === 'min') acc.fill(Infinity);
    let p = 0;
    forEachStrided(shape, [os], (offs, inner, is) => {
      let o = offs[0]!;
      const d = is[0]!;
      if (op === 'sum') {
        if (d === 0) {
          let s = 0;
          for (let k = 0; k < inner; k++) s += X[p++]!;
          acc[o] += s;
        } else {
          for (let k = 0; k < inner; k++, o += d) acc[o] += X[p++]!;
        }
      } else if (op === 'max') {
        for (let k = 0; k < inner; k++, o += d) {
          const v = X[p++]!;
          if (v > acc[o]! || Number.isNaN(v)) acc[o] = v;
        }
      } else {
        for (let k = 0; k < inner; k++, o += d) {
          const v = X[p++]!;
          if (v < acc[o]! || Number.isNaN(v)) acc[o] = v;
        }
      }
    });
    const out = alloc(x.dtype === 'bool' ? 'int32' : x.dtype, outSize);
    out.set(acc);
    return out;
  }

  matmul(a: Ref, b: Ref, transA: boolean, transB: boolean, outShape: Shape): TypedArray {
    const r = outShape.length;
    const M = outShape[r - 2]!;
    const N = outShape[r - 1]!;
    const K = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    const batchShape = outShape.slice(0, r - 2);
    const nb = sizeOf(batchShape);
    const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape);
    const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape);
    const aMat = (transA ? M : K) * (transA ? K : M);
    const bMat = K * N;
    const outDtype = a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
    const out = alloc(outDtype, sizeOf(outShape)) as Float32Array | Float64Array;
    // Float32 results go to the wasm SIMD kernel (float32 accumulation, like BLAS); float64
    // ones, and `TPV_CPU_MATMUL=js`, to the float64-accumulating JS kernel.
    const wasm = chooseCpuMatmul(M, N, K, outDtype) === 'wasm';
    const idx = new Array<number>(batchShape.length).fill(0);
    for (let bi = 0; bi < nb; bi++) {
      let ao = 0;
      let bo = 0;
      for (let d = 0; d < batchShape.length; d++) {
        ao += idx[d]! * aBatch[d]!;
        bo += idx[d]! * bBatch[d]!;
      }
      // Batch strides count elements of the batch-shaped array; scale by matrix size.
      const av = { data: a.storage, offset: ao * aMat, rs: transA ? 1 : K, cs: transA ? M : 1 };
      const bv = { data: b.storage, offset: bo * bMat, rs: transB ? 1 : N, cs: transB ? K : 1 };
      if (wasm) gemmWasm(M, N, K, av, bv, out as Float32Array, bi * M * N);
      else gemm(M, N, K, av, bv, out, bi * M * N);
      for (let d = batchShape.length - 1; d >= 0; d--) {
        if (++idx[d]! < batchShape[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  stridedCopy(x: Ref, outShape: Shape, strides: readonly number[], offset: number): TypedArray {
    const out = alloc(x.dtype, sizeOf(outShape));
    const X = x.storage;
    let o = 0;
    forEachStrided(outShape, [[...strides]], (offs, inner, is) => {
      let i = offs[0]! + offset;
      const d = is[0]!;
      for (let k = 0; k < inner; k++, i += d) out[o++] = X[i]!;
    });
    return out;
  }

  cat(xs: Ref[], dim: number, outShape: Shape): TypedArray {
    const out = alloc(xs[0]!.dtype, sizeOf(outShape));
    const outer = sizeOf(outShape.slice(0, dim));
    const innerOut = sizeOf(outShape.slice(dim));
    let col = 0;
    for (const x of xs) {
      const inner = sizeOf(x.shape.slice(dim));
      for (let o = 0; o < outer; o++) {
        out.set((x.storage as Float32Array).subarray(o * inner, (o + 1) * inner), o * innerOut + col);
      }
      col += inner;
    }
    return out;
  }

  gather(weight: Ref, ids: Ref): TypedArray {
    const V = weight.shape[0]!;
    const D = weight.shape[1]!;
    const I = ids.storage;
    const W = weight.storage as Float32Array;
    const out = alloc(weight.dtype, I.length * D);
    for (let i = 0; i < I.length; i++) {
      const r = I[i]!;
      if (r < 0 || r >= V || !Number.isInteger(r)) {
        throw new TensorError('ARGUMENT', `embedding index ${r} is out of range for ${V} rows`);
      }
      out.set(W.subarray(r * D, r * D + D), i * D);
    }
    return out;
  }

  scatterAddRows(ids: Ref, src: Ref, numRows: number): TypedArray {
    const D = src.shape[src.shape.length - 1]!;
    const acc = new Float64Array(numRows * D);
    const I = ids.storage;
    const S = src.storage;
    for (let i = 0; i < I.length; i++) {
      const r = I[i]!;
      for (let d = 0; d < D; d++) acc[r * D + d] += S[i * D + d]!;
    }
    const out = alloc(src.dtype, numRows * D);
    out.set(acc);
    return out;
  }

  softmax(x: Ref, log: boolean, bias?: Ref): TypedArray {
    if (bias) return softmaxBiased(x, log, bias);
    const C = x.shape[x.shape.length - 1] ?? 1;
    const X = x.storage;
    const out = alloc(x.dtype, X.length);
    const rows = C === 0 ? 0 : X.length / C;
    for (let r = 0; r < rows; r++) {
      const base = r * C;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, X[base + c]!);
      let s = 0;
      if (log) {
        for (let c = 0; c < C; c++) s += Math.exp(X[base + c]! - m);
        const ls = Math.log(s) + m;
        for (let c = 0; c < C; c++) out[base + c] = X[base + c]! - ls;
      } else {
        // exp once into the output, then scale: half the transcendental work.
        for (let c = 0; c < C; c++) {
          const e = Math.exp(X[base + c]! - m);
          out[base + c] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let c = 0; c < C; c++) out[base + c] = out[base + c]! * inv;
      }
    }
    return out;
  }

  rmsNorm(x: Ref, w: Ref, eps: number): { y: TypedArray; r: TypedArray } {
    const D = x.shape[x.shape.length - 1] ?? 1;
    const X = x.storage;
    const W = w.storage;
    const y = alloc(x.dtype, X.length);
    const rows = D === 0 ? 0 : X.length / D;
    const r = alloc(x.dtype, rows);
    for (let i = 0; i < rows; i++) {
      const base = i * D;
      let s = 0; // float64 accumulation
      for (let c = 0; c < D; c++) s += X[base + c]! * X[base + c]!;
      const ri = 1 / Math.sqrt(s / D + eps);
      r[i] = ri;
      for (let c = 0; c < D; c++) y[base + c] = W[c]! * (X[base + c]! * ri);
    }
    return { y, r };
  }

  rmsNormGrad(x: Ref, w: Ref, r: Ref, g: Ref, needW: boolean): { dx: TypedArray; dw: TypedArray | null } {
    const D = x.shape[x.shape.length - 1] ?? 1;
    const X = x.storage;
    const W = w.storage;
    const R = r.storage;
    const G = g.storage;
    const dx = alloc(x.dtype, X.length);
    const rows = D === 0 ? 0 : X.length / D;
    const acc = needW ? new Float64Array(D) : null;
    for (let i = 0; i < rows; i++) {
      const base = i * D;
      const ri = R[i]!;
      let s = 0;
      for (let c = 0; c < D; c++) s += W[c]! * G[base + c]! * X[base + c]!;
      const k = (ri * ri * ri * s) / D;
      for (let c = 0; c < D; c++) dx[base + c] = ri * (W[c]! * G[base + c]!) - X[base + c]! * k;
      if (acc) for (let c = 0; c < D; c++) acc[c] += G[base + c]! * X[base + c]! * ri;
    }
    let dw: TypedArray | null = null;
    if (acc) {
      dw = alloc(w.dtype, D);
      dw.set(acc);
    }
    return { dx, dw };
  }

  crossEntropy(logits: Ref, targets: Ref, ignoreIndex: number): TypedArray {
    const C = logits.shape[1]!;
    const N = logits.shape[0]!;
    const X = logits.storage;
    const T = targets.storage;
    const out = alloc(logits.dtype, N);
    for (let r = 0; r < N; r++) {
      const t = T[r]!;
      if (t === ignoreIndex) continue;
      if (t < 0 || t >= C) throw new TensorError('ARGUMENT', `target ${t} is out of range for ${C} classes`);
      const base = r * C;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, X[base + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(X[base + c]! - m);
      out[r] = Math.log(s) + m - X[base + t]!;
    }
    return out;
  }

  crossEntropyGrad(logits: Ref, targets: Ref, ignoreIndex: number): TypedArray {
    const C = logits.shape[1]!;
    const N = logits.shape[0]!;
    const X = logits.storage;
    const T = targets.storage;
    const out = alloc(logits.dtype, N * C);
    for (let r = 0; r < N; r++) {
      const t = T[r]!;
      if (t === ignoreIndex) continue;
      const base = r * C;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, X[base + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(X[base + c]! - m);
      for (let c = 0; c < C; c++) out[base + c] = Math.exp(X[base + c]! - m) / s - (c === t ? 1 : 0);
    }
    return out;
  }

  random(kind: 'uniform' | 'normal', size: number, dtype: DType, stream: RandomStream): TypedArray {
    const out = alloc(dtype, size) as Float32Array | Float64Array;
    if (kind === 'uniform') fillUniform(out, stream);
    else fillNormal(out, stream);
    return out;
  }

  adamw(p: Ref, g: Ref, m: Ref, v: Ref, h: AdamWHyper): void {
    const P = p.storage;
    const G = g.storage;
    const Mm = m.storage;
    const V = v.storage;
    const bc1 = 1 - Math.pow(h.beta1, h.step);
    const bc2 = 1 - Math.pow(h.beta2, h.step);
    const stepSize = h.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const decay = 1 - h.lr * h.weightDecay;
    // Mirrors torch.optim.AdamW (single-tensor path): decay, moments, then the update, with
    // each intermediate rounded to the parameter dtype as PyTorch's in-place ops do.
    const round = P instanceof Float32Array ? Math.fround : (x: number) => x;
    for (let i = 0; i < P.length; i++) {
      const gi = G[i]!;
      const pi = round(P[i]! * decay);
      const mi = round(Mm[i]! + (gi - Mm[i]!) * (1 - h.beta1));
      const vi = round(round(V[i]! * h.beta2) + round(gi * gi) * (1 - h.beta2));
      const denom = round(round(Math.sqrt(vi) / bc2Sqrt) + h.eps);
      P[i] = pi - stepSize * round(mi / denom);
      Mm[i] = mi;
      V[i] = vi;
    }
  }

  async sync(): Promise<void> {}

  memory(): BackendMemory {
    return { pooledBytes: 0 };
  }
}
