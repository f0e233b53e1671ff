/**
 * Element types this package reads and writes, spelled as in the safetensors header.
 *
 * Deliberately a subset of what the format allows (no U16/U32/U64/I16/F8): these are the types that
 * Hugging Face T5 checkpoints and PEFT adapters actually use, and each has an exact JS representation.
 */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';

/**
 * Typed array holding a tensor's elements exactly as stored: F16 and BF16 keep their raw bit patterns
 * in a `Uint16Array` so that reading and re-writing a file is lossless.
 */
export type RawTensorData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array;

/** A tensor exactly as stored: the dtype from the header and elements in their storage type. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: RawTensorData;
}

interface DtypeInfo {
  readonly itemSize: number;
  /** Position in the Rust crate's `Dtype` enum; the writer sorts by it to reproduce that layout. */
  readonly rank: number;
  /** Builds the raw view over an aligned, little-endian buffer. */
  readonly view: (buffer: ArrayBuffer, length: number) => RawTensorData;
}

/** Per-dtype facts the reader and writer share; internal to the io folder. */
export const DTYPES: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  BOOL: { itemSize: 1, rank: 0, view: (b, n) => new Uint8Array(b, 0, n) },
  U8: { itemSize: 1, rank: 1, view: (b, n) => new Uint8Array(b, 0, n) },
  I8: { itemSize: 1, rank: 2, view: (b, n) => new Int8Array(b, 0, n) },
  F16: { itemSize: 2, rank: 7, view: (b, n) => new Uint16Array(b, 0, n) },
  BF16: { itemSize: 2, rank: 8, view: (b, n) => new Uint16Array(b, 0, n) },
  I32: { itemSize: 4, rank: 9, view: (b, n) => new Int32Array(b, 0, n) },
  F32: { itemSize: 4, rank: 11, view: (b, n) => new Float32Array(b, 0, n) },
  F64: { itemSize: 8, rank: 12, view: (b, n) => new Float64Array(b, 0, n) },
  I64: { itemSize: 8, rank: 13, view: (b, n) => new BigInt64Array(b, 0, n) },
};

/** All supported dtype names, for error messages and tests. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = Object.freeze(Object.keys(DTYPES) as SafetensorsDtype[]);

/**
 * Narrows an untrusted string (from a header or a caller) to a supported dtype.
 * `Object.hasOwn` rather than `in` so that names like `toString` are not mistaken for dtypes.
 */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

/** Byte size of one element of `dtype`. */
export function dtypeItemSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].itemSize;
}
