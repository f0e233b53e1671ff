import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  encodeSafetensors,
  parseSafetensorsHeader,
  SafetensorsError,
  SafetensorsFile,
  writeSafetensors,
  type RawTensor,
  type SafetensorsDtype,
  type SafetensorsErrorCode,
  type TensorInput,
} from './index.js';

const FIXTURES = '/work/shared/fixtures/t5-oracle';
const haveFixtures = fs.existsSync(FIXTURES);
const modelDirs = haveFixtures
  ? fs
      .readdirSync(FIXTURES)
      .filter((d) => fs.existsSync(path.join(FIXTURES, d, 'model.safetensors')))
      .sort()
  : [];

let tmpDir: string;
beforeAll(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
});
afterAll(() => {
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** Builds a file from an arbitrary header (object or raw text) and data, bypassing the writer. */
function craft(header: unknown, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function codeOf(fn: () => unknown): SafetensorsErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as SafetensorsError).code;
  }
  return 'no error';
}

function readAll(f: SafetensorsFile): void {
  for (const n of f.names()) {
    f.readRaw(n);
    f.readFloat32(n);
    f.read(n);
  }
}

function sameBits(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  }
  return true;
}

/** Decodes stored 16-bit floats with the textbook formula, independently of the module under test. */
function f16Formula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * Math.pow(2, e - 15);
}
function bf16Formula(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 0) return s * m * Math.pow(2, -133);
  if (e === 255) return m ? NaN : s * Infinity;
  return s * (1 + m / 128) * Math.pow(2, e - 127);
}

interface T5Config {
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_heads: number;
  num_layers: number;
  num_decoder_layers: number;
  relative_attention_num_buckets: number;
  feed_forward_proj: string;
  tie_word_embeddings: boolean;
}

/** Every parameter HF's T5ForConditionalGeneration has for this config, with its shape. */
function expectedT5Shapes(c: T5Config): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const inner = c.num_heads * c.d_kv;
  const D = c.d_model;
  const gated = c.feed_forward_proj.startsWith('gated');
  m.set('shared.weight', [c.vocab_size, D]);
  const attn = (p: string) => {
    for (const x of ['q', 'k', 'v']) m.set(`${p}.${x}.weight`, [inner, D]);
    m.set(`${p}.o.weight`, [D, inner]);
  };
  const ff = (p: string) => {
    for (const w of gated ? ['wi_0', 'wi_1'] : ['wi']) m.set(`${p}.DenseReluDense.${w}.weight`, [c.d_ff, D]);
    m.set(`${p}.DenseReluDense.wo.weight`, [D, c.d_ff]);
    m.set(`${p}.layer_norm.weight`, [D]);
  };
  for (const [stack, n] of [
    ['encoder', c.num_layers],
    ['decoder', c.num_decoder_layers],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const b = `${stack}.block.${i}.layer`;
      attn(`${b}.0.SelfAttention`);
      m.set(`${b}.0.layer_norm.weight`, [D]);
      if (i === 0)
        m.set(`${b}.0.SelfAttention.relative_attention_bias.weight`, [c.relative_attention_num_buckets, c.num_heads]);
      if (stack === 'decoder') {
        attn(`${b}.1.EncDecAttention`);
        m.set(`${b}.1.layer_norm.weight`, [D]);
        ff(`${b}.2`);
      } else {
        ff(`${b}.1`);
      }
    }
    m.set(`${stack}.final_layer_norm.weight`, [D]);
  }
  if (!c.tie_word_embeddings) m.set('lm_head.weight', [c.vocab_size, D]);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

describe.skipIf(!haveFixtures)('reading the T5 oracle fixtures', () => {
  it('finds the four model directories', () => {
    expect(modelDirs.length).toBe(4);
  });

  for (const dir of modelDirs) {
    describe(dir, () => {
      const file = path.join(FIXTURES, dir, 'model.safetensors');
      const config = (): T5Config => JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, 'config.json'), 'utf8'));

      it('has exactly the parameters the config implies, with matching shapes and finite values', () => {
        const cfg = config();
        const expected = expectedT5Shapes(cfg);
        const f = SafetensorsFile.open(file);
        try {
          expect(f.metadata).toEqual({ format: 'pt' });
          const optional = new Set(['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']);
          for (const name of f.names()) {
            const want = expected.get(name) ?? (optional.has(name) ? [cfg.vocab_size, cfg.d_model] : undefined);
            expect(want, `unexpected tensor ${name}`).toBeDefined();
            expect(f.entry(name).shape).toEqual(want);
            const { shape, data } = f.readFloat32(name);
            expect(shape).toEqual(want);
            expect(data.length).toBe(want!.reduce((a, b) => a * b, 1));
            expect(data.every(Number.isFinite)).toBe(true);
          }
          for (const name of expected.keys()) expect(f.has(name), `missing ${name}`).toBe(true);
          expect(f.entry('shared.weight').shape).toEqual([cfg.vocab_size, cfg.d_model]);
        } finally {
          f.close();
        }
      });

      it('widens every stored element bit-exactly (checked against DataView + formula decoding)', () => {
        const bytes = fs.readFileSync(file);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const f = SafetensorsFile.open(file);
        let checked = 0;
        try {
          for (const e of f.entries()) {
            const got = f.readFloat32(e.name).data;
            const decoded = f.read(e.name);
            expect(decoded.dtype).toBe('float32');
            const n = got.length;
            for (let i = 0; i < n; i++) {
              let want: number;
              if (e.dtype === 'F32') want = view.getFloat32(e.byteOffset + 4 * i, true);
              else if (e.dtype === 'BF16') want = bf16Formula(view.getUint16(e.byteOffset + 2 * i, true));
              else if (e.dtype === 'F16') want = f16Formula(view.getUint16(e.byteOffset + 2 * i, true));
              else throw new Error(`unexpected dtype ${e.dtype}`);
              if (!Object.is(got[i], want) || !Object.is(decoded.data[i], want)) {
                throw new Error(`${e.name}[${i}]: got ${got[i]}, want ${want}`);
              }
              checked++;
            }
          }
        } finally {
          f.close();
        }
        expect(checked).toBeGreaterThan(100_000);
      });

      it('stores the dtype the directory name advertises', () => {
        const f = SafetensorsFile.open(file);
        const want = dir.endsWith('_bf16') ? 'BF16' : dir.endsWith('_f16') ? 'F16' : 'F32';
        expect(new Set(f.entries().map((e) => e.dtype))).toEqual(new Set([want]));
        f.close();
      });

      it('reads the PEFT adapter: prompt_embeddings [virtual tokens x submodules, token_dim]', () => {
        const dirPrompt = path.join(FIXTURES, dir, 'prompt');
        const acfg = JSON.parse(fs.readFileSync(path.join(dirPrompt, 'adapter_config.json'), 'utf8'));
        const f = SafetensorsFile.open(path.join(dirPrompt, 'adapter_model.safetensors'));
        expect(f.names()).toEqual(['prompt_embeddings']);
        const t = f.readFloat32('prompt_embeddings');
        expect(t.shape).toEqual([acfg.num_virtual_tokens * acfg.num_transformer_submodules, acfg.token_dim]);
        expect(t.data.every(Number.isFinite)).toBe(true);
        f.close();
      });

      it('fromBytes gives the same tensors as open', () => {
        const a = SafetensorsFile.open(file);
        const b = SafetensorsFile.fromBytes(fs.readFileSync(file));
        expect(b.names()).toEqual(a.names());
        for (const n of a.names().slice(0, 5)) expect(sameBits(b.readRaw(n).data, a.readRaw(n).data)).toBe(true);
        a.close();
      });
    });
  }

  it('open reads only the prefix and header; readRaw reads only that tensor', () => {
    const file = path.join(FIXTURES, modelDirs[0]!, 'model.safetensors');
    const spy = vi.spyOn(fs, 'readSync');
    try {
      const f = SafetensorsFile.open(file);
      const readBytes = () => spy.mock.calls.reduce((a, c) => a + ((c as unknown[])[3] as number), 0);
      expect(readBytes()).toBe(f.dataOffset);
      expect(f.dataOffset).toBeLessThan(fs.statSync(file).size / 10);
      spy.mockClear();
      const e = f.entry('shared.weight');
      f.readRaw('shared.weight');
      expect(readBytes()).toBe(e.byteLength);
      expect(spy.mock.calls.every((c) => ((c as unknown[])[4] as number) >= e.byteOffset)).toBe(true);
      f.close();
    } finally {
      spy.mockRestore();
    }
  });

  it('re-encoding a fixture gives the same tensor order and a byte-identical data region', () => {
    const file = path.join(FIXTURES, modelDirs[0]!, 'model.safetensors');
    const f = SafetensorsFile.open(file);
    const tensors: Record<string, RawTensor> = {};
    for (const n of f.names()) tensors[n] = f.readRaw(n);
    const again = encodeSafetensors(tensors, { ...f.metadata });
    f.close();
    const original = fs.readFileSync(file);
    // Same tensors and bytes; the header text may differ only in whitespace/key order, so compare parsed.
    const g = SafetensorsFile.fromBytes(again);
    expect(g.names()).toEqual(f.names());
    for (const n of g.names()) expect(sameBits(g.readRaw(n).data, tensors[n]!.data)).toBe(true);
    expect(Buffer.from(again.subarray(g.dataOffset)).equals(original.subarray(f.dataOffset))).toBe(true);
  });

  it('every .safetensors file under the fixtures parses and reads without error', () => {
    const files = modelDirs.flatMap((d) =>
      ['model.safetensors', 'expected.safetensors', 'prompt/adapter_model.safetensors'].map((p) =>
        path.join(FIXTURES, d, p)
      )
    );
    for (const file of files.filter((p) => fs.existsSync(p))) {
      const f = SafetensorsFile.open(file);
      readAll(f);
      f.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips

const dims = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const arbFor: Record<SafetensorsDtype, (n: number) => fc.Arbitrary<RawTensor['data']>> = {
  F64: (n) => fc.array(fc.double(), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  F32: (n) => fc.array(fc.float(), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a)),
  F16: (n) =>
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n }).map((a) => Uint16Array.from(a)),
  BF16: (n) =>
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n }).map((a) => Uint16Array.from(a)),
  I64: (n) =>
    fc
      .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n })
      .map((a) => BigInt64Array.from(a)),
  I32: (n) =>
    fc
      .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n })
      .map((a) => Int32Array.from(a)),
  I8: (n) =>
    fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n }).map((a) => Int8Array.from(a)),
  U8: (n) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a)),
  BOOL: (n) => fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a, Number)),
};
const DTYPE_LIST = Object.keys(arbFor) as SafetensorsDtype[];
const arbTensor = (dtype: SafetensorsDtype): fc.Arbitrary<RawTensor> =>
  dims.chain((shape) => arbFor[dtype](shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data })));

describe('round trip', () => {
  for (const dtype of DTYPE_LIST) {
    it(`${dtype}: encode → fromBytes is bit-exact, incl. scalars and zero-size shapes`, () => {
      fc.assert(
        fc.property(arbTensor(dtype), arbTensor(dtype), (a, b) => {
          const bytes = encodeSafetensors({ a, 'b.weight': b }, { note: dtype });
          const f = SafetensorsFile.fromBytes(bytes);
          expect(f.metadata).toEqual({ note: dtype });
          for (const [name, t] of [
            ['a', a],
            ['b.weight', b],
          ] as const) {
            const r = f.readRaw(name);
            expect(r.dtype).toBe(dtype);
            expect(r.shape).toEqual(t.shape);
            expect(r.data.constructor).toBe(t.data.constructor);
            expect(sameBits(r.data, t.data)).toBe(true);
            const w = f.readFloat32(name).data;
            expect(w.length).toBe(t.data.length);
          }
        }),
        { numRuns: 150, seed: 42 }
      );
    });
  }

  it('read() and readFloat32() preserve -0 and ±inf for all float dtypes', () => {
    const vals = [0, -0, Infinity, -Infinity, 1.5, -2];
    const bytes = encodeSafetensors({
      f64: { dtype: 'F64', shape: [6], data: vals },
      f32: { dtype: 'F32', shape: [6], data: vals },
      f16: { dtype: 'F16', shape: [6], data: vals },
      bf16: { dtype: 'BF16', shape: [2, 3], data: Float32Array.from(vals) },
    });
    const f = SafetensorsFile.fromBytes(bytes);
    for (const n of ['f64', 'f32', 'f16', 'bf16']) {
      const r = f.read(n);
      expect(r.dtype).toBe(n === 'f64' ? 'float64' : 'float32');
      expect(sameBits(r.data as Float32Array, vals)).toBe(true);
      expect(sameBits(f.readFloat32(n).data, vals)).toBe(true);
    }
  });

  it('float values written as F16/BF16 read back as the correctly rounded value', () => {
    fc.assert(
      fc.property(fc.array(fc.float(), { maxLength: 20 }), (xs) => {
        const data = Float32Array.from(xs);
        const f = SafetensorsFile.fromBytes(
          encodeSafetensors({
            h: { dtype: 'F16', shape: [xs.length], data },
            b: { dtype: 'BF16', shape: [xs.length], data },
          })
        );
        const h = f.readFloat32('h').data;
        const b = f.readFloat32('b').data;
        for (let i = 0; i < xs.length; i++) {
          const x = data[i]!;
          if (Number.isNaN(x)) {
            expect(Number.isNaN(h[i]) && Number.isNaN(b[i])).toBe(true);
            continue;
          }
          // Rounding error is at most half an ulp of the 16-bit format (relative bound in the normal range).
          if (Math.abs(x) >= 2 ** -14 && Math.abs(x) < 65504)
            expect(Math.abs(h[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11);
          if (Math.abs(x) >= 2 ** -126 && Math.abs(x) < 3e38)
            expect(Math.abs(b[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
          expect(Math.sign(h[i]!) === Math.sign(x) || h[i] === 0).toBe(true);
        }
      }),
      { numRuns: 200, seed: 7 }
    );
  });

  it('writeSafetensors writes atomically and SafetensorsFile.open reads it back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DTYPE_LIST).chain(arbTensor),
        fc.constantFrom(...DTYPE_LIST).chain(arbTensor),
        (a, b) => {
          const file = path.join(tmpDir, 'rt.safetensors');
          writeSafetensors(file, { a, b }, { format: 'pt' });
          const f = SafetensorsFile.open(file);
          try {
            expect(f.metadata).toEqual({ format: 'pt' });
            expect(sameBits(f.readRaw('a').data, a.data)).toBe(true);
            expect(sameBits(f.readRaw('b').data, b.data)).toBe(true);
            expect(fs.readFileSync(file)).toEqual(Buffer.from(encodeSafetensors({ b, a }, { format: 'pt' })));
          } finally {
            f.close();
          }
        }
      ),
      { numRuns: 40, seed: 3 }
    );
    expect(fs.readdirSync(tmpDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('a failed write reports IO and leaves nothing behind', () => {
    const target = path.join(tmpDir, 'no-such-dir', 'x.safetensors');
    expect(codeOf(() => writeSafetensors(target, {}))).toBe('IO');
    expect(fs.existsSync(path.dirname(target))).toBe(false);
  });

  it('output is canonical: independent of key order, dtype-aligned, header padded to 8 bytes', () => {
    const t: Record<string, TensorInput> = {
      z: { dtype: 'U8', shape: [3], data: [1, 2, 3] },
      a: { dtype: 'F64', shape: [1], data: [1] },
      m: { dtype: 'F16', shape: [3], data: [1, 2, 3] },
      b: { dtype: 'I64', shape: [2], data: [1n, -1n] },
      c: { dtype: 'F32', shape: [1], data: [0.5] },
      '10': { dtype: 'I32', shape: [1], data: [7] },
      '2': { dtype: 'I32', shape: [1], data: [8] },
    };
    const one = encodeSafetensors(t);
    const reversed = Object.fromEntries(Object.entries(t).reverse());
    expect(encodeSafetensors(reversed)).toEqual(one);
    const f = SafetensorsFile.fromBytes(one);
    expect(f.dataOffset % 8).toBe(0);
    // Rust crate order: descending dtype (I64, F64, F32, I32, F16, U8), then name by UTF-8 bytes.
    expect(f.names()).toEqual(['b', 'a', 'c', '10', '2', 'm', 'z']);
    for (const e of f.entries())
      expect(
        e.byteOffset %
          (e.byteLength /
            Math.max(
              1,
              e.shape.reduce((x, y) => x * y, 1)
            ))
      ).toBe(0);
    // Header lists tensors in data order (integer-like names are not hoisted by JS object ordering).
    const headerText = new TextDecoder().decode(one.subarray(8, f.dataOffset));
    expect(headerText.indexOf('"b"')).toBeLessThan(headerText.indexOf('"10"'));
    expect(headerText.endsWith(' ') || headerText.endsWith('}')).toBe(true);
  });

  it('matches the byte-exact outputs of the Rust crate for its documented examples', () => {
    // From huggingface/safetensors tensor.rs tests: empty file, empty file with metadata, one F32 tensor.
    expect([...encodeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = encodeSafetensors({}, { framework: 'pt' });
    expect(new TextDecoder().decode(withMeta.subarray(8))).toBe('{"__metadata__":{"framework":"pt"}}     ');
    expect(withMeta[0]).toBe(40);
    const one = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: [0, 1, 2, 3, 4, 5] } });
    expect(one[0]).toBe(64);
    expect(new TextDecoder().decode(one.subarray(8, 72))).toBe(
      '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    );
    expect([...one.subarray(72)]).toEqual([
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('reads tensors whose data region is not 4/8-byte aligned', () => {
    const body = new Uint8Array(8 + 4 + 8 + 2 + 1);
    const dv = new DataView(body.buffer);
    dv.setFloat64(0, -1.25, true);
    dv.setFloat32(8, 3.5, true);
    dv.setBigInt64(12, -5n, true);
    dv.setUint16(20, 0x3c00, true); // F16 1.0
    body[22] = 1;
    const header = {
      d: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
      f: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      i: { dtype: 'I64', shape: [1, 1], data_offsets: [12, 20] },
      h: { dtype: 'F16', shape: [1], data_offsets: [20, 22] },
      u: { dtype: 'BOOL', shape: [1], data_offsets: [22, 23] },
    };
    for (const pad of ['', ' ', '  ', '   ']) {
      const bytes = craft(JSON.stringify(header) + pad, body);
      // Also at an odd offset inside a larger buffer.
      const host = new Uint8Array(bytes.length + 1);
      host.set(bytes, 1);
      const file = path.join(tmpDir, 'unaligned.safetensors');
      fs.writeFileSync(file, bytes);
      for (const f of [
        SafetensorsFile.fromBytes(bytes),
        SafetensorsFile.fromBytes(host.subarray(1)),
        SafetensorsFile.open(file),
      ]) {
        expect([...(f.readRaw('d').data as Float64Array)]).toEqual([-1.25]);
        expect([...(f.readRaw('f').data as Float32Array)]).toEqual([3.5]);
        expect([...(f.readRaw('i').data as BigInt64Array)]).toEqual([-5n]);
        expect([...f.readFloat32('h').data]).toEqual([1]);
        expect(f.read('u')).toEqual({ dtype: 'bool', shape: [1], data: Uint8Array.of(1) });
        expect(f.read('i')).toEqual({ dtype: 'int64', shape: [1, 1], data: BigInt64Array.of(-5n) });
        expect(f.read('d').dtype).toBe('float64');
        f.close();
      }
    }
  });

  it('readFloat32 converts F64 and integer types with one correct rounding', () => {
    const big = [
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 53n + 1n,
      16777217n,
      (1n << 40n) + (1n << 16n) + 1n,
      (1n << 40n) + (1n << 16n),
      -3n,
    ];
    const f = SafetensorsFile.fromBytes(
      encodeSafetensors({
        i64: { dtype: 'I64', shape: [big.length], data: big },
        f64: { dtype: 'F64', shape: [3], data: [0.1, 1e300, -1e-300] },
        i32: { dtype: 'I32', shape: [2], data: [16777217, -(2 ** 31)] },
        i8: { dtype: 'I8', shape: [2], data: [-128, 127] },
        u8: { dtype: 'U8', shape: [2], data: [0, 255] },
      })
    );
    // 2^40 + 2^16 + 1 rounds up to 2^40 + 2^17 (above the tie); 2^40 + 2^16 is a tie → even (2^40).
    expect([...f.readFloat32('i64').data]).toEqual([
      2 ** 63,
      -(2 ** 63),
      2 ** 53,
      16777216,
      2 ** 40 + 2 ** 17,
      2 ** 40,
      -3,
    ]);
    expect([...f.readFloat32('f64').data]).toEqual([Math.fround(0.1), Infinity, -0]);
    expect([...f.readFloat32('i32').data]).toEqual([16777216, -(2 ** 31)]);
    expect([...f.readFloat32('i8').data]).toEqual([-128, 127]);
    expect([...f.readFloat32('u8').data]).toEqual([0, 255]);
    expect(f.read('i32').dtype).toBe('int32');
    expect(f.read('i8').dtype).toBe('int8');
    expect(f.read('u8').dtype).toBe('uint8');
  });

  it('converts plain arrays for writing, refusing values a cast would corrupt', () => {
    const t =
      (dtype: SafetensorsDtype, data: TensorInput['data'], shape = [data.length]) =>
      () =>
        encodeSafetensors({ x: { dtype, shape, data } });
    expect(codeOf(t('I32', [2 ** 31]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('I8', [1.5]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('U8', [-1]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('I64', [2 ** 60]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('I64', [2n ** 63n]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('F32', [1, 2], [3]))).toBe('SHAPE_MISMATCH');
    expect(codeOf(t('F32', [1], [-1]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(t('F32', [1], [0.5]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encodeSafetensors({ x: { dtype: 'U16' as SafetensorsDtype, shape: [0], data: [] } }))).toBe(
      'UNKNOWN_DTYPE'
    );
    expect(codeOf(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [0], data: [] } }))).toBe(
      'INVALID_ARGUMENT'
    );
    expect(codeOf(() => encodeSafetensors({}, { a: 1 as unknown as string }))).toBe('BAD_METADATA');
    expect(codeOf(() => encodeSafetensors({ ['\ud800']: { dtype: 'F32', shape: [0], data: [] } }))).toBe(
      'INVALID_ARGUMENT'
    );
    const f = SafetensorsFile.fromBytes(
      encodeSafetensors({
        b: { dtype: 'BOOL', shape: [4], data: [true, false, 2, 0] },
        c: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(7, 0) },
        i: { dtype: 'I64', shape: [2], data: [-(2 ** 53) + 1, 5n] },
      })
    );
    expect([...f.readRaw('b').data]).toEqual([1, 0, 1, 0]);
    expect([...f.readRaw('c').data]).toEqual([1, 0]);
    expect([...f.readRaw('i').data]).toEqual([-(2n ** 53n) + 1n, 5n]);
  });

  it('reports missing tensors and use after close', () => {
    const f = SafetensorsFile.fromBytes(encodeSafetensors({ a: { dtype: 'U8', shape: [1], data: [1] } }));
    expect(codeOf(() => f.readRaw('nope'))).toBe('MISSING_TENSOR');
    expect(codeOf(() => f.entry('nope'))).toBe('MISSING_TENSOR');
    expect(f.has('nope')).toBe(false);
    f.close();
    f.close();
    expect(codeOf(() => f.readRaw('a'))).toBe('CLOSED');
    expect(codeOf(() => SafetensorsFile.open(path.join(tmpDir, 'does-not-exist')))).toBe('IO');
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input

describe('malformed files', () => {
  const ok = {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'I32', shape: [2], data_offsets: [8, 16] },
  };
  const parse = (bytes: Uint8Array) => () => SafetensorsFile.fromBytes(bytes);

  it('accepts the well-formed baseline', () => {
    expect(codeOf(parse(craft(ok, 16)))).toBe('no error');
  });

  it.each<[string, () => Uint8Array, SafetensorsErrorCode]>([
    ['file shorter than the 8-byte prefix', () => new Uint8Array(5), 'TRUNCATED'],
    ['empty file', () => new Uint8Array(0), 'TRUNCATED'],
    ['file truncated inside the data', () => craft(ok, 16).subarray(0, craft(ok, 16).length - 3), 'TRUNCATED'],
    ['header length past the end of the file', () => craft(ok, 16, 10_000n), 'TRUNCATED'],
    ['header length of 2^40 in an 8-byte file', () => craft('', 0, 2n ** 40n), 'HEADER_TOO_LARGE'],
    ['header length of 2^64 - 1', () => craft(ok, 16, 2n ** 64n - 1n), 'HEADER_TOO_LARGE'],
    [
      'offsets out of range',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [2], data_offsets: [48, 56] } }, 16),
      'OFFSET_OUT_OF_RANGE',
    ],
    [
      'reversed offsets',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [0], data_offsets: [16, 8] } }, 16),
      'OFFSET_OUT_OF_RANGE',
    ],
    [
      'overlapping offsets',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [2], data_offsets: [4, 12] } }, 16),
      'OVERLAP',
    ],
    ['identical offsets', () => craft({ ...ok, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 16), 'OVERLAP'],
    [
      'gap between tensors',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [1], data_offsets: [12, 16] } }, 16),
      'NOT_CONTIGUOUS',
    ],
    ['trailing bytes after the last tensor', () => craft(ok, 20), 'NOT_CONTIGUOUS'],
    [
      'unknown dtype',
      () => craft({ ...ok, b: { dtype: 'F8_E4M3', shape: [8], data_offsets: [8, 16] } }, 16),
      'UNKNOWN_DTYPE',
    ],
    [
      'inherited property name as dtype',
      () => craft({ ...ok, b: { dtype: 'toString', shape: [2], data_offsets: [8, 16] } }, 16),
      'UNKNOWN_DTYPE',
    ],
    [
      'shape disagreeing with byte size',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [3], data_offsets: [8, 16] } }, 16),
      'SHAPE_MISMATCH',
    ],
    [
      'shape whose product overflows 2^64',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [8, 16] } }, 16),
      'SHAPE_MISMATCH',
    ],
    [
      'negative dimension',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [-2], data_offsets: [8, 16] } }, 16),
      'BAD_HEADER',
    ],
    [
      'fractional dimension',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [2.5], data_offsets: [8, 16] } }, 16),
      'BAD_HEADER',
    ],
    ['missing shape', () => craft({ ...ok, b: { dtype: 'I32', data_offsets: [8, 16] } }, 16), 'BAD_HEADER'],
    [
      'three data_offsets',
      () => craft({ ...ok, b: { dtype: 'I32', shape: [2], data_offsets: [8, 16, 24] } }, 16),
      'BAD_HEADER',
    ],
    ['entry that is not an object', () => craft({ ...ok, c: 5 }, 16), 'BAD_HEADER'],
    [
      'deeply nested shape',
      () => craft(`{"a":{"dtype":"F32","shape":${'['.repeat(20000)}${']'.repeat(20000)},"data_offsets":[0,0]}}`, 0),
      'BAD_HEADER',
    ],
    [
      'huge dtype string',
      () => craft({ a: { dtype: 'X'.repeat(1e6), shape: [], data_offsets: [0, 0] } }, 0),
      'UNKNOWN_DTYPE',
    ],
    ['header that is a JSON array', () => craft('[1,2]   ', 0), 'HEADER_NOT_JSON'],
    ['header that is JSON null', () => craft('null', 0), 'HEADER_NOT_JSON'],
    ['non-JSON header', () => craft('{"a": nope}', 0), 'HEADER_NOT_JSON'],
    [
      'invalid UTF-8 bytes',
      () => {
        const b = craft('{"x":1}', 0);
        b[10] = 0xff;
        return b;
      },
      'HEADER_NOT_JSON',
    ],
    ['empty header', () => craft('', 0), 'HEADER_NOT_JSON'],
    [
      'metadata with a non-string value',
      () => craft({ __metadata__: { format: 'pt', step: 5 }, ...ok }, 16),
      'BAD_METADATA',
    ],
    ['metadata that is an array', () => craft({ __metadata__: ['pt'], ...ok }, 16), 'BAD_METADATA'],
  ])('%s', (_label, make, code) => {
    expect(codeOf(parse(make()))).toBe(code);
  });

  it('names the file and tensor in messages and fields', () => {
    const file = path.join(tmpDir, 'bad.safetensors');
    fs.writeFileSync(file, craft({ ...ok, b: { dtype: 'I32', shape: [3], data_offsets: [8, 16] } }, 16));
    try {
      SafetensorsFile.open(file);
      expect.unreachable();
    } catch (e) {
      const err = e as SafetensorsError;
      expect(err).toBeInstanceOf(SafetensorsError);
      expect(err.code).toBe('SHAPE_MISMATCH');
      expect(err.path).toBe(file);
      expect(err.tensor).toBe('b');
      expect(err.message).toContain(file);
      expect(err.message).toContain("'b'");
      expect(err.message).toContain('[3]');
    }
  });

  it('rejects a header claiming 2^40 bytes without allocating or reading it', () => {
    const file = path.join(tmpDir, 'huge-header.safetensors');
    fs.writeFileSync(file, craft('', 0, 2n ** 40n));
    const spy = vi.spyOn(fs, 'readSync');
    try {
      expect(codeOf(() => SafetensorsFile.open(file))).toBe('HEADER_TOO_LARGE');
      expect(spy.mock.calls.reduce((a, c) => a + ((c as unknown[])[3] as number), 0)).toBe(8);
      // Even with the cap lifted, the length is compared to the file size before any allocation.
      expect(codeOf(() => SafetensorsFile.open(file, { maxHeaderBytes: Infinity }))).toBe('TRUNCATED');
      expect(codeOf(() => parseSafetensorsHeader(craft('', 0, 2n ** 40n), 8))).toBe('HEADER_TOO_LARGE');
    } finally {
      spy.mockRestore();
    }
  });

  it('honours a custom header cap', () => {
    expect(codeOf(() => SafetensorsFile.fromBytes(craft(ok, 16), { maxHeaderBytes: 16 }))).toBe('HEADER_TOO_LARGE');
  });

  it('parseSafetensorsHeader works from the header bytes alone', () => {
    const full = craft(ok, 16);
    const n = Number(new DataView(full.buffer).getBigUint64(0, true));
    const h = parseSafetensorsHeader(full.subarray(0, 8 + n), full.length);
    expect(h.entries.map((e) => [e.name, e.byteOffset, e.byteLength])).toEqual([
      ['a', 8 + n, 8],
      ['b', 16 + n, 8],
    ]);
    expect(codeOf(() => parseSafetensorsHeader(full.subarray(0, 8 + n), full.length - 3))).toBe('TRUNCATED');
    expect(codeOf(() => parseSafetensorsHeader(full.subarray(0, 8), full.length))).toBe('INVALID_ARGUMENT');
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing

/** mulberry32: tiny seeded PRNG so failures are reproducible from the printed case number. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing', () => {
  const seedFile = encodeSafetensors(
    {
      f64: { dtype: 'F64', shape: [2], data: [1.5, -0] },
      f32: { dtype: 'F32', shape: [1, 3], data: [1, 2, 3] },
      f16: { dtype: 'F16', shape: [2], data: [0.5, Infinity] },
      bf16: { dtype: 'BF16', shape: [], data: [3] },
      i64: { dtype: 'I64', shape: [1], data: [-7n] },
      i32: { dtype: 'I32', shape: [2, 1], data: [4, -4] },
      i8: { dtype: 'I8', shape: [3], data: [-1, 0, 1] },
      u8: { dtype: 'U8', shape: [0, 4], data: [] },
      b: { dtype: 'BOOL', shape: [2], data: [1, 0] },
    },
    { format: 'pt' }
  );
  const headerLen = Number(new DataView(seedFile.buffer).getBigUint64(0, true));

  function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
    const int = (n: number) => Math.floor(rnd() * n);
    // Most mutations target the prefix and header: flips in the data region only change values.
    const pos = (len: number) => (rnd() < 0.75 ? int(Math.min(len, 8 + headerLen)) : int(len));
    let b: Uint8Array = src.slice();
    const rounds = 1 + int(3);
    for (let r = 0; r < rounds && b.length > 0; r++) {
      const op = int(7);
      if (op === 0) {
        b[pos(b.length)] ^= 1 << int(8);
      } else if (op === 1) {
        b[pos(b.length)] = int(256);
      } else if (op === 2) {
        b = b.slice(0, int(b.length + 1));
      } else if (op === 3) {
        const at = pos(b.length);
        const ins = Uint8Array.from({ length: 1 + int(8) }, () =>
          rnd() < 0.5 ? int(256) : '{}[]",:0123456789 '.charCodeAt(int(19))
        );
        const nb = new Uint8Array(b.length + ins.length);
        nb.set(b.subarray(0, at));
        nb.set(ins, at);
        nb.set(b.subarray(at), at + ins.length);
        b = nb;
      } else if (op === 4) {
        const at = pos(b.length);
        const n = 1 + int(8);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
      } else if (op === 5 && b.length >= 8) {
        const choices = [
          BigInt(int(b.length + 16)),
          BigInt(headerLen + int(17) - 8),
          2n ** BigInt(int(64)),
          2n ** 64n - 1n,
        ];
        new DataView(b.buffer, b.byteOffset).setBigUint64(0, choices[int(choices.length)]!, true);
      } else {
        b = mutateJson(b, rnd) ?? b;
      }
    }
    return b;
  }

  /** Structured mutation: edit one field of the parsed header, then re-frame with a correct length. */
  function mutateJson(b: Uint8Array, rnd: () => number): Uint8Array | undefined {
    const int = (n: number) => Math.floor(rnd() * n);
    let header: Record<string, Record<string, unknown>>;
    let n: number;
    try {
      n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
      header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
    } catch {
      return undefined;
    }
    if (typeof header !== 'object' || header === null) return undefined;
    const names = Object.keys(header);
    if (names.length === 0) return undefined;
    const entry = header[names[int(names.length)]!];
    if (typeof entry !== 'object' || entry === null) return undefined;
    const weird = [
      -1,
      0,
      1,
      2,
      3,
      2 ** 53,
      2 ** 64,
      1e308,
      0.5,
      'F32',
      'X',
      null,
      [],
      {},
      [0, 4],
      [4, 0],
      [0, 2 ** 60],
    ];
    const field = ['dtype', 'shape', 'data_offsets', 'format', 'extra'][int(5)]!;
    const cur = entry[field];
    if (Array.isArray(cur) && cur.length > 0 && rnd() < 0.7) cur[int(cur.length)] = weird[int(weird.length)];
    else if (field === 'dtype' && rnd() < 0.5)
      entry[field] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I8', 'U8', 'BOOL', 'U16'][int(10)];
    else entry[field] = weird[int(weird.length)];
    return craft(JSON.stringify(header), b.subarray(8 + n));
  }

  it('10,000+ random mutations raise only SafetensorsError', () => {
    const rnd = prng(0x5afe7e45);
    const codes = new Map<string, number>();
    let accepted = 0;
    const N = 12_000;
    for (let i = 0; i < N; i++) {
      const bytes = mutate(seedFile, rnd);
      try {
        const f = SafetensorsFile.fromBytes(bytes);
        readAll(f);
        accepted++;
      } catch (e) {
        if (!(e instanceof SafetensorsError)) {
          throw new Error(
            `case ${i}: non-SafetensorsError ${String(e)} for bytes ${Buffer.from(bytes).toString('base64')}`
          );
        }
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    // The corpus must exercise both outcomes and most validation branches to be meaningful.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(N);
    for (const c of [
      'TRUNCATED',
      'HEADER_TOO_LARGE',
      'HEADER_NOT_JSON',
      'BAD_HEADER',
      'UNKNOWN_DTYPE',
      'SHAPE_MISMATCH',
      'OVERLAP',
      'NOT_CONTIGUOUS',
      'OFFSET_OUT_OF_RANGE',
    ]) {
      expect(codes.get(c) ?? 0, `code ${c} never produced`).toBeGreaterThan(0);
    }
  });

  it('the file-backed reader behaves the same on mutated files', () => {
    const rnd = prng(99);
    const file = path.join(tmpDir, 'fuzz.safetensors');
    for (let i = 0; i < 300; i++) {
      const bytes = mutate(seedFile, rnd);
      fs.writeFileSync(file, bytes);
      let viaBytes: string;
      let viaFile: string;
      try {
        const f = SafetensorsFile.fromBytes(bytes);
        readAll(f);
        viaBytes = 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        viaBytes = (e as SafetensorsError).code;
      }
      try {
        const f = SafetensorsFile.open(file);
        readAll(f);
        f.close();
        viaFile = 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        viaFile = (e as SafetensorsError).code;
      }
      expect(viaFile, `case ${i}`).toBe(viaBytes);
    }
  });
});
