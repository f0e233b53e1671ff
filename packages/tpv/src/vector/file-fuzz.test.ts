/**
 * Fuzzing the `.tpv` reader: 10,000 mutated files (byte flips, bit flips, truncations, insertions,
 * deletions, splices, field replacements with random MessagePack values, whole random values, random
 * bytes) must each either decode to a valid vector or throw a VectorFileError that is not `INTERNAL`;
 * nothing else may escape, and memory must not balloon.
 */
import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { VectorFileError } from './errors.js';
import { decodeTpv, encodeTpv } from './file.js';
import { TaskPromptVector } from './task-prompt-vector.js';

/** mulberry32: a tiny seeded PRNG so every run fuzzes the same 10,000 files. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(20240711);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

function randomValue(depth = 0): unknown {
  const kinds = depth > 3 ? 6 : 9;
  switch (int(kinds)) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick([0, -1, 1, 2 ** 31, -(2 ** 53), 1.5, Number.NaN, Infinity, -0, 2 ** 64, int(1000)]);
    case 3:
      return pick(['', 'tpv', 't5-base', 'float64', 'float64x2', 'float32', 'mnli_text', 'a b', '__proto__', 'x'.repeat(int(300))]);
    case 4:
      return new Uint8Array(pick([0, 1, 7, 8, 16, 64]));
    case 5:
      return pick([[1], [2, 2], [0], [-1], [2 ** 30, 2 ** 30], [1.5], ['2']]);
    case 6:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = int(4); i > 0; i--) o[pick(['a', 'mnli_text', 'magic', 'shape', 'data', 'constructor', 'k'])] = randomValue(depth + 1);
      return o;
    }
    default:
      return { magic: 'tpv', schemaVersion: pick([1, 1, 1, 2, '1']), x: randomValue(depth + 1) };
  }
}

function baseFiles(): Uint8Array[] {
  const t = Float32Array.of(1, -0, 3, 2 ** -100, 5, 6);
  const o = Float32Array.of(0.5, 5, 3, 1, -7, 1e30);
  const exact = TaskPromptVector.fromPrompts(t, o, {
    tasks: '+ mnli_text - sst2_text',
    modelId: 't5-base',
    originId: 'origin_0',
    provenance: { sources: ['x', 'y'], lambda: 0.35000000000000003, deep: { a: [1, { b: null }] } },
    shape: [2, 3],
  });
  const plain = TaskPromptVector.fromPrompts(Float32Array.of(1, 2, 3), Float32Array.of(0, 0, 0), { tasks: 'a', modelId: 'm', shape: [3] });
  const f32 = encode({
    magic: 'tpv', schemaVersion: 1, modelId: 'm', originId: null, tasks: { q: -2 }, shape: [1, 2], dtype: 'float32', provenance: {}, data: new Uint8Array(8),
  });
  return [encodeTpv(exact), encodeTpv(plain), f32];
}

function mutate(base: readonly Uint8Array[]): Uint8Array {
  const src = pick(base);
  const kind = int(10);
  const b = Uint8Array.from(src);
  switch (kind) {
    case 0: { // random byte replacements
      for (let i = 1 + int(8); i > 0; i--) b[int(b.length)] = int(256);
      return b;
    }
    case 1: { // bit flips
      for (let i = 1 + int(4); i > 0; i--) b[int(b.length)]! ^= 1 << int(8);
      return b;
    }
    case 2: // truncation
      return b.slice(0, int(b.length));
    case 3: { // insertion
      const at = int(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + int(8) }, () => pick([0xdd, 0xdf, 0xc6, 0xdb, 0xff, 0x00, int(256)]));
      return Uint8Array.from([...b.slice(0, at), ...ins, ...b.slice(at)]);
    }
    case 4: { // deletion
      const at = int(b.length);
      return Uint8Array.from([...b.slice(0, at), ...b.slice(at + 1 + int(16))]);
    }
    case 5: { // splice two files
      const other = pick(base);
      return Uint8Array.from([...b.slice(0, int(b.length)), ...other.slice(int(other.length))]);
    }
    case 6: { // replace one field with a random value
      const rec = decode(src) as Record<string, unknown>;
      const key = pick([...Object.keys(rec), 'extra']);
      rec[key] = randomValue();
      if (rand() < 0.2) delete rec[pick(Object.keys(rec))];
      return encode(rec);
    }
    case 7: // a random value altogether
      return encode(randomValue());
    case 8: // hostile headers: huge declared containers / payloads
      return Uint8Array.from([...b.slice(0, int(b.length)), pick([0xdd, 0xdf, 0xc6, 0xdb, 0xc9]), 0xff, 0xff, 0xff, 0xf0, ...b.slice(0, int(16))]);
    default: // random bytes
      return Uint8Array.from({ length: int(256) }, () => int(256));
  }
}

describe('.tpv reader fuzz', () => {
  it('10,000 mutated files: valid vector or a typed, non-internal VectorFileError; bounded memory', () => {
    const base = baseFiles();
    for (const b of base) expect(decodeTpv(b)).toBeInstanceOf(TaskPromptVector);
    const before = process.memoryUsage();
    const codes = new Map<string, number>();
    let ok = 0;
    for (let i = 0; i < 10_000; i++) {
      const bytes = mutate(base);
      try {
        const v = decodeTpv(bytes);
        expect(v).toBeInstanceOf(TaskPromptVector);
        // Whatever decodes must survive a second round trip unchanged.
        expect(decodeTpv(encodeTpv(v)).equals(v)).toBe(true);
        ok++;
      } catch (e) {
        if (!(e instanceof VectorFileError)) throw new Error(`case ${i}: untyped ${String(e)}`, { cause: e });
        if (e.code === 'INTERNAL') throw new Error(`case ${i}: INTERNAL ${e.message}`, { cause: e });
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    if (process.env.TPV_FUZZ_REPORT) console.log({ ok, codes });
    const after = process.memoryUsage();
    expect(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(256 * 2 ** 20);
    // The fuzz reaches deep into validation, not just the decoder.
    expect(codes.get('DECODE')).toBeGreaterThan(0);
    expect((codes.get('BAD_FIELD') ?? 0) + (codes.get('BAD_MAGIC') ?? 0)).toBeGreaterThan(100);
    expect(ok + [...codes.values()].reduce((a, c) => a + c, 0)).toBe(10_000);
  });

  it('refuses allocation bombs before allocating', () => {
    const code = (bytes: Uint8Array) => {
      try {
        decodeTpv(bytes);
      } catch (e) {
        return e instanceof VectorFileError ? e.code : 'untyped';
      }
      return 'ok';
    };
    // 100k nested array16(1024) headers: the decoder alone would allocate ~100k arrays of 1024 slots.
    const nested = new Uint8Array(300_000);
    for (let i = 0; i < nested.length; i += 3) nested.set([0xdc, 0x04, 0x00], i);
    const t0 = performance.now();
    expect(code(nested)).toBe('DECODE');
    // array32 / map32 / bin32 declaring 4 G entries in a few bytes.
    expect(code(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x00))).toBe('DECODE');
    expect(code(Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0x00))).toBe('DECODE');
    expect(code(Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00))).toBe('DECODE');
    // A shape of 2^40 elements with a tiny payload.
    const huge = encode({
      magic: 'tpv', schemaVersion: 1, modelId: 'm', originId: null, tasks: {}, shape: [2 ** 20, 2 ** 20], dtype: 'float64', provenance: {}, data: new Uint8Array(8),
    });
    expect(code(huge)).toBe('TOO_LARGE');
    // Deep nesting inside provenance.
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const deepFile = encode({
      magic: 'tpv', schemaVersion: 1, modelId: 'm', originId: null, tasks: {}, shape: [1], dtype: 'float64', provenance: { deep }, data: new Uint8Array(8),
    });
    expect(code(deepFile)).toBe('DECODE');
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
