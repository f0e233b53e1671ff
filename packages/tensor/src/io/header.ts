/**
 * Parsing and validation of the safetensors header. Everything a reader later trusts (offsets, sizes,
 * dtypes) is checked here once, so the read paths can index the data region without further checks.
 */
import { DTYPES, SAFETENSORS_DTYPES, isSafetensorsDtype, type SafetensorsDtype } from './dtype.js';
import { SafetensorsError } from './safetensors-error.js';

/**
 * Default cap on the header length: 100 MiB, in line with the Rust crate's 100 MB. Real headers are
 * kilobytes to a few megabytes; the cap exists so a corrupt length cannot trigger a huge allocation.
 */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Length of the little-endian u64 that precedes the JSON header. */
export const PREFIX_BYTES = 8;

/** Options for header parsing. */
export interface ParseHeaderOptions {
  /** Largest header length accepted, in bytes (default {@link DEFAULT_MAX_HEADER_BYTES}). */
  maxHeaderBytes?: number;
  /** File name to quote in error messages. */
  path?: string;
}

/** Location and type of one tensor, as validated from the header. */
export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  /** Row-major dimensions; `[]` is a scalar. */
  shape: number[];
  /** Absolute position of the first byte in the file (prefix + header + relative offset). */
  byteOffset: number;
  byteLength: number;
}

/** The validated header of a safetensors file. */
export interface SafetensorsHeader {
  /** Length of the JSON header in bytes (padding included). */
  headerLength: number;
  /** Absolute file position where the data region starts; may be unaligned in foreign files. */
  dataOffset: number;
  /** `__metadata__` map; empty when the file has none. */
  metadata: Record<string, string>;
  /** Tensors in data order (by offset), which is also the order in which they are best read. */
  entries: TensorEntry[];
}

/**
 * Reads and bounds-checks the header length from the first 8 bytes. Split out so that
 * `SafetensorsFile.open` can reject an absurd length before allocating a buffer for the header.
 *
 * @param prefix - at least the first 8 bytes of the file (fewer means the file is too short)
 * @param fileSize - total size of the file in bytes
 * @returns the header length N; the caller may then read bytes [8, 8 + N)
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, opts: ParseHeaderOptions = {}): number {
  const ctx = opts.path !== undefined ? { path: opts.path } : {};
  if (fileSize < PREFIX_BYTES || prefix.length < PREFIX_BYTES) {
    throw new SafetensorsError(
      'TRUNCATED',
      `file is ${Math.min(fileSize, prefix.length)} bytes, shorter than the 8-byte header-length prefix`,
      ctx
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, PREFIX_BYTES).getBigUint64(0, true);
  const cap = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  // Comparing as Number is safe: lengths near 2^53 are far above any cap and any real file size.
  const length = Number(n);
  if (length > cap) {
    throw new SafetensorsError('HEADER_TOO_LARGE', `header claims ${n} bytes, above the limit of ${cap} bytes`, ctx);
  }
  if (PREFIX_BYTES + length > fileSize) {
    throw new SafetensorsError(
      'TRUNCATED',
      `header claims ${n} bytes but only ${fileSize - PREFIX_BYTES} bytes follow the length prefix`,
      ctx
    );
  }
  return length;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and fully validates a safetensors header, mirroring the Rust `safetensors` crate: the header
 * must be a JSON object starting with `{`; every tensor must have a supported dtype, a shape of
 * non-negative integers and `[begin, end]` offsets whose length equals `prod(shape) * itemsize`; sorted
 * by offset, the tensors must tile the data region exactly (no overlap, no gap, no trailing bytes);
 * `__metadata__`, if present, must map strings to strings.
 *
 * @param bytes - the file's first `8 + N` bytes at least (the whole file is fine)
 * @param fileSize - the total file size; offsets are checked against it, not against `bytes.length`
 * @throws {@link SafetensorsError} describing the first problem found
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  fileSize: number,
  opts: ParseHeaderOptions = {}
): SafetensorsHeader {
  const ctx = opts.path !== undefined ? { path: opts.path } : {};
  if (
    !Number.isSafeInteger(fileSize) ||
    fileSize < 0 ||
    bytes.length > fileSize ||
    (bytes.length < PREFIX_BYTES && fileSize >= PREFIX_BYTES)
  ) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `fileSize ${fileSize} is inconsistent with the ${bytes.length} bytes given`,
      ctx
    );
  }
  const headerLength = readHeaderLength(bytes, fileSize, opts);
  const dataOffset = PREFIX_BYTES + headerLength;
  if (bytes.length < dataOffset) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `need the first ${dataOffset} bytes (prefix and header) but got ${bytes.length}`,
      ctx
    );
  }
  const json = decodeHeaderJson(bytes.subarray(PREFIX_BYTES, dataOffset), opts.path);
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(value, opts.path);
    else entries.push(parseEntry(name, value, dataOffset, opts.path));
  }
  checkLayout(entries, fileSize - dataOffset, dataOffset, opts.path);
  return { headerLength, dataOffset, metadata, entries };
}

function decodeHeaderJson(raw: Uint8Array, path: string | undefined): Record<string, unknown> {
  const ctx = path !== undefined ? { path } : {};
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (cause) {
    throw new SafetensorsError('HEADER_NOT_JSON', 'header is not valid UTF-8', { ...ctx, cause });
  }
  // Same rule as the Rust crate: rejects empty headers and stray bytes cheaply, before JSON.parse.
  if (!text.startsWith('{')) {
    throw new SafetensorsError(
      'HEADER_NOT_JSON',
      `header must start with '{' but starts with ${JSON.stringify(text.slice(0, 16))}`,
      ctx
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError('HEADER_NOT_JSON', `header is not valid JSON (${(cause as Error).message})`, {
      ...ctx,
      cause,
    });
  }
  if (!isPlainObject(parsed)) {
    throw new SafetensorsError('BAD_HEADER', 'header JSON is not an object', ctx);
  }
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMetadata(value: unknown, path: string | undefined): Record<string, string> {
  const ctx = path !== undefined ? { path } : {};
  if (!isPlainObject(value)) {
    throw new SafetensorsError('BAD_METADATA', '__metadata__ must be an object of strings', ctx);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(
        'BAD_METADATA',
        `__metadata__ value for key ${preview(key)} must be a string, got ${describe(v)}`,
        ctx
      );
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data, not a prototype.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/**
 * Short rendering of an untrusted header value for messages. Bounded because a hostile header can hold
 * megabyte-long or deeply nested values (JSON.stringify would overflow the stack on the latter).
 */
function preview(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = Array.isArray(v) ? '[...]' : '{...}';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${preview(v)}`;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(name: string, value: unknown, dataOffset: number, path: string | undefined): TensorEntry {
  const ctx = path !== undefined ? { path, tensor: name } : { tensor: name };
  if (!isPlainObject(value)) {
    throw new SafetensorsError('BAD_HEADER', `entry must be an object, got ${describe(value)}`, ctx);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') {
    throw new SafetensorsError('BAD_HEADER', `"dtype" must be a string, got ${describe(dtype)}`, ctx);
  }
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError(
      'UNKNOWN_DTYPE',
      `dtype ${preview(dtype)} is not supported (supported: ${SAFETENSORS_DTYPES.join(', ')})`,
      ctx
    );
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw new SafetensorsError(
      'BAD_HEADER',
      `"shape" must be an array of non-negative integers, got ${preview(shape)}`,
      ctx
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new SafetensorsError(
      'BAD_HEADER',
      `"data_offsets" must be [begin, end] with non-negative integers, got ${preview(offsets)}`,
      ctx
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new SafetensorsError('OFFSET_OUT_OF_RANGE', `data_offsets [${begin}, ${end}] end before they begin`, ctx);
  }
  // BigInt because the product of a hostile shape can exceed 2^53 while still being compared exactly.
  const elements = (shape as number[]).reduce((acc: bigint, d: number) => acc * BigInt(d), 1n);
  const expected = elements * BigInt(DTYPES[dtype].itemSize);
  if (expected !== BigInt(end - begin)) {
    throw new SafetensorsError(
      'SHAPE_MISMATCH',
      `shape ${preview(shape)} of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${
        end - begin
      }`,
      ctx
    );
  }
  return { name, dtype, shape: [...(shape as number[])], byteOffset: dataOffset + begin, byteLength: end - begin };
}

/**
 * Requires the tensors, sorted by offset, to tile [0, dataSize) exactly, like the Rust crate does (it
 * reports these cases as `InvalidOffset` / `MetadataIncompleteBuffer`). Strictness here means any file
 * we accept is also accepted by Python's `safetensors`.
 */
function checkLayout(entries: TensorEntry[], dataSize: number, dataOffset: number, path: string | undefined): void {
  entries.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let cursor = 0;
  for (const e of entries) {
    const begin = e.byteOffset - dataOffset;
    const end = begin + e.byteLength;
    const ctx = path !== undefined ? { path, tensor: e.name } : { tensor: e.name };
    if (end > dataSize) {
      // Contiguous so far and running off the end: the file was cut short, not mis-described.
      if (begin === cursor) {
        throw new SafetensorsError(
          'TRUNCATED',
          `data_offsets [${begin}, ${end}] run past the end of the ${dataSize}-byte data region (file truncated?)`,
          ctx
        );
      }
      throw new SafetensorsError(
        'OFFSET_OUT_OF_RANGE',
        `data_offsets [${begin}, ${end}] lie outside the ${dataSize}-byte data region`,
        ctx
      );
    }
    if (begin < cursor) {
      throw new SafetensorsError(
        'OVERLAP',
        `data_offsets [${begin}, ${end}] overlap the previous tensor, which ends at ${cursor}`,
        ctx
      );
    }
    if (begin > cursor) {
      throw new SafetensorsError(
        'NOT_CONTIGUOUS',
        `data_offsets [${begin}, ${end}] leave a gap of ${
          begin - cursor
        } bytes after offset ${cursor}; tensors must be packed back to back`,
        ctx
      );
    }
    cursor = end;
  }
  if (cursor !== dataSize) {
    throw new SafetensorsError(
      'NOT_CONTIGUOUS',
      `tensors cover ${cursor} bytes but the data region holds ${dataSize}; trailing bytes are not allowed`,
      path !== undefined ? { path } : {}
    );
  }
}
