/**
 * Serialisation to safetensors. The layout reproduces the Rust crate (and so Python's `save_file`):
 * tensors sorted by descending dtype alignment then by name, header padded with spaces to a multiple
 * of 8. Every tensor therefore starts aligned to its element size, and identical input always gives
 * identical bytes.
 */
import { node } from './node-builtins.js';
import {
  DTYPES,
  isSafetensorsDtype,
  SAFETENSORS_DTYPES,
  type RawTensor,
  type RawTensorData,
  type SafetensorsDtype,
} from './dtype.js';
import { HOST_IS_LITTLE_ENDIAN, swapBytesInPlace } from './endian.js';
import { encodeBfloat16Array, encodeFloat16Array } from './half.js';
import { PREFIX_BYTES } from './header.js';
import { SafetensorsError } from './safetensors-error.js';

/**
 * Element data accepted when writing. A typed array of the dtype's storage type is written as is
 * (for F16/BF16 that is a `Uint16Array` of bit patterns); anything else is converted: float arrays are
 * rounded to F16/BF16/F32, integers are range-checked rather than silently wrapped, BOOL maps non-zero
 * to 1, and I64 takes bigints or safe-integer numbers.
 */
export type TensorInputData = RawTensorData | ArrayLike<number | bigint | boolean>;

/** A tensor to write; `RawTensor` (as returned by the reader) is one of these. */
export interface TensorInput {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: TensorInputData;
}

interface Prepared {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  bytes: Uint8Array;
}

const INT_RANGE: Partial<Record<SafetensorsDtype, readonly [number, number]>> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I8: [-128, 127],
  U8: [0, 255],
};

function fail(name: string, detail: string, code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH' = 'INVALID_ARGUMENT'): never {
  throw new SafetensorsError(code, detail, { tensor: name });
}

function asNumber(v: unknown, name: string, i: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail(name, `element ${i} is ${typeof v}, not a number`);
}

/** Converts non-native data to the dtype's storage array, validating what a cast would hide. */
function convert(dtype: SafetensorsDtype, data: ArrayLike<unknown>, name: string): RawTensorData {
  const n = data.length;
  switch (dtype) {
    case 'F64':
      return Float64Array.from({ length: n }, (_, i) => asNumber(data[i], name, i));
    case 'F32':
      return Float32Array.from({ length: n }, (_, i) => asNumber(data[i], name, i));
    case 'F16':
    case 'BF16': {
      const nums =
        data instanceof Float32Array || data instanceof Float64Array
          ? data
          : Float64Array.from({ length: n }, (_, i) => asNumber(data[i], name, i));
      return dtype === 'F16' ? encodeFloat16Array(nums) : encodeBfloat16Array(nums);
    }
    case 'BOOL':
      return Uint8Array.from({ length: n }, (_, i) => (asNumber(data[i], name, i) !== 0 ? 1 : 0));
    case 'I64':
      return BigInt64Array.from({ length: n }, (_, i) => {
        const v = data[i];
        if (typeof v === 'bigint') {
          if (v < -(2n ** 63n) || v >= 2n ** 63n) fail(name, `element ${i} (${v}) is outside the I64 range`);
          return v;
        }
        const x = asNumber(v, name, i);
        if (!Number.isSafeInteger(x)) fail(name, `element ${i} (${x}) is not a safe integer; pass a bigint for I64`);
        return BigInt(x);
      });
    default: {
      const [lo, hi] = INT_RANGE[dtype]!;
      const out = dtype === 'I32' ? new Int32Array(n) : dtype === 'I8' ? new Int8Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x = asNumber(data[i], name, i);
        if (!Number.isInteger(x) || x < lo || x > hi)
          fail(name, `element ${i} (${x}) is not an integer in the ${dtype} range [${lo}, ${hi}]`);
        out[i] = x;
      }
      return out;
    }
  }
}

function isNative(dtype: SafetensorsDtype, data: TensorInputData): data is RawTensorData {
  switch (dtype) {
    case 'F64':
      return data instanceof Float64Array;
    case 'F32':
      return data instanceof Float32Array;
    case 'F16':
    case 'BF16':
      return data instanceof Uint16Array;
    case 'I64':
      return data instanceof BigInt64Array;
    case 'I32':
      return data instanceof Int32Array;
    case 'I8':
      return data instanceof Int8Array;
    case 'U8':
      return data instanceof Uint8Array && !(data instanceof Uint8ClampedArray);
    case 'BOOL':
      // Only 0/1 bytes are valid booleans; anything else goes through normalisation.
      return data instanceof Uint8Array && data.every((b) => b <= 1);
  }
}

/** Lone surrogates would become escapes that strict JSON readers (serde_json) reject. */
function checkText(text: string, what: string, name?: string): void {
  if (/\p{Surrogate}/u.test(text)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(text)} contains a lone UTF-16 surrogate`,
      name !== undefined ? { tensor: name } : {}
    );
  }
}

function prepareTensor(name: string, t: TensorInput): Prepared {
  checkText(name, 'tensor name', name);
  if (name === '__metadata__') fail(name, 'the name __metadata__ is reserved for the metadata map');
  if (t === null || typeof t !== 'object') fail(name, 'tensor must be an object { dtype, shape, data }');
  if (!isSafetensorsDtype(t.dtype)) {
    throw new SafetensorsError(
      'UNKNOWN_DTYPE',
      `dtype ${JSON.stringify(t.dtype)} is not supported (supported: ${SAFETENSORS_DTYPES.join(', ')})`,
      { tensor: name }
    );
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(name, `shape ${JSON.stringify(t.shape)} must be an array of non-negative integers`);
  }
  const count = t.shape.reduce((a, d) => a * d, 1);
  if (t.data === null || typeof t.data !== 'object' || typeof t.data.length !== 'number')
    fail(name, 'data must be an array or typed array');
  if (t.data.length !== count) {
    fail(name, `shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`, 'SHAPE_MISMATCH');
  }
  const raw = isNative(t.dtype, t.data) ? t.data : convert(t.dtype, t.data as ArrayLike<unknown>, name);
  let bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!HOST_IS_LITTLE_ENDIAN) {
    bytes = bytes.slice();
    swapBytesInPlace(bytes, DTYPES[t.dtype].itemSize);
  }
  return { name, dtype: t.dtype, shape: [...t.shape], bytes };
}

/** Bytewise UTF-8 order, as Rust's `String` ordering uses; differs from UTF-16 order above U+FFFF. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function prepare(
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> | undefined
): { head: Uint8Array; parts: Prepared[] } {
  const parts = Object.entries(tensors).map(([name, t]) => prepareTensor(name, t));
  parts.sort((a, b) => DTYPES[b.dtype].rank - DTYPES[a.dtype].rank || compareUtf8(a.name, b.name));
  // Built by hand rather than JSON.stringify(object): JS objects reorder integer-like keys ("0", "1"),
  // which would break the promise that header order equals data order.
  const fields: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') {
      throw new SafetensorsError('BAD_METADATA', 'metadata must be an object of strings');
    }
    const keys = Object.keys(metadata).sort(compareUtf8);
    const items = keys.map((k) => {
      const v: unknown = metadata[k];
      if (typeof v !== 'string') {
        throw new SafetensorsError(
          'BAD_METADATA',
          `metadata value for key ${JSON.stringify(k)} must be a string, got ${typeof v}`
        );
      }
      checkText(k, 'metadata key');
      checkText(v, 'metadata value');
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    fields.push(`"__metadata__":{${items.join(',')}}`);
  }
  let offset = 0;
  for (const p of parts) {
    const end = offset + p.bytes.length;
    fields.push(
      `${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.shape.join(
        ','
      )}],"data_offsets":[${offset},${end}]}`
    );
    offset = end;
  }
  const json = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(PREFIX_BYTES + padded).fill(0x20, PREFIX_BYTES);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, PREFIX_BYTES);
  return { head, parts };
}

/**
 * Serialises tensors (and optional string metadata) to the bytes of a safetensors file.
 *
 * @param tensors - name → tensor; key order does not matter, the output is canonical
 * @param metadata - written as `__metadata__` (PEFT and transformers write `{ format: 'pt' }`)
 * @throws {@link SafetensorsError} for unsupported dtypes, bad shapes, length mismatches, bad values
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor | TensorInput>,
  metadata?: Record<string, string>
): Uint8Array {
  const { head, parts } = prepare(tensors, metadata);
  const out = new Uint8Array(head.length + parts.reduce((a, p) => a + p.bytes.length, 0));
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: data goes to a temporary file next to `path`, is fsynced, then
 * renamed over `path`, so readers (and a crash) see either the old file or the complete new one.
 * Tensors are streamed from their arrays, so memory use does not double for large checkpoints.
 *
 * @throws {@link SafetensorsError} `IO` if the file system refuses; the temporary file is removed
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, RawTensor | TensorInput>,
  metadata?: Record<string, string>
): void {
  const { head, parts } = prepare(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}-${node.crypto.randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = node.fs.openSync(tmp, 'wx');
    writeAll(fd, head);
    for (const p of parts) writeAll(fd, p.bytes);
    node.fs.fsyncSync(fd);
    node.fs.closeSync(fd);
    fd = undefined;
    node.fs.renameSync(tmp, path);
  } catch (cause) {
    try {
      if (fd !== undefined) node.fs.closeSync(fd);
      node.fs.rmSync(tmp, { force: true });
    } catch {
      // The original error is the one worth reporting.
    }
    throw new SafetensorsError('IO', `write failed: ${(cause as Error).message}`, { path, cause });
  }
  syncDirectory(node.path.dirname(path));
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += node.fs.writeSync(fd, bytes, done, bytes.length - done);
}

/** Makes the rename itself durable; best effort, since some platforms cannot fsync a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = node.fs.openSync(dir, 'r');
    node.fs.fsyncSync(fd);
  } catch {
    // Not fatal: the file contents are already durable and the rename is atomic.
  } finally {
    if (fd !== undefined) node.fs.closeSync(fd);
  }
}
