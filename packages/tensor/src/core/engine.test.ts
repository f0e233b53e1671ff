import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdamW, Generator, TensorError, add, arange, broadcastShapes, crossEntropy, full, linear, matmul, memory, noGrad,
  ones, philox4x32, rand, randn, relu, sum, tensor, tidy, keep, zeros, dispose, mean,
} from '../index.js';

describe('tensor creation', () => {
  it('infers shapes from nested arrays and keeps typed-array dtypes', async () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(await t.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(new Int32Array([1, 2]), { shape: [2, 1] }).dtype).toBe('int32');
    expect(tensor(new Float64Array(4), { shape: [2, 2] }).dtype).toBe('float64');
    expect(tensor(3).shape).toEqual([]);
    expect(zeros([2, 0]).size).toBe(0);
    expect(Array.from(await full([2], 7, { dtype: 'int32' }).data())).toEqual([7, 7]);
    expect(Array.from(await arange(5).data())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(await arange(1, 2, 0.25).data())).toEqual([1, 1.25, 1.5, 1.75]);
  });
  it('rejects ragged arrays, bad shapes and non-numbers with typed errors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(TensorError);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/needs 4 values/);
    expect(() => zeros([2, -1])).toThrow(TensorError);
    expect(() => tensor(['a' as unknown as number])).toThrow(TensorError);
    expect(() => add(ones([2, 3]), ones([4]))).toThrow(/cannot be broadcast/);
    expect(() => matmul(ones([2, 3]), ones([2, 3]))).toThrow(/inner dimensions/);
  });
  it('broadcastShapes follows NumPy (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), fc.array(fc.boolean(), { maxLength: 4 }), (s, ones1) => {
        const b = s.map((d, i) => (ones1[i] ? 1 : d));
        expect(broadcastShapes(s, b)).toEqual(s);
        expect(broadcastShapes(b, s)).toEqual(s);
        expect(broadcastShapes(s.slice(1), s)).toEqual(s);
      }),
    );
  });
  it('type promotion: int / int gives float, comparisons give bool', async () => {
    const a = tensor([3, 4], { dtype: 'int32' });
    expect(a.div(2).dtype).toBe('float32');
    expect(Array.from(await a.div(2).data())).toEqual([1.5, 2]);
    expect(a.gt(3).dtype).toBe('bool');
    expect(a.add(1).dtype).toBe('int32');
    expect(a.mul(0.5).dtype).toBe('float32');
  });
});

describe('autograd', () => {
  it('accumulates gradients across backward calls and zeroGrad clears them', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    sum(x.mul(x)).backward();
    sum(x.mul(x)).backward();
    expect(Array.from(await x.grad!.data())).toEqual([4, 8, 12]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });
  it('a tensor used twice gets the sum of both gradients', async () => {
    const x = tensor([2], { requiresGrad: true });
    sum(x.add(x).mul(x)).backward(); // d/dx 2x² = 4x
    expect(Array.from(await x.grad!.data())).toEqual([8]);
  });
  it('records nothing for frozen inputs: no graph, no gradient work', () => {
    const w = randn([8, 8]);
    const x = randn([4, 8]);
    const y = relu(linear(x, w));
    expect(y.requiresGrad).toBe(false);
    expect(y._node).toBeNull();
    const p = randn([4, 8], { requiresGrad: true });
    const z = linear(add(x, p), w);
    expect(z._node?.name).toBe('linear');
    z.sum().backward();
    expect(w.grad).toBeNull();
    expect(p.grad?.shape).toEqual([4, 8]);
  });
  it('noGrad and detach cut the graph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(x.detach().mul(2).requiresGrad).toBe(false);
    expect(() => x.detach().mul(2).sum().backward()).toThrow(TensorError);
  });
  it('backward needs a scalar unless a gradient is given; integer tensors cannot require grad', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/one-element/);
    x.mul(3).backward(tensor([1, 10]));
    expect(Array.from(await x.grad!.data())).toEqual([3, 30]);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(TensorError);
  });
  it('using a disposed tensor is a typed error', () => {
    const x = ones([2]);
    x.dispose();
    expect(() => x.add(1)).toThrow(/disposed/);
  });
});

describe('memory', () => {
  it('tidy frees everything it made except the result; keep exempts', () => {
    const before = memory().numTensors;
    const kept: { t?: ReturnType<typeof ones> } = {};
    const r = tidy(() => {
      const a = ones([4, 4]);
      const b = a.add(1).mul(3);
      kept.t = keep(b.sum());
      return { out: b.mean() };
    });
    expect(memory().numTensors).toBe(before + 2);
    dispose([r, kept.t]);
    expect(memory().numTensors).toBe(before);
  });
  it('views share a buffer and free it with the last view', () => {
    const bytes0 = memory().numBytes;
    const a = zeros([256]);
    const v = a.reshape([16, 16]);
    expect(memory().numBytes - bytes0).toBe(1024);
    a.dispose();
    expect(memory().numBytes - bytes0).toBe(1024);
    v.dispose();
    expect(memory().numBytes - bytes0).toBe(0);
  });
  it('a 100-step AdamW training loop in tidy ends with the live-tensor count it started with', async () => {
    const gen = new Generator(1);
    const w1 = randn([8, 16], { generator: gen, requiresGrad: true });
    const w2 = randn([3, 8], { generator: gen, requiresGrad: true });
    const x = randn([32, 16], { generator: gen });
    const y = tensor(Array.from({ length: 32 }, (_, i) => i % 3), { dtype: 'int32' });
    const opt = new AdamW([w1, w2], { lr: 1e-2, weightDecay: 0 });
    opt.step(); // allocates the moments once
    const start = memory();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 100; step++) {
      const loss = tidy(() => {
        opt.zeroGrad();
        const l = crossEntropy(linear(relu(linear(x, w1)), w2), y);
        l.backward();
        opt.step();
        return l.detach();
      });
      const v = await loss.item();
      loss.dispose();
      if (step === 0) first = v;
      last = v;
    }
    opt.zeroGrad();
    const end = memory();
    expect(end.numTensors).toBe(start.numTensors);
    expect(end.numBytes).toBe(start.numBytes);
    expect(last).toBeLessThan(first * 0.7);
  });
});

describe('random numbers', () => {
  it('Philox4x32-10 matches the Random123 known-answer vectors', () => {
    const o = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, o);
    expect([...o]).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, o);
    expect([...o]).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });
  it('seeded draws are reproducible and successive draws differ', async () => {
    const a = await rand([5], { generator: new Generator(3) }).data();
    const b = await rand([5], { generator: new Generator(3) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    const g = new Generator(3);
    const c1 = await rand([5], { generator: g }).data();
    const c2 = await rand([5], { generator: g }).data();
    expect(Array.from(c1)).not.toEqual(Array.from(c2));
  });
  it('normals have mean ≈ 0 and variance ≈ 1; uniforms lie in [0, 1)', async () => {
    const n = await randn([20000], { generator: new Generator(9) }).data();
    const m = n.reduce((s, v) => s + v, 0) / n.length;
    const v = n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
    const u = await rand([20000], { generator: new Generator(9) }).data();
    expect(u.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(await mean(tensor(u)).item() - 0.5)).toBeLessThan(0.02);
  });
  it('permutation and sampling without replacement (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.nat(), (n, seed) => {
        const p = new Generator(seed).permutation(n);
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const k = Math.floor(n / 2);
        const s = new Generator(seed).sampleWithoutReplacement(n, k);
        expect(new Set(s).size).toBe(k);
        expect(s.every((v) => v >= 0 && v < n)).toBe(true);
      }),
    );
    expect(() => new Generator(1).sampleWithoutReplacement(3, 4)).toThrow(TensorError);
  });
});
