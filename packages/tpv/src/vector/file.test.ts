import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VectorFileError } from './errors.js';
import { decodeTpv, decodeTpvDetailed, encodeTpv, loadTpv, loadTpvDetailed, saveTpv } from './file.js';
import { TaskPromptVector } from './task-prompt-vector.js';
import { promptPair, sameBits } from './__tests__/arbitraries.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpv-file-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof VectorFileError ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

describe('.tpv round trip', () => {
  it('preserves every bit of the exact pairs and the metadata (1000 random vectors, in memory)', () => {
    fc.assert(
      fc.property(promptPair, fc.constantFrom('mnli_text', '+ a + b - c', '\u2205'), (p, tasks) => {
        const v = TaskPromptVector.fromPrompts({ data: p.tuned, shape: p.shape }, { data: p.origin, shape: p.shape }, {
          tasks,
          modelId: 't5-base',
          originId: 'origin_2',
          provenance: { sources: ['a.safetensors', 'b'], lambda: 0.05, nested: { ok: true, n: null } },
        });
        const back = decodeTpv(encodeTpv(v));
        const a = v.exactParts();
        const b = back.exactParts();
        return (
          back.equals(v) &&
          sameBits(a.hi, b.hi) &&
          sameBits(a.lo, b.lo) &&
          JSON.stringify(back.provenance) === JSON.stringify(v.provenance) &&
          sameBits(back.applyTo({ data: p.origin, shape: p.shape }), p.tuned)
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips through disk atomically and uses the compact encoding when it can', () => {
    const t = Float32Array.of(1, -0, 3, 2 ** -100);
    const o = Float32Array.of(0.5, 5, 3, 1);
    const v = TaskPromptVector.fromPrompts(t, o, { tasks: 'sst2_text', modelId: 't5-base', shape: [2, 2] });
    const file = path.join(dir, 'v.tpv');
    saveTpv(file, v);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const d = loadTpvDetailed(file);
    expect(d.dtype).toBe('float64x2'); // the −0 flag and 2^-100 need the low halves
    expect(d.vector.equals(v)).toBe(true);
    expect(sameBits(d.vector.applyTo(o), t)).toBe(true);

    const simple = TaskPromptVector.fromPrompts(Float32Array.of(1, 2), Float32Array.of(0, 0), { tasks: 'a', modelId: 'm', shape: [2] });
    expect(decodeTpvDetailed(encodeTpv(simple)).dtype).toBe('float64');
    expect(decodeTpv(encodeTpv(simple)).equals(simple)).toBe(true);
    // Overwriting is atomic too.
    saveTpv(file, simple);
    expect(loadTpv(file).equals(simple)).toBe(true);
  });

  it('refuses another model or shape unless forced', () => {
    const v = TaskPromptVector.fromPrompts(Float32Array.of(1, 2), Float32Array.of(0, 0), { tasks: 'a', modelId: 't5-base', shape: [1, 2] });
    const file = path.join(dir, 'm.tpv');
    saveTpv(file, v);
    expect(codeOf(() => loadTpv(file, { expectModelId: 't5-large' }))).toBe('MODEL_MISMATCH');
    expect(codeOf(() => loadTpv(file, { expectShape: [2, 1] }))).toBe('SHAPE_MISMATCH');
    expect(() => loadTpv(file, { expectModelId: 't5-large' })).toThrow(/t5-base.*t5-large.*force/);
    expect(loadTpv(file, { expectModelId: 't5-large', expectShape: [2, 1], force: true }).equals(v)).toBe(true);
    expect(loadTpv(file, { expectModelId: 't5-base', expectShape: [1, 2] }).equals(v)).toBe(true);
  });

  it('reports I/O problems as typed errors', () => {
    expect(codeOf(() => loadTpv(path.join(dir, 'missing.tpv')))).toBe('NOT_FOUND');
    expect(codeOf(() => loadTpv(dir))).toBe('IO');
    expect(codeOf(() => saveTpv(path.join(dir, 'no-such-dir', 'x.tpv'), TaskPromptVector.zeros([1], 'm')))).toBe('NOT_FOUND');
  });

  it('validates each field with a precise code', () => {
    const good = {
      magic: 'tpv',
      schemaVersion: 1,
      modelId: 't5-base',
      originId: null,
      tasks: { a: 1 },
      shape: [2],
      dtype: 'float64',
      provenance: {},
      data: new Uint8Array(16),
    };
    const dec = (rec: unknown) => codeOf(() => decodeTpv(encode(rec)));
    expect(dec(good)).toBeUndefined();
    expect(dec({ ...good, magic: 'tpx' })).toBe('BAD_MAGIC');
    expect(dec([1, 2, 3])).toBe('BAD_MAGIC');
    expect(dec({ ...good, schemaVersion: 2 })).toBe('UNSUPPORTED_VERSION');
    expect(dec({ ...good, schemaVersion: '1' })).toBe('BAD_FIELD');
    expect(dec({ ...good, extra: 1 })).toBe('BAD_FIELD');
    const { provenance: _p, ...noProv } = good;
    expect(dec(noProv)).toBe('BAD_FIELD');
    expect(dec({ ...good, shape: [0] })).toBe('BAD_FIELD');
    expect(dec({ ...good, shape: [2.5] })).toBe('BAD_FIELD');
    expect(dec({ ...good, shape: [] })).toBe('BAD_FIELD');
    expect(dec({ ...good, shape: [2 ** 20, 2 ** 20] })).toBe('TOO_LARGE');
    expect(dec({ ...good, dtype: 'float16' })).toBe('BAD_FIELD');
    expect(dec({ ...good, data: new Uint8Array(15) })).toBe('BAD_DATA');
    expect(dec({ ...good, data: 'abc' })).toBe('BAD_FIELD');
    expect(dec({ ...good, modelId: '' })).toBe('BAD_FIELD');
    expect(dec({ ...good, originId: 3 })).toBe('BAD_FIELD');
    expect(dec({ ...good, tasks: { 'bad name': 1 } })).toBe('BAD_FIELD');
    expect(dec({ ...good, tasks: { a: 0.5 } })).toBe('BAD_FIELD');
    expect(dec({ ...good, tasks: { a: 0 } })).toBe('BAD_FIELD');
    expect(dec({ ...good, tasks: [] })).toBe('BAD_FIELD');
    expect(dec({ ...good, provenance: { x: Number.NaN } })).toBe('BAD_FIELD');
    const nan = new Uint8Array(16);
    new DataView(nan.buffer).setFloat64(8, NaN, true);
    expect(dec({ ...good, data: nan })).toBe('NON_FINITE');
    const unnormalised = new Uint8Array(32);
    new DataView(unnormalised.buffer).setFloat64(0, 1, true);
    new DataView(unnormalised.buffer).setFloat64(16, 0.75, true);
    expect(dec({ ...good, dtype: 'float64x2', data: unnormalised })).toBe('BAD_DATA');
    const f32 = new Uint8Array(8);
    new DataView(f32.buffer).setFloat32(4, 1.5, true);
    expect([...decodeTpv(encode({ ...good, dtype: 'float32', data: f32 })).toFloat64Array()]).toEqual([0, 1.5]);
  });
});
