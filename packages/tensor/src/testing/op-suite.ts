/**
 * The shared op suite: one set of tests that every backend runs (tfjs's `describeWithFlags`,
 * candle's `test_device!`). It checks, through the public API only,
 *  (a) the PyTorch goldens: every op case (forward and gradients of sum(out·w)), the AdamW
 *      trajectory, the warmup schedule and gradient clipping;
 *  (b) parity with the CPU backend on random inputs chosen to reach every kernel variant.
 * Each case also asserts that it leaks no tensors.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../index.js';
import { assertClose, type Tolerance } from './compare.js';
import { evaluate } from './evaluate.js';
import { fixtureCase, loadFixture, type TorchFixture } from './fixtures.js';
import { parityCases } from './parity-cases.js';

/** Options for {@link describeOpSuite}. */
export interface OpSuiteOptions {
  /** Tolerance against the PyTorch goldens (default rtol 1e-5, atol 1e-6). */
  golden?: Partial<Tolerance>;
  /** Tolerance against the CPU backend (default rtol 1e-4, atol 1e-5). */
  parity?: Partial<Tolerance>;
  /** Run the parity section (default: unless the backend is the CPU reference itself). */
  runParity?: boolean;
  /** Case names to skip, with the reason in a comment at the call site. */
  skip?: readonly string[];
  /** Fixture path (default `packages/tensor/test-data/torch-ops.json`). */
  fixture?: string | URL;
}

/** Registers the op suite for `backendName` with vitest. */
export function describeOpSuite(backendName: string, opts: OpSuiteOptions = {}): void {
  const golden: Tolerance = { rtol: 1e-5, atol: 1e-6, ...opts.golden };
  const parity: Tolerance = { rtol: 1e-4, atol: 1e-5, ...opts.parity };
  const skip = new Set(opts.skip ?? []);
  const fixture: TorchFixture = loadFixture(opts.fixture);
  const test = (name: string) => (skip.has(name) ? it.skip : it);

  describe(`op suite on ${backendName}: PyTorch goldens`, () => {
    for (const fc of fixture.cases) {
      test(fc.name)(`${fc.name} (${fc.op})`, async () => {
        const r = await evaluate(backendName, fixtureCase(fc));
        expect(r.shape).toEqual(fc.out.shape);
        assertClose(r.out, fc.out.values, golden, `${fc.name} forward`);
        fc.grads?.forEach((g, i) => {
          if (g === null) return;
          expect(r.grads[i], `${fc.name} gradient ${i} missing`).not.toBeNull();
          assertClose(r.grads[i]!, g, golden, `${fc.name} gradient of input ${i}`);
        });
      });
    }

    test('adamw')('AdamW trajectory (lr 0.3, wd 1e-5)', async () => {
      await T.setBackend(backendName);
      const f = fixture.adamw;
      const p = T.tensor(Float32Array.from(f.p0), { shape: f.shape, requiresGrad: true });
      const opt = new T.AdamW([p], { lr: f.lr, betas: f.betas, eps: f.eps, weightDecay: f.weight_decay });
      for (let s = 0; s < f.grads.length; s++) {
        p.grad = T.tensor(Float32Array.from(f.grads[s]!), { shape: f.shape });
        opt.step();
        opt.zeroGrad();
        assertClose(await p.data(), f.trajectory[s]!, golden, `AdamW parameter after step ${s + 1}`);
      }
      opt.dispose();
      p.dispose();
    });

    test('schedule')('linear warmup/decay schedule', () => {
      const f = fixture.schedule;
      f.steps.forEach((s, i) => {
        expect(T.linearWarmupDecay(s, f.base_lr, f.warmup, f.total)).toBeCloseTo(f.lrs[i]!, 12);
      });
    });

    test('clip')('clipGradNorm', async () => {
      await T.setBackend(backendName);
      const f = fixture.clip;
      const ps = f.grads.map((g) => {
        const p = T.zeros(g.shape, { requiresGrad: true });
        p.grad = T.tensor(Float32Array.from(g.values), { shape: g.shape });
        return p;
      });
      const norm = T.clipGradNorm(ps, f.max_norm);
      assertClose([await norm.item()], [f.total_norm], golden, 'total norm');
      for (let i = 0; i < ps.length; i++) assertClose(await ps[i]!.grad!.data(), f.clipped[i]!, golden, `clipped gradient ${i}`);
      norm.dispose();
      T.dispose(ps);
    });
  });

  const runParity = opts.runParity ?? backendName !== 'cpu';
  // The CPU backend is the reference: comparing it with itself proves nothing, so the block only
  // exists for other backends.
  if (runParity) describe(`op suite on ${backendName}: parity with cpu`, () => {
    for (const c of parityCases()) {
      test(c.name)(c.name, async () => {
        const ref = await evaluate('cpu', c);
        const got = await evaluate(backendName, c);
        const tol = { ...parity, ...c.tol };
        expect(got.shape).toEqual(ref.shape);
        assertClose(got.out, ref.out, tol, `${c.name} forward`);
        ref.grads.forEach((g, i) => {
          if (!g) return;
          expect(got.grads[i], `${c.name} gradient ${i} missing`).not.toBeNull();
          assertClose(got.grads[i]!, g, tol, `${c.name} gradient of input ${i}`);
        });
      });
    }

    test('random')('random streams match the CPU (uniform exactly, normal to 1e-5)', async () => {
      const draw = async (name: string) => {
        await T.setBackend(name);
        const g = new T.Generator(1234);
        const u = T.rand([1001], { generator: g });
        const n = T.randn([999], { generator: g });
        const out = [Float64Array.from(await u.data()), Float64Array.from(await n.data())] as const;
        T.dispose([u, n]);
        return out;
      };
      const [uc, nc] = await draw('cpu');
      const [ug, ng] = await draw(backendName);
      expect(Array.from(ug)).toEqual(Array.from(uc));
      assertClose(ng, nc, { rtol: 0, atol: 1e-5 }, 'normal samples');
    });
  });
}
