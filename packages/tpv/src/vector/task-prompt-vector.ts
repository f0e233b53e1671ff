/**
 * Task prompt vectors (paper eqs. 5–7): τ = θ_tuned − θ_origin for a soft-prompt table, with the
 * arithmetic, application and cosine similarity the paper uses.
 *
 * ## Storage, and why the laws are exact
 *
 * τ is stored per element as a normalised **double-double** pair `(hi, lo)` (two `Float64Array`s) with
 * `hi + lo = t − o` exactly, where `t` and `o` are the float32 tuned and origin values:
 *
 * - `hi = fl64(t − o)` and `lo = (t − o) − hi` come from TwoSum, which is error-free for any two
 *   float64 numbers whose sum does not overflow; float32 inputs (|x| < 2^128) never overflow float64.
 * - A single float32 or float64 τ is **not** enough. float32(t − o) + o ≠ t in general (the difference
 *   of two float32 can need up to 277 bits), and even float64 fails: for t = 2^−100, o = 1, fl64(t − o)
 *   = −1, so o + τ = 0 ≠ t. The pair keeps the bits float64 drops.
 *
 * `applyTo(o, 1)` computes `r = fl64(fl64(o + hi) + lo)` and rounds once to float32. **Theorem:** for
 * finite float32 `t`, `o` and the pair above, `fround(r) = t`. Proof (u = 2^−53; every quantity is a
 * multiple of 2^−149 below 2^130, so float64 never underflows or overflows here and each operation has
 * relative error ≤ u):
 *
 * 1. If `t − o` is a float64, then `lo = 0`, `hi = t − o`, `o + hi = t` is exact, and `r = t`.
 * 2. Otherwise the exponents of `t` and `o` differ by ≥ 29 (two float32 values closer than that differ
 *    by at most 24 + 29 bits, which fit in float64's 53).
 *    a. |o| < 2^−28·|t|: then |lo| ≤ u·|t − o| ≤ u(1 + 2^−28)|t|, `fl(o + hi) + lo = t + ε₁(t − lo)` and
 *       |r − t| ≤ 2u|t|(1 + 2u) < 2^−51|t|, far inside half a float32 spacing around t (≥ 2^−26|t|, or
 *       2^−150 for subnormals), so rounding to float32 returns t.
 *    b. |t| < 2^−28·|o|: `hi` and `−o` are within a factor 2 of each other, so `o + hi` is exact by
 *       Sterbenz's lemma and equals `t − lo`; then `(t − lo) + lo = t` is a float64, so `r = t`.
 *
 * Signed zeros: a sum that cancels to zero is +0 in IEEE arithmetic, so `o + τ` can never produce −0
 * from a non-zero origin. The sign is carried by the zero `lo`: when the exact difference is
 * representable, `lo` is a zero whose sign is the sign of `t` if `t` is zero (and +0 otherwise), and an
 * exactly-zero result of `applyTo` takes the sign of `λ·lo`. In the proof's cases 1 and 2b with `t = ±0`
 * this is exactly the sign of `t`; a non-zero `t` never yields a zero `r`.
 *
 * The other laws follow from the representation: `neg` negates both halves (exact, an involution);
 * `add` uses `AccurateDWPlusDW` (error ≤ 3u² relative, ~106 bits) on operands put in a canonical
 * order, so `a + b` and `b + a` are bit-identical; `(a + b) − b` is `a` up to ~2^−102 relative;
 * `scale(k)` is `DWTimesFP` (≤ 2u²). `applyTo` for other λ or other origins evaluates θ + λτ in float64
 * and rounds once (the PyTorch reference rounds twice, in float32, so results can differ by one ulp).
 *
 * @module
 */
import { ddAddInto, ddDivInto, ddMulInto, pair, twoSumInto } from './double-double.js';
import { VectorError } from './errors.js';
import { cloneProvenance, freshProvenance, type JsonValue, type Provenance } from './provenance.js';
import {
  addTasks,
  formatTasks,
  negateTasks,
  parseTasks,
  sumTasks,
  tasksEqual,
  tasksToRecord,
  type TaskCounts,
  type TaskInput,
} from './task-set.js';

/** A prompt table with its shape, e.g. `{ data, shape: [100, 768] }` for PEFT's t5-base table. */
export interface PromptTable {
  /** Row-major float32 values. */
  readonly data: Float32Array;
  /** The table's shape; the product must equal `data.length`. */
  readonly shape: readonly number[];
}

/** A prompt given either as a bare float32 array (its shape is the vector's) or with its shape. */
export type PromptInput = Float32Array | PromptTable;

/** Anything cosine similarity accepts: a vector, a prompt, or raw float64 values with a shape. */
export type SimilarityItem =
  | TaskPromptVector
  | Float32Array
  | Float64Array
  | PromptTable
  | { readonly data: Float64Array; readonly shape: readonly number[] };

/** Metadata for {@link TaskPromptVector.fromPrompts}. */
export interface VectorMeta {
  /** The task label: an expression (`"mnli_text"`, `"+ a − b"`), a record of counts or a map. */
  readonly tasks: TaskInput;
  /** The model the prompt belongs to (`"t5-base"`); vectors of different models do not mix. */
  readonly modelId: string;
  /** Which initialisation θ_origin is (`"origin_3"`), when known. */
  readonly originId?: string | undefined;
  /** Extra provenance fields (source files, run ids); merged over the standard ones. */
  readonly provenance?: Readonly<Record<string, unknown>> | undefined;
  /** The table shape, required when `tuned` and `origin` are bare `Float32Array`s. */
  readonly shape?: readonly number[] | undefined;
}

/** Everything needed to rebuild a vector from its stored parts (see {@link TaskPromptVector.fromParts}). */
export interface VectorParts {
  /** High halves, `fl64(τ)`. */
  readonly hi: Float64Array;
  /** Low halves, `τ − hi` (all +0 when omitted). Must satisfy `hi + lo === hi` elementwise. */
  readonly lo?: Float64Array | undefined;
  /** Table shape. */
  readonly shape: readonly number[];
  /** Task label. */
  readonly tasks: TaskInput;
  /** Model id. */
  readonly modelId: string;
  /** Origin id, if any. */
  readonly originId?: string | undefined;
  /** Provenance record (copied as is; no fields are added). */
  readonly provenance?: Readonly<Record<string, unknown>> | undefined;
}

/** Options of operations that combine two operands. */
export interface CompatOptions {
  /**
   * Combine operands of different model ids, or of different shapes with the same number of elements
   * (the result keeps the left operand's model id and shape). Lengths must always agree.
   */
  readonly force?: boolean | undefined;
}

/** Options of {@link TaskPromptVector.sum}. */
export interface SumOptions extends CompatOptions {
  /** Shape of the result; required for the empty sum, checked against the inputs otherwise. */
  readonly shape?: readonly number[] | undefined;
  /** Model id of the result; used for the empty sum (default `"unknown"`), checked otherwise. */
  readonly modelId?: string | undefined;
}

/** Options of {@link TaskPromptVector.approxEquals}. */
export interface ApproxOptions {
  /** Relative tolerance against max(|a|, |b|) per element (default 1e−12). */
  readonly rtol?: number;
  /** Absolute tolerance per element (default 0). */
  readonly atol?: number;
  /** Also compare tasks, model id and origin id (default true). */
  readonly metadata?: boolean;
}

/** Largest table this module accepts (2^28 elements ≈ 4 GiB of pairs); larger is surely a mistake. */
export const MAX_VECTOR_ELEMENTS = 2 ** 28;

/**
 * Validates a shape: 1–8 dimensions of positive safe integers whose product is at most `maxElements`.
 *
 * @param shape - the candidate.
 * @param what - name used in messages.
 * @param maxElements - upper bound on the product.
 * @returns the number of elements.
 * @throws {@link VectorError} `BAD_ARGUMENT`.
 */
export function checkShape(shape: unknown, what = 'shape', maxElements = MAX_VECTOR_ELEMENTS): number {
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 8) {
    throw new VectorError('BAD_ARGUMENT', `${what} must be an array of 1 to 8 dimensions, got ${JSON.stringify(shape)}`);
  }
  let n = 1;
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw new VectorError('BAD_ARGUMENT', `${what} dimensions must be positive integers, got ${JSON.stringify(shape)}`);
    }
    n *= d;
    if (n > maxElements) throw new VectorError('BAD_ARGUMENT', `${what} ${JSON.stringify(shape)} has more than ${maxElements} elements`);
  }
  return n;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function checkModelId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new VectorError('BAD_ARGUMENT', `modelId must be a non-empty string of at most 1024 characters, got ${JSON.stringify(id)}`);
  }
  return id;
}

function checkOriginId(id: unknown): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new VectorError('BAD_ARGUMENT', `originId must be a non-empty string of at most 1024 characters, got ${JSON.stringify(id)}`);
  }
  return id;
}

/** Resolves a prompt argument to data and shape, checking type, shape and finiteness. */
function toTable(p: PromptInput, fallbackShape: readonly number[] | undefined, what: string): { data: Float32Array; shape: readonly number[] } {
  let data: unknown;
  let shape: readonly number[] | undefined;
  if (p instanceof Float32Array) {
    data = p;
    shape = fallbackShape;
  } else if (p !== null && typeof p === 'object' && 'data' in p) {
    data = p.data;
    shape = p.shape;
  }
  if (!(data instanceof Float32Array)) throw new VectorError('BAD_ARGUMENT', `${what} must be a Float32Array or { data: Float32Array, shape }`);
  if (shape === undefined) throw new VectorError('BAD_ARGUMENT', `${what} is a bare Float32Array: pass meta.shape (e.g. [100, 768])`);
  const n = checkShape(shape, `${what} shape`);
  if (n !== data.length) {
    throw new VectorError('SHAPE_MISMATCH', `${what} shape ${fmtShape(shape)} has ${n} elements but the data has ${data.length}`, { shape, length: data.length });
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new VectorError('NON_FINITE', `${what}[${i}] is ${data[i]}`, { index: i });
  }
  return { data, shape: Object.freeze([...shape]) };
}

/** Exponent clamp so that 2^−e stays a normal, finite float64. */
function powerOfTwoScale(maxAbs: number): number {
  if (maxAbs === 0 || !Number.isFinite(maxAbs)) return 1;
  const e = Math.min(1000, Math.max(-1000, Math.floor(Math.log2(maxAbs))));
  return 2 ** -e;
}

/** float32 bit helpers for correct rounding of a pair to float32. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 neighbour of float32 `r` in the direction of `dir` (±1). */
function f32Step(r: number, dir: number): number {
  if (r === 0) {
    f32[0] = dir > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
    return f32[0]!;
  }
  f32[0] = r;
  // Moving away from zero increments the magnitude bits; towards zero decrements them.
  u32[0] = (r > 0) === (dir > 0) ? u32[0]! + 1 : u32[0]! - 1;
  return f32[0]!;
}

/** Round the exact value hi + lo (normalised pair) to the nearest float32, ties to even. */
function pairToFloat32(hi: number, lo: number): number {
  const r = Math.fround(hi);
  if (lo === 0 || r === hi || !Number.isFinite(r)) return r;
  const d = hi - r; // exact: r is hi rounded to 24 bits, so the difference fits in float64
  const other = f32Step(r, d > 0 ? 1 : -1);
  // Only an exact float32 midpoint can be decided differently by lo: move towards lo's side.
  if (other - hi === d && (lo > 0) === (d > 0)) return other;
  return r;
}

let readParts: (v: TaskPromptVector) => { hi: Float64Array; lo: Float64Array };

/**
 * A task prompt vector τ = θ_tuned − θ_origin with its metadata. Immutable: every operation returns a
 * new vector. See the module documentation for the storage (exact double-double pairs) and the proof
 * that `fromPrompts(t, o).applyTo(o, 1)` returns `t` bit for bit.
 */
export class TaskPromptVector {
  readonly #hi: Float64Array;
  readonly #lo: Float64Array;
  /** Table shape, e.g. `[100, 768]`. */
  readonly shape: readonly number[];
  /** Signed task multiset, e.g. {mnli_text: 1, sst2_text: −1}. */
  readonly tasks: TaskCounts;
  /** Model the vector belongs to, e.g. `"t5-base"`. */
  readonly modelId: string;
  /** Origin (initialisation) id, when all contributions share one. */
  readonly originId: string | undefined;
  /** Free-form provenance record (frozen). Not part of equality. */
  readonly provenance: Provenance;

  static {
    readParts = (v) => ({ hi: v.#hi, lo: v.#lo });
  }

  private constructor(
    hi: Float64Array,
    lo: Float64Array,
    shape: readonly number[],
    tasks: TaskCounts,
    modelId: string,
    originId: string | undefined,
    provenance: Provenance,
  ) {
    this.#hi = hi;
    this.#lo = lo;
    this.shape = shape;
    this.tasks = tasks;
    this.modelId = modelId;
    this.originId = originId;
    this.provenance = provenance;
  }

  /**
   * τ = tuned − origin (eq. 5), stored exactly (see the module documentation).
   *
   * @param tuned - θ_tuned, a float32 table (with its shape, or a bare array plus `meta.shape`).
   * @param origin - θ_origin, same shape.
   * @param meta - tasks, model id, origin id, extra provenance.
   * @throws {@link VectorError} `SHAPE_MISMATCH` when the shapes differ, `NON_FINITE` for NaN/±Infinity
   *   inputs, `BAD_ARGUMENT`/`BAD_TASKS` for bad metadata.
   */
  static fromPrompts(tuned: PromptInput, origin: PromptInput, meta: VectorMeta): TaskPromptVector {
    const t = toTable(tuned, meta.shape, 'tuned');
    const o = toTable(origin, meta.shape ?? t.shape, 'origin');
    if (!sameShape(t.shape, o.shape)) {
      throw new VectorError('SHAPE_MISMATCH', `tuned ${fmtShape(t.shape)} and origin ${fmtShape(o.shape)} differ`, { tuned: t.shape, origin: o.shape });
    }
    const tasks = parseTasks(meta.tasks);
    const modelId = checkModelId(meta.modelId);
    const originId = checkOriginId(meta.originId);
    const provenance = freshProvenance({ op: 'fromPrompts', ...(meta.provenance ?? {}) });
    const n = t.data.length;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    const s = pair();
    for (let i = 0; i < n; i++) {
      const ti = t.data[i]!;
      twoSumInto(s, ti, -o.data[i]!);
      hi[i] = s[0]!;
      // A zero lo carries the sign of a zero t (see the module documentation); otherwise +0.
      lo[i] = s[1] !== 0 ? s[1]! : Object.is(ti, -0) ? -0 : 0;
    }
    return new TaskPromptVector(hi, lo, t.shape, tasks, modelId, originId, provenance);
  }

  /**
   * Rebuilds a vector from stored parts (a `.tpv` file, a merge). Arrays are copied.
   *
   * @param parts - halves, shape and metadata.
   * @throws {@link VectorError} `BAD_ARGUMENT` when lengths disagree or a pair is not normalised
   *   (`hi + lo !== hi`), `NON_FINITE` for NaN/±Infinity.
   */
  static fromParts(parts: VectorParts): TaskPromptVector {
    const n = checkShape(parts.shape);
    if (!(parts.hi instanceof Float64Array) || parts.hi.length !== n) {
      throw new VectorError('BAD_ARGUMENT', `hi must be a Float64Array of ${n} elements`);
    }
    if (parts.lo !== undefined && (!(parts.lo instanceof Float64Array) || parts.lo.length !== n)) {
      throw new VectorError('BAD_ARGUMENT', `lo must be a Float64Array of ${n} elements`);
    }
    const hi = Float64Array.from(parts.hi);
    const lo = parts.lo !== undefined ? Float64Array.from(parts.lo) : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const h = hi[i]!;
      const l = lo[i]!;
      if (!Number.isFinite(h) || !Number.isFinite(l)) throw new VectorError('NON_FINITE', `element ${i} is not finite`, { index: i });
      if (h + l !== h) throw new VectorError('BAD_ARGUMENT', `element ${i}: (${h}, ${l}) is not a normalised pair`, { index: i });
    }
    return new TaskPromptVector(
      hi,
      lo,
      Object.freeze([...parts.shape]),
      parseTasks(parts.tasks),
      checkModelId(parts.modelId),
      checkOriginId(parts.originId),
      cloneProvenance(parts.provenance ?? {}),
    );
  }

  /**
   * The zero vector of a shape (no tasks). `applyTo(o)` of it returns `o` (an exact −0 in `o` comes
   * back as +0, IEEE's sign for an exact cancellation).
   *
   * @param shape - table shape.
   * @param modelId - model id.
   * @param meta - optional origin id and provenance.
   */
  static zeros(shape: readonly number[], modelId: string, meta: { originId?: string; provenance?: Record<string, unknown> } = {}): TaskPromptVector {
    const n = checkShape(shape);
    return new TaskPromptVector(
      new Float64Array(n),
      new Float64Array(n),
      Object.freeze([...shape]),
      new Map(),
      checkModelId(modelId),
      checkOriginId(meta.originId),
      cloneProvenance({ op: 'zeros', ...(meta.provenance ?? {}) }),
    );
  }

  /**
   * Σ τ_i (eq. 4/7). The empty sum is the zero vector, which needs `opts.shape` (and takes
   * `opts.modelId`, default `"unknown"`). A one-element sum returns a vector equal to its input (bit for
   * bit, like the reference's `0 + a → a`); longer sums fold {@link TaskPromptVector.add} left to right.
   *
   * @param vectors - the summands.
   * @param opts - shape/model for the empty sum (checked against the inputs otherwise), `force`.
   * @throws {@link VectorError} `EMPTY` for an empty list without a shape, `SHAPE_MISMATCH`/`MODEL_MISMATCH`.
   */
  static sum(vectors: readonly TaskPromptVector[], opts: SumOptions = {}): TaskPromptVector {
    if (vectors.length === 0) {
      if (opts.shape === undefined) throw new VectorError('EMPTY', 'the empty sum needs opts.shape to know which zero vector to return');
      return TaskPromptVector.zeros(opts.shape, opts.modelId ?? 'unknown', { provenance: { op: 'sum', count: 0 } });
    }
    for (const v of vectors) {
      if (!(v instanceof TaskPromptVector)) throw new VectorError('BAD_ARGUMENT', 'sum() takes TaskPromptVector instances');
    }
    const first = vectors[0]!;
    if (opts.shape !== undefined && !sameShape(opts.shape, first.shape) && opts.force !== true) {
      throw new VectorError('SHAPE_MISMATCH', `opts.shape ${fmtShape(opts.shape)} differs from the vectors' ${fmtShape(first.shape)}`);
    }
    if (opts.modelId !== undefined && opts.modelId !== first.modelId && opts.force !== true) {
      throw new VectorError('MODEL_MISMATCH', `opts.modelId ${opts.modelId} differs from the vectors' ${first.modelId}`);
    }
    for (const v of vectors) first.#checkCompatible(v, opts);
    const n = first.#hi.length;
    const hi = Float64Array.from(first.#hi);
    const lo = Float64Array.from(first.#lo);
    const s = pair();
    for (let k = 1; k < vectors.length; k++) {
      const vh = vectors[k]!.#hi;
      const vl = vectors[k]!.#lo;
      for (let i = 0; i < n; i++) {
        ddAddInto(s, hi[i]!, lo[i]!, vh[i]!, vl[i]!);
        hi[i] = s[0]!;
        lo[i] = s[1]!;
      }
    }
    checkFiniteResult(hi, 'sum');
    const origins = new Set(vectors.map((v) => v.originId));
    return new TaskPromptVector(
      hi,
      lo,
      first.shape,
      sumTasks(vectors.map((v) => v.tasks)),
      first.modelId,
      origins.size === 1 ? first.originId : undefined,
      vectors.length === 1 ? first.provenance : cloneProvenance({ op: 'sum', count: vectors.length, of: vectors.map((v) => v.taskString) }),
    );
  }

  /** Number of elements (`rows × dim`). */
  get size(): number {
    return this.#hi.length;
  }

  /** The task label printed as an expression: `"+ mnli_text + qnli_text − sst2_text"`. */
  get taskString(): string {
    return formatTasks(this.tasks);
  }

  /** Throws unless `other` has the same model and shape (or `force` with the same length). */
  #checkCompatible(other: TaskPromptVector, opts: CompatOptions = {}): void {
    if (!(other instanceof TaskPromptVector)) throw new VectorError('BAD_ARGUMENT', 'operand is not a TaskPromptVector');
    const force = opts.force === true;
    if (other.#hi.length !== this.#hi.length) {
      throw new VectorError('SHAPE_MISMATCH', `shapes ${fmtShape(this.shape)} and ${fmtShape(other.shape)} have different sizes`, { left: this.shape, right: other.shape });
    }
    if (!sameShape(this.shape, other.shape) && !force) {
      throw new VectorError('SHAPE_MISMATCH', `shapes ${fmtShape(this.shape)} and ${fmtShape(other.shape)} differ (pass { force: true } to combine them anyway)`, { left: this.shape, right: other.shape });
    }
    if (this.modelId !== other.modelId && !force) {
      throw new VectorError('MODEL_MISMATCH', `vectors for different models: ${this.modelId} and ${other.modelId} (pass { force: true } to combine them anyway)`, { left: this.modelId, right: other.modelId });
    }
  }

  /**
   * τ_this + τ_other (eq. 7). Exactly commutative (bit for bit); ~106-bit accurate.
   *
   * @param other - the other vector.
   * @param opts - `force` to mix models or same-size shapes.
   * @throws {@link VectorError} `SHAPE_MISMATCH`/`MODEL_MISMATCH`.
   */
  add(other: TaskPromptVector, opts: CompatOptions = {}): TaskPromptVector {
    this.#checkCompatible(other, opts);
    const n = this.#hi.length;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    const s = pair();
    const ah = this.#hi;
    const al = this.#lo;
    const bh = other.#hi;
    const bl = other.#lo;
    for (let i = 0; i < n; i++) {
      ddAddInto(s, ah[i]!, al[i]!, bh[i]!, bl[i]!);
      hi[i] = s[0]!;
      lo[i] = s[1]!;
    }
    checkFiniteResult(hi, 'add');
    const ops = [this.taskString, other.taskString].sort();
    return new TaskPromptVector(
      hi,
      lo,
      this.shape,
      addTasks(this.tasks, other.tasks),
      this.modelId,
      this.originId === other.originId ? this.originId : undefined,
      cloneProvenance({ op: 'add', of: ops, ...(this.modelId !== other.modelId ? { forcedModels: [this.modelId, other.modelId].sort() } : {}) }),
    );
  }

  /**
   * τ_this − τ_other, i.e. `this.add(other.neg())`.
   *
   * @param other - the subtrahend.
   * @param opts - `force` to mix models or same-size shapes.
   */
  sub(other: TaskPromptVector, opts: CompatOptions = {}): TaskPromptVector {
    this.#checkCompatible(other, opts);
    return this.add(other.neg(), opts);
  }

  /** −τ: both halves negated (exact; `neg(neg(a))` equals `a` bit for bit), every task sign flipped. */
  neg(): TaskPromptVector {
    const n = this.#hi.length;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      hi[i] = -this.#hi[i]!;
      lo[i] = -this.#lo[i]!;
    }
    return new TaskPromptVector(hi, lo, this.shape, negateTasks(this.tasks), this.modelId, this.originId, cloneProvenance({ op: 'neg', of: this.taskString }));
  }

  /**
   * k·τ (the reference only scales through `apply`'s coefficient; this makes averaging explicit).
   * `scale(1)` is the identity and `scale(−1)` is {@link TaskPromptVector.neg}, bit for bit. Tasks keep
   * their signs for k > 0, flip for k < 0 and vanish for k = 0.
   *
   * @param k - a finite factor.
   * @throws {@link VectorError} `BAD_ARGUMENT` for a non-finite k, `NON_FINITE` when the result overflows.
   */
  scale(k: number): TaskPromptVector {
    if (typeof k !== 'number' || !Number.isFinite(k)) throw new VectorError('BAD_ARGUMENT', `scale factor must be a finite number, got ${k}`);
    if (k === 1) return new TaskPromptVector(this.#hi, this.#lo, this.shape, this.tasks, this.modelId, this.originId, cloneProvenance({ op: 'scale', k, of: this.taskString }));
    if (k === -1) return this.neg();
    const n = this.#hi.length;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    if (k !== 0) {
      const s = pair();
      for (let i = 0; i < n; i++) {
        ddMulInto(s, this.#hi[i]!, this.#lo[i]!, k);
        hi[i] = s[0]!;
        lo[i] = s[1]!;
      }
      checkFiniteResult(hi, 'scale');
    }
    const tasks = k > 0 ? this.tasks : k < 0 ? negateTasks(this.tasks) : new Map<string, number>();
    return new TaskPromptVector(hi, lo, this.shape, tasks, this.modelId, this.originId, cloneProvenance({ op: 'scale', k, of: this.taskString }));
  }

  /**
   * τ/k with a correctly compensated division (used for means), tasks unchanged for k > 0.
   *
   * @param k - a finite non-zero divisor.
   */
  divide(k: number): TaskPromptVector {
    if (typeof k !== 'number' || !Number.isFinite(k) || k === 0) throw new VectorError('BAD_ARGUMENT', `divisor must be a finite non-zero number, got ${k}`);
    const n = this.#hi.length;
    const hi = new Float64Array(n);
    const lo = new Float64Array(n);
    const s = pair();
    for (let i = 0; i < n; i++) {
      ddDivInto(s, this.#hi[i]!, this.#lo[i]!, k);
      hi[i] = s[0]!;
      lo[i] = s[1]!;
    }
    checkFiniteResult(hi, 'divide');
    return new TaskPromptVector(hi, lo, this.shape, k > 0 ? this.tasks : negateTasks(this.tasks), this.modelId, this.originId, cloneProvenance({ op: 'divide', k, of: this.taskString }));
  }

  /**
   * θ + λτ as a float32 prompt table (eq. 6). With the vector's own origin and λ = 1 this returns the
   * tuned prompt bit for bit (module documentation); λ = 0 returns a copy of `origin` bit for bit.
   *
   * @param origin - θ, a float32 table of the vector's shape (a bare array must have its length).
   * @param lambda - λ, any finite number (the paper searches 0, 0.05, …, 1).
   * @param opts - `force` to apply to a table of another shape with the same number of elements.
   * @returns a new `Float32Array`.
   * @throws {@link VectorError} `SHAPE_MISMATCH`, `NON_FINITE` (non-finite origin, or the result overflows
   *   float32), `BAD_ARGUMENT` for a non-finite λ.
   */
  applyTo(origin: PromptInput, lambda = 1, opts: CompatOptions = {}): Float32Array {
    if (typeof lambda !== 'number' || !Number.isFinite(lambda)) throw new VectorError('BAD_ARGUMENT', `lambda must be a finite number, got ${lambda}`);
    const table = toTable(origin, this.shape, 'origin');
    if (table.data.length !== this.#hi.length) {
      throw new VectorError('SHAPE_MISMATCH', `origin has ${table.data.length} elements, the vector ${this.#hi.length}`, { origin: table.shape, vector: this.shape });
    }
    if (!sameShape(table.shape, this.shape) && opts.force !== true) {
      throw new VectorError('SHAPE_MISMATCH', `origin shape ${fmtShape(table.shape)} differs from the vector's ${fmtShape(this.shape)} (pass { force: true } to apply anyway)`);
    }
    const o = table.data;
    if (lambda === 0) return Float32Array.from(o);
    const n = o.length;
    const out = new Float32Array(n);
    const hi = this.#hi;
    const lo = this.#lo;
    for (let i = 0; i < n; i++) {
      const a = lambda * hi[i]!;
      const b = lambda * lo[i]!;
      let r = (o[i]! + a) + b;
      // An exact zero takes the sign carried by the (zero) low half; see the module documentation.
      if (r === 0 && b === 0) r = b;
      out[i] = r;
      if (!Number.isFinite(out[i]!)) {
        throw new VectorError('NON_FINITE', `θ + λτ overflows float32 at element ${i} (λ = ${lambda})`, { index: i, lambda });
      }
    }
    return out;
  }

  /** Euclidean norm ‖τ‖ in float64 (scaled internally, so it neither overflows nor underflows). */
  norm(): number {
    const hi = this.#hi;
    let maxAbs = 0;
    for (let i = 0; i < hi.length; i++) maxAbs = Math.max(maxAbs, Math.abs(hi[i]!));
    if (maxAbs === 0) return 0;
    const s = powerOfTwoScale(maxAbs);
    let acc = 0;
    for (let i = 0; i < hi.length; i++) {
      const x = hi[i]! * s;
      acc += x * x;
    }
    return Math.sqrt(acc) / s;
  }

  /** The nearest float64 of each element of τ (a copy of the high halves). */
  toFloat64Array(): Float64Array {
    return Float64Array.from(this.#hi);
  }

  /** τ correctly rounded to float32 per element (from the exact pair, not by double rounding). */
  toFloat32Array(): Float32Array {
    const n = this.#hi.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = pairToFloat32(this.#hi[i]!, this.#lo[i]!);
    return out;
  }

  /** Copies of the exact stored halves `{ hi, lo }`, τ = hi + lo elementwise. */
  exactParts(): { hi: Float64Array; lo: Float64Array } {
    return { hi: Float64Array.from(this.#hi), lo: Float64Array.from(this.#lo) };
  }

  /**
   * A copy with some metadata replaced (data shared, since vectors are immutable).
   *
   * @param changes - new tasks, model id, origin id (`null` clears it) or provenance.
   */
  withMeta(changes: { tasks?: TaskInput; modelId?: string; originId?: string | null; provenance?: Record<string, unknown> }): TaskPromptVector {
    return new TaskPromptVector(
      this.#hi,
      this.#lo,
      this.shape,
      changes.tasks !== undefined ? parseTasks(changes.tasks) : this.tasks,
      changes.modelId !== undefined ? checkModelId(changes.modelId) : this.modelId,
      changes.originId === null ? undefined : changes.originId !== undefined ? checkOriginId(changes.originId) : this.originId,
      changes.provenance !== undefined ? cloneProvenance(changes.provenance) : this.provenance,
    );
  }

  /**
   * Exact equality: same shape, bit-identical halves (signed zeros included) and, unless
   * `metadata: false`, the same tasks, model id and origin id. Provenance is never compared.
   *
   * @param other - the other vector.
   * @param opts - `metadata: false` compares data and shape only.
   */
  equals(other: TaskPromptVector, opts: { metadata?: boolean } = {}): boolean {
    if (!(other instanceof TaskPromptVector)) return false;
    if (!sameShape(this.shape, other.shape)) return false;
    if (opts.metadata !== false && !this.sameMeta(other)) return false;
    const n = this.#hi.length;
    for (let i = 0; i < n; i++) {
      if (!Object.is(this.#hi[i], other.#hi[i]) || !Object.is(this.#lo[i], other.#lo[i])) return false;
    }
    return true;
  }

  /**
   * Approximate equality per element: |a − b| ≤ atol + rtol·max(|a|, |b|), computed on the exact pairs.
   *
   * @param other - the other vector.
   * @param opts - tolerances and whether metadata must match.
   */
  approxEquals(other: TaskPromptVector, opts: ApproxOptions = {}): boolean {
    if (!(other instanceof TaskPromptVector)) return false;
    if (!sameShape(this.shape, other.shape)) return false;
    if (opts.metadata !== false && !this.sameMeta(other)) return false;
    const rtol = opts.rtol ?? 1e-12;
    const atol = opts.atol ?? 0;
    const s = pair();
    for (let i = 0; i < this.#hi.length; i++) {
      ddAddInto(s, this.#hi[i]!, this.#lo[i]!, -other.#hi[i]!, -other.#lo[i]!);
      const diff = Math.abs(s[0]!);
      if (diff > atol + rtol * Math.max(Math.abs(this.#hi[i]!), Math.abs(other.#hi[i]!))) return false;
    }
    return true;
  }

  /** Same tasks (as multisets), model id and origin id. */
  sameMeta(other: TaskPromptVector): boolean {
    return tasksEqual(this.tasks, other.tasks) && this.modelId === other.modelId && this.originId === other.originId;
  }

  /** A short description: tasks, model, shape, origin. */
  toString(): string {
    return `TaskPromptVector(${this.taskString}; ${this.modelId}; ${fmtShape(this.shape)}${this.originId !== undefined ? `; origin ${this.originId}` : ''})`;
  }

  /** Metadata as plain JSON (for `--json` output); the data itself is not included. */
  toJSON(): { tasks: Record<string, number>; taskString: string; modelId: string; originId: string | null; shape: number[]; provenance: Provenance } {
    return {
      tasks: { ...tasksToRecord(this.tasks) },
      taskString: this.taskString,
      modelId: this.modelId,
      originId: this.originId ?? null,
      shape: [...this.shape],
      provenance: this.provenance,
    };
  }

  /** Cosine similarity of two flattened items, see {@link cosineSimilarity}. */
  static cosineSimilarity(a: SimilarityItem, b: SimilarityItem, opts: CompatOptions = {}): number {
    return cosineSimilarity(a, b, opts);
  }

  /** Pairwise cosine similarities, see {@link similarityMatrix}. */
  static similarityMatrix(items: readonly SimilarityItem[], opts: CompatOptions = {}): number[][] {
    return similarityMatrix(items, opts);
  }
}

function checkFiniteResult(hi: Float64Array, op: string): void {
  for (let i = 0; i < hi.length; i++) {
    if (!Number.isFinite(hi[i]!)) throw new VectorError('NON_FINITE', `${op} overflows at element ${i}`, { index: i, op });
  }
}

/**
 * The exact halves of a vector without copying, for the other modules of this folder (merging, files,
 * similarity). Callers must not write to them.
 *
 * @internal
 */
export function vectorData(v: TaskPromptVector): { hi: Float64Array; lo: Float64Array } {
  return readParts(v);
}

/** Values, shape and model of a similarity item (no copy for vectors and prompts). */
function itemValues(item: SimilarityItem, index: number): { values: Float32Array | Float64Array; shape: readonly number[] | undefined; modelId: string | undefined } {
  if (item instanceof TaskPromptVector) return { values: readParts(item).hi, shape: item.shape, modelId: item.modelId };
  if (item instanceof Float32Array || item instanceof Float64Array) return { values: item, shape: undefined, modelId: undefined };
  if (item !== null && typeof item === 'object' && (item.data instanceof Float32Array || item.data instanceof Float64Array)) {
    const n = checkShape(item.shape, `item ${index} shape`);
    if (n !== item.data.length) throw new VectorError('SHAPE_MISMATCH', `item ${index}: shape ${fmtShape(item.shape)} does not match ${item.data.length} values`);
    return { values: item.data, shape: item.shape, modelId: undefined };
  }
  throw new VectorError('BAD_ARGUMENT', `item ${index} is not a vector, a float array or { data, shape }`);
}

/** A scaled float64 copy (max |x| ≈ 1) and its squared norm. */
function prepare(values: Float32Array | Float64Array, index: number): { x: Float64Array; sq: number } {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new VectorError('NON_FINITE', `item ${index}[${i}] is ${v}`, { item: index, index: i });
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
  }
  const s = powerOfTwoScale(maxAbs);
  const x = new Float64Array(values.length);
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! * s;
    x[i] = v;
    sq += v * v;
  }
  return { x, sq };
}

function checkItems(items: readonly SimilarityItem[], opts: CompatOptions): (Float32Array | Float64Array)[] {
  const resolved = items.map((it, i) => itemValues(it, i));
  const first = resolved[0];
  if (first === undefined) return [];
  for (let i = 1; i < resolved.length; i++) {
    const r = resolved[i]!;
    if (r.values.length !== first.values.length) {
      throw new VectorError('SHAPE_MISMATCH', `item ${i} has ${r.values.length} elements, item 0 has ${first.values.length}`);
    }
  }
  if (opts.force !== true) {
    const shaped = resolved.filter((r) => r.shape !== undefined);
    for (const r of shaped) {
      if (!sameShape(r.shape!, shaped[0]!.shape!)) {
        throw new VectorError('SHAPE_MISMATCH', `items of shapes ${fmtShape(shaped[0]!.shape!)} and ${fmtShape(r.shape!)} (pass { force: true } to compare the flattened values anyway)`);
      }
    }
    const models = new Set(resolved.map((r) => r.modelId).filter((m) => m !== undefined));
    if (models.size > 1) throw new VectorError('MODEL_MISMATCH', `vectors for different models: ${[...models].join(', ')} (pass { force: true } to compare anyway)`);
  }
  return resolved.map((r) => r.values);
}

function cosineOf(a: { x: Float64Array; sq: number }, b: { x: Float64Array; sq: number }): number {
  if (a.sq === 0 || b.sq === 0) return 0;
  let dot = 0;
  const ax = a.x;
  const bx = b.x;
  for (let i = 0; i < ax.length; i++) dot += ax[i]! * bx[i]!;
  const c = dot / (Math.sqrt(a.sq) * Math.sqrt(b.sq));
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/**
 * Cosine similarity of two flattened tables, x·y / (‖x‖‖y‖), as in the paper's 76,800-dimensional
 * comparison (RQ1b). Accumulated in float64 on copies scaled by a power of two (exact), so huge or
 * subnormal float32 values neither overflow nor underflow. Symmetric bit for bit, clamped to [−1, 1];
 * a zero vector has similarity 0 with everything (PyTorch's `cosine_similarity` does the same through its
 * ε clamp). Vectors use their float64 high halves (the exact value to within 2^−53 relative).
 *
 * @param a - a vector, a prompt (`Float32Array` or `{ data, shape }`) or float64 values.
 * @param b - the same.
 * @param opts - `force` to compare different models or shapes of the same size.
 * @throws {@link VectorError} `SHAPE_MISMATCH`, `MODEL_MISMATCH`, `NON_FINITE`.
 */
export function cosineSimilarity(a: SimilarityItem, b: SimilarityItem, opts: CompatOptions = {}): number {
  const [va, vb] = checkItems([a, b], opts);
  return cosineOf(prepare(va!, 0), prepare(vb!, 1));
}

/**
 * Symmetric matrix of pairwise cosine similarities of `items` (vectors or prompts; see
 * {@link cosineSimilarity}). The diagonal is the computed self-similarity (1 up to rounding, 0 for a zero
 * item). Each item is scaled and copied once, then n(n+1)/2 float64 dot products are taken.
 *
 * @param items - the items, all of one length.
 * @param opts - `force` to compare different models or shapes of the same size.
 * @returns `m[i][j]` = cos(items[i], items[j]).
 */
export function similarityMatrix(items: readonly SimilarityItem[], opts: CompatOptions = {}): number[][] {
  const values = checkItems(items, opts);
  const prepared = values.map((v, i) => prepare(v, i));
  const n = prepared.length;
  const m: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const c = cosineOf(prepared[i]!, prepared[j]!);
      m[i]![j] = c;
      m[j]![i] = c;
    }
  }
  return m;
}

/** @internal Exposed for the similarity protocol module: scaled copies for many cosine evaluations. */
export function prepareForCosine(items: readonly SimilarityItem[], opts: CompatOptions = {}): { x: Float64Array; sq: number }[] {
  return checkItems(items, opts).map((v, i) => prepare(v, i));
}

/** @internal Cosine of two prepared items. */
export function preparedCosine(a: { x: Float64Array; sq: number }, b: { x: Float64Array; sq: number }): number {
  return cosineOf(a, b);
}

export type { JsonValue, Provenance };
