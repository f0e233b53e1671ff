/**
 * Runs one op case on a named backend through the public API and returns plain arrays: the
 * forward value and the gradient of `sum(out · w)` with respect to every input that requires
 * grad. Every tensor the case creates is disposed again, and the live-tensor count must return
 * to where it started, so each case is also a leak test of the op's forward and backward.
 */
import * as T from '../index.js';

/** A float input of a case. */
export interface CaseInput {
  shape: number[];
  values: ArrayLike<number>;
  /** Whether to compute its gradient (default true). */
  requiresGrad?: boolean;
}

/** An integer / boolean input of a case (targets, ids, masks). */
export interface CaseInt {
  shape: number[];
  values: ArrayLike<number>;
  dtype?: 'int32' | 'bool';
}

/** An op case: inputs, integer inputs, and the op as a function of the created tensors. */
export interface OpCase {
  name: string;
  inputs: CaseInput[];
  ints?: Record<string, CaseInt>;
  run: (xs: T.Tensor[], ints: Record<string, T.Tensor>) => T.Tensor;
  /** Upstream weights `w` for the gradient (same size as the output); no backward when absent. */
  w?: ArrayLike<number>;
  /** Environment variables set while the case runs (e.g. `TPV_MATMUL_VARIANT`). */
  env?: Record<string, string>;
  /** Tolerance override for this case. */
  tol?: { rtol?: number; atol?: number };
}

/** What {@link evaluate} returns. */
export interface CaseResult {
  out: Float64Array;
  shape: number[];
  grads: (Float64Array | null)[];
}

/** Evaluates a case on `backendName` (made current for the duration). */
export async function evaluate(backendName: string, c: OpCase): Promise<CaseResult> {
  await T.setBackend(backendName);
  const before = T.memory().numTensors;
  const xs = c.inputs.map((i) =>
    T.tensor(Float32Array.from(i.values), { shape: i.shape, requiresGrad: i.requiresGrad ?? true }),
  );
  const ints: Record<string, T.Tensor> = {};
  for (const [k, v] of Object.entries(c.ints ?? {})) {
    const dtype = v.dtype ?? 'int32';
    const data = dtype === 'bool' ? Uint8Array.from(v.values) : Int32Array.from(v.values);
    ints[k] = T.tensor(data, { shape: v.shape, dtype });
  }
  let out: T.Tensor | undefined;
  let ok = false;
  const saved = Object.fromEntries(Object.keys(c.env ?? {}).map((k) => [k, process.env[k]]));
  Object.assign(process.env, c.env ?? {});
  try {
    out = T.tidy(() => {
      const y = c.run(xs, ints);
      if (c.w && y.requiresGrad) {
        const w = T.tensor(Float32Array.from(c.w), { shape: [...y.shape] });
        T.sum(T.mul(y.dtype === 'float32' ? y : T.cast(y, 'float32'), w)).backward();
      }
      return y;
    });
    const data = Float64Array.from(await out.data());
    const grads = await Promise.all(
      xs.map(async (x) => (x.grad ? Float64Array.from(await x.grad.data()) : null)),
    );
    ok = true;
    return { out: data, shape: [...out.shape], grads };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    out?.dispose();
    for (const x of xs) x.dispose();
    for (const t of Object.values(ints)) t.dispose();
    const leaked = T.memory().numTensors - before;
    // Only on success: a failing op may legitimately strand tensors, and its error matters more.
    if (ok && leaked !== 0) throw new Error(`case ${c.name} on ${backendName} leaked ${leaked} tensor(s)`);
  }
}
