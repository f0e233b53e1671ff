/**
 * `.tpv` files: one task prompt vector, exactly, in MessagePack.
 *
 * The reference has no vector file format (it rebuilds τ from prompt `.bin` files every time, spec §1);
 * a vector file lets the CLI pass vectors between steps without the origin. Layout (schema version 1),
 * a MessagePack map with exactly these keys:
 *
 * | key | type | meaning |
 * |---|---|---|
 * | `magic` | `"tpv"` | identifies the format |
 * | `schemaVersion` | `1` | bumped on any incompatible change |
 * | `modelId` | string | model the vector belongs to |
 * | `originId` | string or nil | origin id, when known |
 * | `tasks` | map name → non-zero integer | the signed task multiset |
 * | `shape` | array of 1–8 positive integers | table shape |
 * | `dtype` | `"float64x2"`, `"float64"` or `"float32"` | payload encoding |
 * | `provenance` | map | free-form JSON-like record |
 * | `data` | bin | little-endian payload |
 *
 * `float64x2` stores all high halves then all low halves (16 bytes per element), i.e. the exact
 * double-double pairs, so a round trip preserves every bit, signed zeros included, and the reloaded
 * vector still applies to its origin bit for bit. When every low half is +0 the writer uses `float64`
 * (8 bytes per element) and loses nothing. `float32` is accepted on read (low halves +0) for vectors
 * produced by other tools.
 *
 * Reading treats the file as hostile: the size is checked before reading, a structural pre-scan bounds
 * nesting and value counts before decoding ({@link scanMsgpack}), the decoder runs with length limits,
 * the declared shape is checked against the element limit before any payload is touched, and every field
 * is validated. Every failure is a {@link VectorFileError}.
 *
 * @module
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { VectorError, VectorFileError } from './errors.js';
import { scanMsgpack } from './msgpack-scan.js';
import { cloneProvenance } from './provenance.js';
import { isValidTaskName, tasksToRecord } from './task-set.js';
import { MAX_VECTOR_ELEMENTS, TaskPromptVector, vectorData } from './task-prompt-vector.js';

/** Value of the `magic` field. */
export const TPV_MAGIC = 'tpv';
/** The schema version this module writes and reads. */
export const TPV_SCHEMA_VERSION = 1;
/** Conventional file extension. */
export const TPV_EXTENSION = '.tpv';
/** Payload encodings. */
export type TpvDtype = 'float64x2' | 'float64' | 'float32';
const ITEM_BYTES: Readonly<Record<TpvDtype, number>> = { float64x2: 16, float64: 8, float32: 4 };
const KEYS = ['magic', 'schemaVersion', 'modelId', 'originId', 'tasks', 'shape', 'dtype', 'provenance', 'data'] as const;

/** Default element limit on read: 2^26 (873× the paper's 76,800-entry table, 1 GiB of pairs). */
export const DEFAULT_MAX_TPV_ELEMENTS = 2 ** 26;
/** Bytes allowed for everything but the payload (metadata, provenance). */
export const TPV_METADATA_BYTES = 16 * 2 ** 20;

/** Options of {@link loadTpv} and {@link decodeTpv}. */
export interface LoadTpvOptions {
  /** Refuse a vector of another model (unless `force`). */
  readonly expectModelId?: string;
  /** Refuse a vector of another shape (unless `force`). */
  readonly expectShape?: readonly number[];
  /** Accept model/shape mismatches against the expectations. */
  readonly force?: boolean;
  /** Largest element count accepted (default {@link DEFAULT_MAX_TPV_ELEMENTS}, at most 2^28). */
  readonly maxElements?: number;
}

/** A decoded file: the vector and how its payload was stored. */
export interface DecodedTpv {
  /** The vector. */
  readonly vector: TaskPromptVector;
  /** Payload encoding found in the file. */
  readonly dtype: TpvDtype;
  /** Size of the encoded record in bytes. */
  readonly byteLength: number;
}

function fileErr(code: ConstructorParameters<typeof VectorFileError>[0], message: string, path: string | undefined, field?: string, cause?: unknown): VectorFileError {
  return new VectorFileError(code, message, {
    ...(path !== undefined ? { path } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/**
 * Encodes a vector as `.tpv` bytes (see the module documentation for the layout).
 *
 * @param v - the vector.
 * @returns the MessagePack record.
 */
export function encodeTpv(v: TaskPromptVector): Uint8Array {
  const { hi, lo } = vectorData(v);
  const n = hi.length;
  // float64 suffices when no low half carries information (all +0); −0 carries a zero's sign.
  const exact = lo.some((x) => !Object.is(x, 0));
  const dtype: TpvDtype = exact ? 'float64x2' : 'float64';
  const data = new Uint8Array(n * ITEM_BYTES[dtype]);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) view.setFloat64(8 * i, hi[i]!, true);
  if (exact) for (let i = 0; i < n; i++) view.setFloat64(8 * (n + i), lo[i]!, true);
  const record = {
    magic: TPV_MAGIC,
    schemaVersion: TPV_SCHEMA_VERSION,
    modelId: v.modelId,
    originId: v.originId ?? null,
    tasks: { ...tasksToRecord(v.tasks) },
    shape: [...v.shape],
    dtype,
    provenance: v.provenance,
    data,
  };
  return encode(record);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Decodes and validates `.tpv` bytes.
 *
 * @param bytes - the file contents.
 * @param opts - expectations and limits; `path` is only used in error messages.
 * @throws {@link VectorFileError} for anything malformed, too large or unexpected.
 */
export function decodeTpvDetailed(bytes: Uint8Array, opts: LoadTpvOptions & { path?: string } = {}): DecodedTpv {
  const path = opts.path;
  try {
    return decodeUnchecked(bytes, opts, path);
  } catch (e) {
    if (e instanceof VectorFileError) throw e;
    // Every foreseeable failure is mapped above; anything else is a bug here, still reported typed.
    throw fileErr('INTERNAL', `unexpected failure while reading: ${e instanceof Error ? e.message : String(e)}`, path, undefined, e);
  }
}

/**
 * Decodes and validates `.tpv` bytes, see {@link decodeTpvDetailed}.
 *
 * @param bytes - the file contents.
 * @param opts - expectations and limits.
 */
export function decodeTpv(bytes: Uint8Array, opts: LoadTpvOptions & { path?: string } = {}): TaskPromptVector {
  return decodeTpvDetailed(bytes, opts).vector;
}

function maxElementsOf(opts: LoadTpvOptions, path: string | undefined): number {
  const m = opts.maxElements ?? DEFAULT_MAX_TPV_ELEMENTS;
  if (!Number.isSafeInteger(m) || m < 1 || m > MAX_VECTOR_ELEMENTS) {
    throw fileErr('BAD_FIELD', `maxElements must be an integer in [1, ${MAX_VECTOR_ELEMENTS}], got ${String(m)}`, path);
  }
  return m;
}

function decodeUnchecked(bytes: Uint8Array, opts: LoadTpvOptions, path: string | undefined): DecodedTpv {
  if (!(bytes instanceof Uint8Array)) throw fileErr('DECODE', 'expected bytes (Uint8Array)', path);
  const maxElements = maxElementsOf(opts, path);
  const maxBytes = maxElements * 16 + TPV_METADATA_BYTES;
  if (bytes.length > maxBytes) throw fileErr('TOO_LARGE', `${bytes.length} bytes exceed the limit of ${maxBytes}`, path);
  if (bytes.length === 0) throw fileErr('DECODE', 'the file is empty', path);

  const problem = scanMsgpack(bytes, { maxDepth: 24, maxNodes: 200_000, allowExt: false });
  if (problem !== undefined) throw fileErr('DECODE', `not a valid MessagePack record: ${problem.message} (byte ${problem.offset})`, path);
  let value: unknown;
  try {
    value = decode(bytes, {
      maxStrLength: 1 << 20,
      maxBinLength: maxElements * 16,
      maxArrayLength: 200_000,
      maxMapLength: 200_000,
      maxExtLength: 0,
    });
  } catch (e) {
    throw fileErr('DECODE', `not a valid MessagePack record: ${e instanceof Error ? e.message : String(e)}`, path, undefined, e);
  }

  if (!isPlainObject(value) || value.magic !== TPV_MAGIC) {
    throw fileErr('BAD_MAGIC', 'not a .tpv file (no magic "tpv" field)', path);
  }
  const rec = value;
  if (rec.schemaVersion !== TPV_SCHEMA_VERSION) {
    if (typeof rec.schemaVersion === 'number') {
      throw fileErr('UNSUPPORTED_VERSION', `schema version ${rec.schemaVersion} is not supported (this reader knows ${TPV_SCHEMA_VERSION})`, path, 'schemaVersion');
    }
    throw fileErr('BAD_FIELD', 'schemaVersion must be an integer', path, 'schemaVersion');
  }
  for (const k of Object.keys(rec)) {
    if (!(KEYS as readonly string[]).includes(k)) throw fileErr('BAD_FIELD', `unknown field ${JSON.stringify(k)}`, path, k);
  }
  for (const k of KEYS) {
    if (!Object.hasOwn(rec, k)) throw fileErr('BAD_FIELD', 'missing', path, k);
  }

  // Shape first, and the element limit before touching the payload.
  const shape = rec.shape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 8) throw fileErr('BAD_FIELD', 'must be an array of 1 to 8 dimensions', path, 'shape');
  let n = 1;
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) throw fileErr('BAD_FIELD', `dimensions must be positive integers, got ${JSON.stringify(shape)}`, path, 'shape');
    n *= d;
    if (n > maxElements) throw fileErr('TOO_LARGE', `shape ${JSON.stringify(shape)} has more than ${maxElements} elements`, path, 'shape');
  }
  const dims = shape as number[];

  const dtype = rec.dtype;
  if (dtype !== 'float64x2' && dtype !== 'float64' && dtype !== 'float32') {
    throw fileErr('BAD_FIELD', `unknown dtype ${JSON.stringify(dtype)} (expected float64x2, float64 or float32)`, path, 'dtype');
  }
  const data = rec.data;
  if (!(data instanceof Uint8Array)) throw fileErr('BAD_FIELD', 'must be binary', path, 'data');
  const expected = n * ITEM_BYTES[dtype];
  if (data.length !== expected) {
    throw fileErr('BAD_DATA', `${data.length} bytes, but shape ${JSON.stringify(dims)} with dtype ${dtype} needs ${expected}`, path, 'data');
  }

  const modelId = rec.modelId;
  if (typeof modelId !== 'string' || modelId.length === 0 || modelId.length > 1024) throw fileErr('BAD_FIELD', 'must be a non-empty string of at most 1024 characters', path, 'modelId');
  const originId = rec.originId;
  if (originId !== null && (typeof originId !== 'string' || originId.length === 0 || originId.length > 1024)) {
    throw fileErr('BAD_FIELD', 'must be nil or a non-empty string of at most 1024 characters', path, 'originId');
  }
  const tasks = rec.tasks;
  if (!isPlainObject(tasks)) throw fileErr('BAD_FIELD', 'must be a map of task name to count', path, 'tasks');
  const taskMap = new Map<string, number>();
  for (const [name, count] of Object.entries(tasks)) {
    if (!isValidTaskName(name)) throw fileErr('BAD_FIELD', `invalid task name ${JSON.stringify(name)}`, path, 'tasks');
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count === 0) {
      throw fileErr('BAD_FIELD', `count of ${name} must be a non-zero integer`, path, `tasks.${name}`);
    }
    taskMap.set(name, count);
  }
  if (!isPlainObject(rec.provenance)) throw fileErr('BAD_FIELD', 'must be a map', path, 'provenance');
  let provenance;
  try {
    provenance = cloneProvenance(rec.provenance);
  } catch (e) {
    throw fileErr('BAD_FIELD', e instanceof Error ? e.message : String(e), path, 'provenance', e);
  }

  // Expectations (before decoding the payload: a refused file costs nothing more).
  if (opts.force !== true) {
    if (opts.expectModelId !== undefined && modelId !== opts.expectModelId) {
      throw fileErr('MODEL_MISMATCH', `vector is for model ${modelId}, expected ${opts.expectModelId} (use force to load it anyway)`, path, 'modelId');
    }
    if (opts.expectShape !== undefined && (opts.expectShape.length !== dims.length || opts.expectShape.some((d, i) => d !== dims[i]))) {
      throw fileErr('SHAPE_MISMATCH', `vector has shape [${dims.join(', ')}], expected [${opts.expectShape.join(', ')}] (use force to load it anyway)`, path, 'shape');
    }
  }

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = dtype === 'float32' ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
    const l = dtype === 'float64x2' ? view.getFloat64(8 * (n + i), true) : 0;
    if (!Number.isFinite(h) || !Number.isFinite(l)) throw fileErr('NON_FINITE', `element ${i} is not finite`, path, 'data');
    if (h + l !== h) throw fileErr('BAD_DATA', `element ${i} is not a normalised pair (|lo| exceeds half an ulp of hi)`, path, 'data');
    hi[i] = h;
    lo[i] = l;
  }
  let vector: TaskPromptVector;
  try {
    vector = TaskPromptVector.fromParts({ hi, lo, shape: dims, tasks: taskMap, modelId, originId: originId ?? undefined, provenance });
  } catch (e) {
    if (e instanceof VectorError) throw fileErr('BAD_FIELD', e.message, path, undefined, e);
    throw e;
  }
  return { vector, dtype, byteLength: bytes.length };
}

function ioError(e: unknown, path: string, what: string): VectorFileError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return fileErr('NOT_FOUND', `${what}: no such file`, path, undefined, e);
  return fileErr('IO', `${what}: ${e instanceof Error ? e.message : String(e)}`, path, undefined, e);
}

/**
 * Reads a whole file whose size is checked before anything is allocated.
 *
 * @param path - the file.
 * @param maxBytes - the largest size accepted.
 * @throws {@link VectorFileError} `NOT_FOUND`, `IO`, `TOO_LARGE`.
 */
export function readFileLimited(path: string, maxBytes: number): Uint8Array {
  let fd: number | undefined;
  try {
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw ioError(e, path, 'cannot open');
    }
    let size: number;
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw fileErr('IO', 'not a regular file', path);
      size = st.size;
    } catch (e) {
      if (e instanceof VectorFileError) throw e;
      throw ioError(e, path, 'cannot stat');
    }
    if (size > maxBytes) throw fileErr('TOO_LARGE', `${size} bytes exceed the limit of ${maxBytes}`, path);
    const out = new Uint8Array(size);
    let done = 0;
    try {
      while (done < size) {
        const got = fs.readSync(fd, out, done, size - done, done);
        if (got === 0) break;
        done += got;
      }
    } catch (e) {
      throw ioError(e, path, 'read failed');
    }
    // A file that shrank while we read is truncated; the decoder reports it as such.
    return done === size ? out : out.subarray(0, done);
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Closing a read-only descriptor cannot lose data; the read result stands.
      }
    }
  }
}

/**
 * Loads a `.tpv` file (see {@link decodeTpv} for the validation).
 *
 * @param path - the file.
 * @param opts - expected model id and shape (refused unless `force`), element limit.
 * @throws {@link VectorFileError} only.
 */
export function loadTpv(path: string, opts: LoadTpvOptions = {}): TaskPromptVector {
  return loadTpvDetailed(path, opts).vector;
}

/**
 * Like {@link loadTpv}, also returning the payload encoding and size (for `tpv vector inspect`).
 *
 * @param path - the file.
 * @param opts - expectations and limits.
 */
export function loadTpvDetailed(path: string, opts: LoadTpvOptions = {}): DecodedTpv {
  const maxElements = maxElementsOf(opts, path);
  const bytes = readFileLimited(path, maxElements * 16 + TPV_METADATA_BYTES);
  return decodeTpvDetailed(bytes, { ...opts, path });
}

/**
 * Writes bytes atomically: to a temporary file in the same folder, fsynced, then renamed over `path`,
 * so a reader (or a crash) sees the old file or the complete new one, never a partial one.
 *
 * @param path - destination.
 * @param bytes - contents.
 * @throws {@link VectorFileError} `IO` (the temporary file is removed).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    for (let done = 0; done < buf.length; ) done += fs.writeSync(fd, buf, done, buf.length - done);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      // The original failure is the one worth reporting.
    }
    throw ioError(e, path, 'write failed');
  }
  syncDirectory(nodePath.dirname(path));
}

/** Makes a rename durable; best effort (some platforms cannot fsync a directory). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not fatal: the contents are durable and the rename is atomic.
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Nothing useful to do.
      }
    }
  }
}

/**
 * Saves a vector as a `.tpv` file, atomically (temporary file + rename).
 *
 * @param path - destination (conventionally ending in `.tpv`).
 * @param v - the vector.
 * @throws {@link VectorFileError} `IO`.
 */
export function saveTpv(path: string, v: TaskPromptVector): void {
  writeFileAtomic(path, encodeTpv(v));
}
