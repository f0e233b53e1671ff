/**
 * Lazy, random-access reading of safetensors files: only the header is read up front, and each tensor
 * is read on demand, so a loader can pick the tensors it needs from a large checkpoint.
 */
import { node } from './node-builtins.js';
import { DTYPES, type RawTensor } from './dtype.js';
import { HOST_IS_LITTLE_ENDIAN, swapBytesInPlace } from './endian.js';
import { decodeBfloat16Array, decodeFloat16Array } from './half.js';
import {
  PREFIX_BYTES,
  parseSafetensorsHeader,
  readHeaderLength,
  type ParseHeaderOptions,
  type SafetensorsHeader,
  type TensorEntry,
} from './header.js';
import { SafetensorsError } from './safetensors-error.js';

/**
 * A tensor in a type arithmetic can use directly: F16 and BF16 are widened to float32 (exactly),
 * everything else keeps its natural typed array. A discriminated union so `data` narrows on `dtype`.
 */
export type DecodedTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

/** Options for opening a file or buffer. */
export type SafetensorsReadOptions = Omit<ParseHeaderOptions, 'path'>;

/** Where tensor bytes come from; each read returns a fresh buffer starting at offset 0 (aligned). */
interface ByteSource {
  read(offset: number, length: number, tensor: string): Uint8Array;
  close(): void;
}

function fileSource(fd: number, path: string): ByteSource {
  let open = true;
  return {
    read(offset, length, tensor) {
      if (!open) throw new SafetensorsError('CLOSED', 'file has been closed', { path, tensor });
      return readExactly(fd, offset, length, path, tensor);
    },
    close() {
      if (open) {
        open = false;
        node.fs.closeSync(fd);
      }
    },
  };
}

function bytesSource(bytes: Uint8Array): ByteSource {
  let src: Uint8Array | undefined = bytes;
  return {
    read(offset, length, tensor) {
      if (!src) throw new SafetensorsError('CLOSED', 'buffer has been closed', { tensor });
      // Copy (never a view) so the result is aligned and independent of the caller's buffer.
      const out = new Uint8Array(length);
      out.set(src.subarray(offset, offset + length));
      return out;
    },
    close() {
      src = undefined;
    },
  };
}

/** `readSync` may return short counts; loop, and call a premature EOF truncation (file shrank). */
function readExactly(fd: number, position: number, length: number, path: string, tensor?: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = node.fs.readSync(fd, out, done, length - done, position + done);
    } catch (cause) {
      throw new SafetensorsError('IO', `read of ${length} bytes at ${position} failed: ${(cause as Error).message}`, {
        path,
        ...(tensor !== undefined ? { tensor } : {}),
        cause,
      });
    }
    if (n === 0) {
      throw new SafetensorsError(
        'TRUNCATED',
        `file ended after ${position + done} bytes while reading ${length} bytes at ${position}`,
        {
          path,
          ...(tensor !== undefined ? { tensor } : {}),
        }
      );
    }
    done += n;
  }
  return out;
}

/** Exact int64 → float32 with a single rounding (Number() first would round twice above 2^53). */
function bigintToFloat32(v: bigint): number {
  const n = Number(v);
  if (Number.isSafeInteger(n)) return Math.fround(n);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const shift = BigInt(a.toString(2).length - 24);
  let m = a >> shift;
  const rem = a - (m << shift);
  const half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  const r = Number(m) * 2 ** Number(shift);
  return Math.fround(neg ? -r : r);
}

/**
 * An open safetensors file (or in-memory buffer) with a validated header. Construct with
 * {@link SafetensorsFile.open} or {@link SafetensorsFile.fromBytes}; call {@link SafetensorsFile.close}
 * to release the file descriptor.
 */
export class SafetensorsFile {
  /** `__metadata__` of the file (empty object when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** File name for messages; undefined for buffers. */
  readonly path: string | undefined;
  /** Absolute offset where the data region begins. */
  readonly dataOffset: number;
  readonly #entries: Map<string, TensorEntry>;
  readonly #source: ByteSource;

  private constructor(header: SafetensorsHeader, source: ByteSource, path: string | undefined) {
    this.metadata = Object.freeze({ ...header.metadata });
    this.path = path;
    this.dataOffset = header.dataOffset;
    this.#entries = new Map(header.entries.map((e) => [e.name, e]));
    this.#source = source;
  }

  /**
   * Opens a file and validates its header, reading only the 8-byte prefix and the header itself.
   * The descriptor stays open for later {@link SafetensorsFile.readRaw} calls until `close()`.
   */
  static open(path: string, opts: SafetensorsReadOptions = {}): SafetensorsFile {
    let fd: number;
    try {
      fd = node.fs.openSync(path, 'r');
    } catch (cause) {
      throw new SafetensorsError('IO', `cannot open: ${(cause as Error).message}`, { path, cause });
    }
    try {
      let size: number;
      try {
        size = node.fs.fstatSync(fd).size;
      } catch (cause) {
        throw new SafetensorsError('IO', `cannot stat: ${(cause as Error).message}`, { path, cause });
      }
      const popts = { ...opts, path };
      const prefix = readExactly(fd, 0, Math.min(PREFIX_BYTES, size), path);
      // Validate the length before allocating for it: a corrupt prefix may claim terabytes.
      const headerLength = readHeaderLength(prefix, size, popts);
      const head = new Uint8Array(PREFIX_BYTES + headerLength);
      head.set(prefix);
      head.set(readExactly(fd, PREFIX_BYTES, headerLength, path), PREFIX_BYTES);
      const header = parseSafetensorsHeader(head, size, popts);
      return new SafetensorsFile(header, fileSource(fd, path), path);
    } catch (err) {
      node.fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * Parses a complete file held in memory. The buffer is referenced, not copied; reads copy out of it,
   * so returned tensors never alias it and are aligned whatever the buffer's byte offset.
   */
  static fromBytes(bytes: Uint8Array, opts: SafetensorsReadOptions = {}): SafetensorsFile {
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = parseSafetensorsHeader(plain, plain.length, opts);
    return new SafetensorsFile(header, bytesSource(plain), undefined);
  }

  /** Tensor names in storage order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether the file holds a tensor called `name`. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /**
   * Header information for `name` (a copy; mutating it does not affect the file).
   * @throws {@link SafetensorsError} `MISSING_TENSOR` if absent
   */
  entry(name: string): TensorEntry {
    const e = this.#entries.get(name);
    if (!e) {
      throw new SafetensorsError('MISSING_TENSOR', `no tensor with this name (the file has ${this.#entries.size})`, {
        ...(this.path !== undefined ? { path: this.path } : {}),
        tensor: name,
      });
    }
    return { ...e, shape: [...e.shape] };
  }

  /** Header information for all tensors, in storage order. */
  entries(): TensorEntry[] {
    return [...this.#entries.keys()].map((n) => this.entry(n));
  }

  /** Reads one tensor's bytes (and only those) and returns them in their storage type. */
  readRaw(name: string): RawTensor {
    const e = this.entry(name);
    const info = DTYPES[e.dtype];
    const bytes = this.#source.read(e.byteOffset, e.byteLength, name);
    if (!HOST_IS_LITTLE_ENDIAN) swapBytesInPlace(bytes, info.itemSize);
    return {
      dtype: e.dtype,
      shape: e.shape,
      data: info.view(bytes.buffer as ArrayBuffer, e.byteLength / info.itemSize),
    };
  }

  /**
   * Reads one tensor as float32, the compute type of the CPU backend. F16 and BF16 widen exactly;
   * F64 and integers round to nearest float32 (ties to even), as `torch.Tensor.float()` does.
   */
  readFloat32(name: string): { shape: number[]; data: Float32Array } {
    const raw = this.readRaw(name);
    return { shape: raw.shape, data: toFloat32(raw) };
  }

  /** Reads one tensor in its natural JS type; see {@link DecodedTensor}. */
  read(name: string): DecodedTensor {
    const { dtype, shape, data } = this.readRaw(name);
    switch (dtype) {
      case 'F16':
      case 'BF16':
        return { dtype: 'float32', shape, data: toFloat32({ dtype, shape, data }) };
      case 'F32':
        return { dtype: 'float32', shape, data: data as Float32Array };
      case 'F64':
        return { dtype: 'float64', shape, data: data as Float64Array };
      case 'I64':
        return { dtype: 'int64', shape, data: data as BigInt64Array };
      case 'I32':
        return { dtype: 'int32', shape, data: data as Int32Array };
      case 'I8':
        return { dtype: 'int8', shape, data: data as Int8Array };
      case 'U8':
        return { dtype: 'uint8', shape, data: data as Uint8Array };
      case 'BOOL':
        return { dtype: 'bool', shape, data: data as Uint8Array };
    }
  }

  /** Releases the file descriptor; later reads throw `CLOSED`. Safe to call more than once. */
  close(): void {
    this.#source.close();
  }
}

function toFloat32(raw: RawTensor): Float32Array {
  switch (raw.dtype) {
    case 'F32':
      return raw.data as Float32Array;
    case 'F16':
      return decodeFloat16Array(raw.data as Uint16Array);
    case 'BF16':
      return decodeBfloat16Array(raw.data as Uint16Array);
    case 'I64': {
      const src = raw.data as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = bigintToFloat32(src[i]!);
      return out;
    }
    default:
      // Float32Array's constructor applies IEEE round-to-nearest-even, i.e. Math.fround, per element.
      return new Float32Array(raw.data as Float64Array | Int32Array | Int8Array | Uint8Array);
  }
}
