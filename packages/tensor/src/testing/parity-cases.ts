/**
 * Random-input cases for cross-backend parity: every op family, at shapes chosen to reach each
 * kernel variant (short and long rows, contiguous and strided reductions, every matmul variant
 * and transposition), plus NaN/tie/ignore-index edge cases. Inputs come from a fixed-seed
 * generator, so a failure reproduces exactly.
 */
import * as T from '../index.js';
import type { CaseInput, OpCase } from './evaluate.js';

/** Deterministic values in [lo, hi) (mulberry32), optionally rounded to multiples of `step`. */
export function values(n: number, seed: number, lo = -1, hi = 1, step = 0): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    const v = lo + (hi - lo) * u;
    out[i] = step ? Math.round(v / step) * step : v;
  }
  return out;
}

let seedCounter = 1;

function input(shape: number[], lo = -2, hi = 2, opts: { step?: number; requiresGrad?: boolean } = {}): CaseInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: values(n, seedCounter++ * 7919, lo, hi, opts.step ?? 0), requiresGrad: opts.requiresGrad ?? true };
}

function ints(shape: number[], lo: number, hi: number): { shape: number[]; values: Int32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Int32Array.from(values(n, seedCounter++ * 104729, lo, hi), (v) => Math.floor(v)) };
}

/** Shape of `run`'s output on the CPU, to size the upstream gradient `w`. */
function withW(c: Omit<OpCase, 'w'>, outSize: number): OpCase {
  return { ...c, w: values(outSize, seedCounter++ * 31, -1, 1) };
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The parity cases (fresh objects each call). */
export function parityCases(): OpCase[] {
  seedCounter = 1;
  const cases: OpCase[] = [];
  const unary: [string, (x: T.Tensor) => T.Tensor, number, number][] = [
    ['exp', T.exp, -6, 6],
    ['log', T.log, 0.01, 50],
    ['sqrt', T.sqrt, 0.01, 50],
    ['rsqrt', T.rsqrt, 0.01, 50],
    ['tanh', T.tanh, -6, 6],
    ['sigmoid', T.sigmoid, -12, 12],
    ['relu', T.relu, -2, 2],
    ['silu', T.silu, -12, 12],
    ['abs', T.abs, -2, 2],
    ['square', T.square, -3, 3],
    ['neg', T.neg, -3, 3],
    ['gelu', (x) => T.gelu(x), -7, 7],
    ['gelu_tanh', (x) => T.gelu(x, 'tanh'), -7, 7],
  ];
  for (const [name, f, lo, hi] of unary) {
    cases.push(withW({ name: `unary ${name}`, inputs: [input([7, 33], lo, hi)], run: ([x]) => f(x!) }, 7 * 33));
  }
  cases.push(withW({ name: 'tanh near zero', inputs: [input([64], -1e-3, 1e-3)], run: ([x]) => T.tanh(x!) }, 64));

  const binary: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, number[], number[], number, number][] = [
    ['add', T.add, [4, 1, 5], [3, 1], -2, 2],
    ['sub', T.sub, [2, 3, 4], [4], -2, 2],
    ['mul', T.mul, [5, 6], [5, 1], -2, 2],
    ['div', T.div, [3, 4], [1, 4], 0.5, 2],
    ['pow', T.pow, [3, 4], [4], 0.5, 2],
    ['maximum', T.maximum, [6, 7], [7], -2, 2],
    ['minimum', T.minimum, [6, 7], [6, 1], -2, 2],
  ];
  for (const [name, f, sa, sb, lo, hi] of binary) {
    const step = name === 'maximum' || name === 'minimum' ? 0.5 : 0; // ties decide the gradient
    const out = T.broadcastShapes(sa, sb);
    cases.push(withW({ name: `binary ${name} ${sa}×${sb}`, inputs: [input(sa, lo, hi, { step }), input(sb, lo, hi, { step })], run: ([a, b]) => f(a!, b!) }, size(out)));
  }
  cases.push(withW({ name: 'pow by a scalar', inputs: [input([10], -3, 3)], run: ([a]) => T.pow(a!, 3) }, 10));
  for (const [name, f] of [['eq', T.eq], ['ne', T.ne], ['lt', T.lt], ['le', T.le], ['gt', T.gt], ['ge', T.ge]] as const) {
    cases.push({
      name: `compare ${name}`,
      inputs: [input([5, 6], -1, 1, { step: 0.5, requiresGrad: false }), input([6], -1, 1, { step: 0.5, requiresGrad: false })],
      run: ([a, b]) => f(a!, b!),
    });
  }
  cases.push(withW({ name: 'where', inputs: [input([4, 5]), input([5])], run: ([a, b]) => T.where(T.gt(a!, 0), a!, b!) }, 20));
  cases.push(
    withW(
      { name: 'maskedFill broadcast', inputs: [input([3, 4, 5])], ints: { m: { ...ints([4, 1], 0, 2), dtype: 'bool' } }, run: ([x], i) => T.maskedFill(x!, i.m!, -1e9) },
      60,
    ),
  );
  cases.push(withW({ name: 'clamp', inputs: [input([40], -2, 2)], run: ([x]) => T.clamp(x!, -0.5, 1) }, 40));

  // Reductions: contiguous rows, strided columns, several axes, long rows (workgroup variant).
  cases.push(withW({ name: 'sum dim 0', inputs: [input([5, 7])], run: ([x]) => T.sum(x!, 0) }, 7));
  cases.push(withW({ name: 'sum dims [0, 2]', inputs: [input([3, 4, 5])], run: ([x]) => T.sum(x!, [0, 2]) }, 4));
  cases.push(withW({ name: 'sum all', inputs: [input([6, 9])], run: ([x]) => T.sum(x!) }, 1));
  cases.push(withW({ name: 'sum long rows', inputs: [input([3, 3000])], run: ([x]) => T.sum(x!, -1) }, 3));
  cases.push(withW({ name: 'sum long columns', inputs: [input([3000, 5])], run: ([x]) => T.sum(x!, 0) }, 5));
  cases.push(withW({ name: 'mean keepdim', inputs: [input([4, 6, 5])], run: ([x]) => T.mean(x!, 1, true) }, 20));
  cases.push(withW({ name: 'max with ties', inputs: [input([6, 9], -1, 1, { step: 0.5 })], run: ([x]) => T.max(x!, 1) }, 6));
  cases.push(withW({ name: 'max long rows', inputs: [input([4, 2500])], run: ([x]) => T.max(x!, 1, true) }, 4));
  cases.push({ name: 'argmax ties', inputs: [input([5, 8], -1, 1, { step: 0.5, requiresGrad: false })], run: ([x]) => T.argmax(x!, 1) });
  cases.push({ name: 'argmax rows of 8 (vec4 path)', inputs: [input([20, 8], -1, 1, { step: 0.5, requiresGrad: false })], run: ([x]) => T.argmax(x!, 1) });
  cases.push({ name: 'argmax long', inputs: [input([3, 4000], -1, 1, { requiresGrad: false })], run: ([x]) => T.argmax(x!, -1) });
  cases.push({ name: 'argmax dim 0', inputs: [input([40, 3], -1, 1, { step: 0.25, requiresGrad: false })], run: ([x]) => T.argmax(x!, 0) });

  // Matmul: every variant, transposed operands (through linear's backward), broadcast batches.
  const mm: [string, number[], number[], number[]][] = [
    ['2d odd', [37, 21], [21, 18], [37, 18]],
    ['2d by 4', [32, 16], [16, 24], [32, 24]],
    ['batched broadcast', [2, 1, 13, 9], [3, 9, 11], [2, 3, 13, 11]],
    ['vector', [9], [9, 5], [5]],
  ];
  for (const [name, sa, sb, so] of mm) {
    cases.push(withW({ name: `matmul ${name}`, inputs: [input(sa), input(sb)], run: ([a, b]) => T.matmul(a!, b!) }, size(so)));
  }
  for (let v = 0; v <= 5; v++) {
    const env = { TPV_MATMUL_VARIANT: String(v) };
    cases.push(withW({ name: `matmul variant ${v} odd`, env, inputs: [input([2, 1, 37, 21]), input([3, 21, 18])], run: ([a, b]) => T.matmul(a!, b!) }, 2 * 3 * 37 * 18));
    cases.push(withW({ name: `matmul variant ${v} by 4`, env, inputs: [input([2, 32, 16]), input([2, 16, 24])], run: ([a, b]) => T.matmul(a!, b!) }, 2 * 32 * 24));
    cases.push(
      withW({ name: `linear variant ${v} (x·Wᵀ + b)`, env, inputs: [input([12, 20]), input([28, 20]), input([28])], run: ([x, w, b]) => T.linear(x!, w!, b!) }, 12 * 28),
    );
  }
  cases.push(withW({ name: 'matmul split-K shape', inputs: [input([8, 2048], -0.5, 0.5), input([2048, 8], -0.5, 0.5)], run: ([a, b]) => T.matmul(a!, b!), tol: { atol: 1e-4 } }, 64));

  // Fused row kernels.
  cases.push(withW({ name: 'softmax short rows', inputs: [input([5, 7], -5, 5)], run: ([x]) => T.softmax(x!, -1) }, 35));
  cases.push(withW({ name: 'softmax long rows', inputs: [input([3, 3000], -20, 20)], run: ([x]) => T.softmax(x!, -1) }, 9000));
  cases.push(withW({ name: 'softmax dim 0', inputs: [input([6, 4], -5, 5)], run: ([x]) => T.softmax(x!, 0) }, 24));
  cases.push(withW({ name: 'softmax rows of 16 (vec4 path)', inputs: [input([20, 16], -5, 5)], run: ([x]) => T.softmax(x!, -1) }, 320));
  cases.push(withW({ name: 'logSoftmax rows of 8 (vec4 path)', inputs: [input([20, 8], -5, 5)], run: ([x]) => T.logSoftmax(x!, -1) }, 160));
  const t12 = ints([20], 0, 12);
  t12.values[3] = -100;
  cases.push(withW({ name: 'crossEntropy 20×12 (vec4 path)', inputs: [input([20, 12], -4, 4)], ints: { t: t12 }, run: ([x], i) => T.crossEntropy(x!, i.t!) }, 1));
  cases.push(withW({ name: 'logSoftmax', inputs: [input([4, 130], -30, 30)], run: ([x]) => T.logSoftmax(x!, -1) }, 520));
  const tgt = ints([6], 0, 1000);
  tgt.values[2] = -100;
  cases.push(withW({ name: 'crossEntropy vocab', inputs: [input([6, 1000], -8, 8)], ints: { t: tgt }, run: ([x], i) => T.crossEntropy(x!, i.t!) }, 1));
  cases.push(
    withW(
      { name: 'crossEntropy none', inputs: [input([2, 3, 9], -3, 3)], ints: { t: { shape: [2, 3], values: Int32Array.from([0, 8, -100, 4, 4, 1]) } }, run: ([x], i) => T.crossEntropy(x!, i.t!, { reduction: 'none' }) },
      6,
    ),
  );
  cases.push(withW({ name: 'layerNorm', inputs: [input([6, 40]), input([40]), input([40])], run: ([x, w, b]) => T.layerNorm(x!, w!, b!) }, 240));
  cases.push(withW({ name: 'rmsNorm', inputs: [input([2, 5, 64]), input([64])], run: ([x, w]) => T.rmsNorm(x!, w!) }, 640));
  // Fused RMSNorm: long rows (workgroup per row on lavapipe too), rows of 1, frozen weight.
  cases.push(withW({ name: 'rmsNorm long rows', inputs: [input([3, 512]), input([512])], run: ([x, w]) => T.rmsNorm(x!, w!, 1e-6) }, 1536));
  cases.push(withW({ name: 'rmsNorm rows of 1', inputs: [input([9, 1], 0.5, 2), input([1])], run: ([x, w]) => T.rmsNorm(x!, w!, 0.1) }, 9));
  cases.push(
    withW({ name: 'rmsNorm frozen weight', inputs: [input([70, 24]), input([24], -2, 2, { requiresGrad: false })], run: ([x, w]) => T.rmsNorm(x!, w!) }, 70 * 24),
  );
  // Fused softmax(scores + bias): T5's position bias and mask shapes, broadcast and size-1 dims.
  cases.push(
    withW({ name: 'softmax + position bias [1, H, Lq, Lk]', inputs: [input([2, 3, 5, 7], -4, 4), input([1, 3, 5, 7], -4, 4)], run: ([x, b]) => T.softmax(x!, -1, { bias: b! }) }, 210),
  );
  cases.push(
    withW({ name: 'softmax + mask [B, 1, 1, Lk]', inputs: [input([2, 3, 4, 9], -4, 4), input([2, 1, 1, 9], -4, 4)], run: ([x, b]) => T.softmax(x!, -1, { bias: b! }) }, 216),
  );
  cases.push(withW({ name: 'softmax + bias long rows', inputs: [input([3, 300], -8, 8), input([300], -8, 8)], run: ([x, b]) => T.softmax(x!, -1, { bias: b! }) }, 900));
  cases.push(
    withW({ name: 'softmax + column bias [R, 1] (rows of 16)', inputs: [input([20, 16], -5, 5), input([20, 1], -5, 5)], run: ([x, b]) => T.softmax(x!, -1, { bias: b! }) }, 320),
  );
  cases.push(
    withW({ name: 'logSoftmax + bias', inputs: [input([4, 130], -30, 30), input([1, 130], -5, 5, { requiresGrad: false })], run: ([x, b]) => T.logSoftmax(x!, -1, { bias: b! }) }, 520),
  );

  // Data movement.
  cases.push(withW({ name: 'embedding repeats', inputs: [input([50, 8])], ints: { ids: ints([3, 7], 0, 5) }, run: ([w], i) => T.embedding(w!, i.ids!) }, 168));
  cases.push(withW({ name: 'cat dim 1', inputs: [input([2, 3, 4]), input([2, 1, 4]), input([2, 5, 4])], run: (xs) => T.cat(xs, 1) }, 72));
  cases.push(withW({ name: 'narrow', inputs: [input([5, 9])], run: ([x]) => T.narrow(x!, 1, 2, 5) }, 25));
  cases.push(withW({ name: 'permute 4-d', inputs: [input([2, 3, 4, 5])], run: ([x]) => T.permute(x!, [3, 1, 0, 2]) }, 120));
  cases.push(withW({ name: 'expand', inputs: [input([3, 1, 4])], run: ([x]) => T.expand(x!, [2, 3, 5, 4]) }, 120));

  // Integer and boolean paths (no gradients).
  cases.push({ name: 'int add', inputs: [], ints: { a: ints([4, 5], -50, 50), b: ints([5], -50, 50) }, run: (_x, i) => T.add(i.a!, i.b!) });
  cases.push({ name: 'bool sum', inputs: [input([6, 7], -1, 1, { requiresGrad: false })], run: ([x]) => T.sum(T.gt(x!, 0), 1) });
  cases.push({ name: 'cast to int32', inputs: [input([20], -9, 9, { requiresGrad: false })], run: ([x]) => T.cast(x!, 'int32') });
  cases.push({ name: 'logicalNot', inputs: [], ints: { m: { ...ints([9], 0, 2), dtype: 'bool' } }, run: (_x, i) => T.logicalNot(i.m!) });
  cases.push({ name: 'dropout (shared stream)', inputs: [input([200], -1, 1, { requiresGrad: false })], run: ([x]) => T.dropout(x!, 0.3, { training: true, generator: new T.Generator(7) }) });
  return cases;
}
