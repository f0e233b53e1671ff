import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, Generator, type Tensor, gradCheck, memory, mul, randn, sum, tensor, tidy } from '@tpvjs/tensor';
import { T5ForConditionalGeneration, T5Tokenizer, parseT5Config } from '@tpvjs/t5';
import { AttemptPrompt, attemptInstancePrompts } from './attempt.js';
import { attemptForward } from './attempt-forward.js';

const SPIECE = fileURLToPath(new URL('../../../t5/test-data/tokenizer/spiece.model', import.meta.url));

// Deterministic values in [-1, 1) so the max-pools have well-separated winners (finite differences
// across a tie would be meaningless).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
const randArr = (n: number, r: () => number) => Float64Array.from({ length: n }, r);

/** Plain float64 reference of spec §9's forward, written independently of the tensor ops. */
function reference(
  X: Float64Array, B: number, Lin: number, d: number,
  S: Float64Array[], P: Float64Array, L: number,
  wDown: Float64Array, wUp: Float64Array, H: number, gamma: Float64Array, beta: Float64Array, T: number, eps = 1e-5,
): Float64Array {
  const C = [...S, P];
  const keys = C.map((c) => Array.from({ length: d }, (_, k) => Math.max(...Array.from({ length: L }, (_, r) => c[r * d + k]!))));
  const out = new Float64Array(B * L * d);
  for (let b = 0; b < B; b++) {
    const x = Array.from({ length: d }, (_, k) => Math.max(...Array.from({ length: Lin }, (_, t) => X[(b * Lin + t) * d + k]!)));
    const z = Array.from({ length: H }, (_, i) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += wDown[i * d + k]! * x[k]!;
      return s / (1 + Math.exp(-s)); // SiLU
    });
    const u = Array.from({ length: d }, (_, k) => {
      let s = 0;
      for (let i = 0; i < H; i++) s += wUp[k * H + i]! * z[i]!;
      return s;
    });
    const mu = u.reduce((a, v) => a + v, 0) / d;
    const vr = u.reduce((a, v) => a + (v - mu) ** 2, 0) / d;
    const h = u.map((v, k) => ((v - mu) / Math.sqrt(vr + eps)) * gamma[k]! + beta[k]!);
    const logits = keys.map((c) => c.reduce((a, v, k) => a + v * h[k]!, 0) / T);
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m));
    const z0 = e.reduce((a, v) => a + v, 0);
    const a = e.map((v) => v / z0);
    for (let i = 0; i < L * d; i++) {
      let s = P[i]!;
      for (let j = 0; j < C.length; j++) s += a[j]! * C[j]![i]!;
      out[b * L * d + i] = s;
    }
  }
  return out;
}

const f64 = (data: Float64Array, shape: number[]) => tensor(data, { shape, dtype: 'float64' });

describe('ATTEMPT instance prompts', () => {
  const B = 2, Lin = 3, d = 4, L = 3, m = 2, H = 5;

  it('match a plain float64 hand computation (free function, sharp temperature)', () => {
    const r = lcg(7);
    const X = randArr(B * Lin * d, r);
    const S = [randArr(L * d, r), randArr(L * d, r)];
    const P = randArr(L * d, r);
    const wDown = randArr(H * d, r), wUp = randArr(d * H, r), gamma = randArr(d, r), beta = randArr(d, r);
    // A small T makes the attention weights far from uniform, so a wrong index would show.
    const T = 0.3;
    const want = reference(X, B, Lin, d, S, P, L, wDown, wUp, H, gamma, beta, T);
    const got = tidy(() =>
      attemptInstancePrompts(f64(X, [B, Lin, d]), S.map((s) => f64(s, [L, d])), f64(P, [L, d]), {
        wDown: f64(wDown, [H, d]), wUp: f64(wUp, [d, H]), gamma: f64(gamma, [d]), beta: f64(beta, [d]),
      }, T).dataSync(),
    );
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
  });

  it('the class initialises like §9 and its instancePrompts match the hand computation', () => {
    const r = lcg(11);
    const S = [randArr(L * d, r), randArr(L * d, r)];
    const X = randArr(B * Lin * d, r);
    const before = memory().numTensors;
    const srcT = S.map((s) => f64(s, [L, d]));
    const p = new AttemptPrompt({ sources: srcT, hidden: H, numTargets: 2, generator: new Generator(5) });
    srcT.forEach((t) => t.dispose());
    expect(p.temperature).toBe(2087);
    expect(p.targets).toHaveLength(2);
    for (const t of p.targets) expect(Array.from(t.dataSync())).toEqual(Array.from(S[0]!));
    const a = p.attention;
    expect(a.wDown.shape).toEqual([H, d]);
    expect(a.wUp.shape).toEqual([d, H]);
    for (const v of a.wDown.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(d));
    for (const v of a.wUp.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(H));
    expect(Array.from(a.gamma.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(a.beta.dataSync())).toEqual([0, 0, 0, 0]);
    expect(p.parameters()).toEqual([...p.targets, a.wDown, a.wUp, a.gamma, a.beta]);
    // Same seed → same init.
    const q = new AttemptPrompt({ sources: p.sources, hidden: H, generator: new Generator(5) });
    expect(Array.from(q.attention.wUp.dataSync())).toEqual(Array.from(a.wUp.dataSync()));
    q.dispose();
    const want = reference(X, B, Lin, d, S, S[0]!, L, a.wDown.dataSync() as Float64Array, a.wUp.dataSync() as Float64Array, H,
      new Float64Array(d).fill(1), new Float64Array(d), 2087);
    const got = tidy(() => p.instancePrompts(f64(X, [B, Lin, d]), 1).dataSync());
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
    expect(() => tidy(() => p.instancePrompts(f64(X, [B, Lin, d]), 2))).toThrow(/out of range/);
    p.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('has correct float64 gradients w.r.t. P, W_down, W_up, γ, β; the sources get none', () => {
    const r = lcg(3);
    const X = randArr(B * Lin * d, r);
    const S = [randArr(L * d, r), randArr(L * d, r)];
    const inputs = [
      { data: randArr(L * d, r), shape: [L, d] },
      { data: randArr(H * d, r), shape: [H, d] },
      { data: randArr(d * H, r), shape: [d, H] },
      { data: randArr(d, r), shape: [d] },
      { data: randArr(d, r), shape: [d] },
    ];
    const res = gradCheck(
      (P, wDown, wUp, gamma, beta) =>
        attemptInstancePrompts(f64(X, [B, Lin, d]), S.map((s) => f64(s, [L, d])), P!, { wDown: wDown!, wUp: wUp!, gamma: gamma!, beta: beta! }, 0.5),
      inputs,
    );
    expect(res.ok, res.worst).toBe(true);

    const srcT = S.map((s) => f64(s, [L, d]));
    const p = new AttemptPrompt({ sources: srcT, hidden: H });
    srcT.forEach((t) => t.dispose());
    tidy(() => sum(mul(p.instancePrompts(f64(X, [B, Lin, d])), p.instancePrompts(f64(X, [B, Lin, d])))).backward());
    for (const s of p.sources) {
      expect(s.requiresGrad).toBe(false);
      expect(s.grad).toBeNull();
    }
    for (const t of p.parameters()) expect(t.grad).not.toBeNull();
    p.dispose();
    expect(m).toBe(2);
  });
});

describe('ATTEMPT training on a tiny T5', () => {
  let model: T5ForConditionalGeneration;
  let tok: T5Tokenizer;
  beforeAll(() => {
    const config = parseT5Config({
      vocab_size: 32128, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 1, num_heads: 2, dropout_rate: 0.1, model_type: 't5',
    });
    model = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(3) });
    // Deterministic losses: dropout off (the loss comparison is what the test is about).
    model.eval();
    tok = T5Tokenizer.fromFile(SPIECE);
  });
  afterAll(() => model?.dispose());

  it('AdamW (lr 0.3, wd 0.01) lowers the loss of a fixed batch, leaves live tensors flat and the model frozen', async () => {
    const src = tok.encodeBatch(['sst2 sentence: a great movie', 'sst2 sentence: dull and slow', 'sst2 sentence: loved it', 'sst2 sentence: awful'], {
      maxLength: 12, truncation: true, padding: 'max_length',
    });
    const tgt = tok.encodeBatch(['positive', 'negative', 'positive', 'negative'], { maxLength: 4, truncation: true, padding: 'max_length' });
    const batch = {
      inputIds: tensor(src.inputIds, { dtype: 'int32' }),
      attentionMask: tensor(src.attentionMask, { dtype: 'int32' }),
      labels: tensor(tgt.inputIds.map((row, i) => row.map((id, j) => (tgt.attentionMask[i]![j] ? id : -100))), { dtype: 'int32' }),
    };
    const g = new Generator(9);
    const sources = [randn([8, 16], { generator: g }), randn([8, 16], { generator: g })];
    const prompt = new AttemptPrompt({ sources, generator: new Generator(1) });
    sources.forEach((s) => s.dispose());
    const before = memory().numTensors;
    const opt = new AdamW(prompt.parameters(), { lr: 0.3, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 });
    const lossOf = async (): Promise<number> => {
      const t = tidy(() => attemptForward(model, prompt, batch, 4).detach());
      const v = await t.item();
      t.dispose();
      return v;
    };
    const step = async (): Promise<number> => {
      const l = tidy(() => {
        opt.zeroGrad();
        const loss = attemptForward(model, prompt, batch, 4);
        loss.backward();
        opt.step();
        return loss.detach();
      });
      const v = await l.item();
      l.dispose();
      return v;
    };
    const initial = await lossOf();
    await step();
    const afterFirst = memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 7; i++) losses.push(await step());
    expect(memory().numTensors).toBe(afterFirst);
    const final = await lossOf();
    expect(Number.isFinite(initial)).toBe(true);
    // A random 32k-vocab model starts near ln(32128) ≈ 10.4 and a 16-wide prompt only moves it so far;
    // a steady decline by a clear margin is the signal that the gradients reach the right tensors.
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(final).toBeLessThan(initial - 0.5);
    for (const p of model.parameters()) expect(p.grad).toBeNull();
    for (const s of prompt.sources) expect(s.grad).toBeNull();
    opt.dispose();
    for (const p of prompt.parameters()) p.zeroGrad();
    expect(memory().numTensors).toBe(before);
    expect(() => tidy(() => attemptForward(model, prompt, batch, 9))).toThrow(/numVirtualTokens/);
    prompt.dispose();
    Object.values(batch).forEach((t: Tensor) => t.dispose());
  });
});
