/**
 * Element types a tensor can hold.
 *
 * `float64` exists for tight gradient checks on the CPU backend; `bool` holds comparison
 * results (stored as one byte per element on CPU, one u32 on WebGPU).
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Typed array backing a tensor of a given dtype on the CPU. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Maps a dtype to its CPU typed array type. */
export type ArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

/** Bytes per element as stored on the CPU backend. */
export function itemSize(dtype: DType): number {
  switch (dtype) {
    case 'float64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'bool':
      return 1;
  }
}

/** Allocates a zero-filled typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

/** Whether `dtype` is a floating point type (the only ones that can carry gradients). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch-like type promotion for binary ops: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Infers the dtype a typed array implies when none is given. */
export function dtypeOfArray(a: ArrayLike<number>): DType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return 'float32';
}
