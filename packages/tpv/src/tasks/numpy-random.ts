/**
 * A bit-exact port of the parts of numpy's `np.random.default_rng(seed)` that
 * Hugging Face `datasets` uses for `Dataset.shuffle(seed)` and
 * `Dataset.train_test_split(seed, stratify_by_column)`.
 *
 * Why this exists: the reference code (TPV `AbstractTask.get`) draws every
 * split, shuffle and few-shot sample through `datasets` with seed 42, and
 * `datasets` 2.18 builds its generator with `np.random.default_rng(seed)`
 * (a PCG64 `Generator`, *not* the legacy `RandomState`). Reproducing the exact
 * rows the paper trained and evaluated on therefore needs:
 *
 * - `SeedSequence(seed).generate_state(4, uint64)` (numpy `bit_generator.pyx`),
 * - the PCG64 XSL-RR 128/64 generator (numpy `pcg64.h`), including its
 *   buffered 32-bit draws,
 * - `Generator.shuffle`/`permutation` (Fisher–Yates with `random_interval`,
 *   i.e. masked rejection sampling),
 * - `Generator.choice(a, size, replace=False)` for small populations
 *   (Floyd's algorithm + a Lemire-bounded tail shuffle).
 *
 * Every output of this module was checked against numpy 2.4 (see
 * `numpy-random.test.ts`, whose expected values were printed by numpy).
 * Streams of these `Generator` methods have not changed since numpy 1.17, the
 * version range `datasets` 2.18 was used with.
 *
 * The 128-bit LCG state is kept as eight 16-bit limbs in a `Float64Array`, so
 * that one step is ~36 exact double multiplications and no BigInt allocation:
 * shuffling a 400k-row dataset (MNLI train) stays well under a second.
 */

/** numpy `bit_generator.pyx` SeedSequence hashing constants. */
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

/** PCG_DEFAULT_MULTIPLIER_128 = 0x2360ED051FC65DA44385DF649FCCF645, as 16-bit limbs, least significant first. */
const PCG_MULT_LIMBS = limbsFromBigInt(0x2360ed051fc65da44385df649fccf645n);

function limbsFromBigInt(v: bigint): Float64Array {
  const out = new Float64Array(8);
  for (let i = 0; i < 8; i++) {
    out[i] = Number((v >> BigInt(16 * i)) & 0xffffn);
  }
  return out;
}

function bigIntFromLimbs(l: Float64Array): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 16n) | BigInt(l[i]!);
  return v;
}

/**
 * numpy's `SeedSequence(entropy).generate_state(nWords, np.uint32)` for a
 * non-negative integer seed (no spawn key, pool size 4).
 *
 * @param seed - a non-negative safe integer (the reference always uses 42).
 * @param nWords - number of 32-bit words to produce.
 * @returns the words, as unsigned 32-bit numbers.
 */
export function seedSequenceState(seed: number, nWords: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  }
  // _coerce_to_uint32_array: little-endian 32-bit words of the integer; 0 -> [0].
  const entropy: number[] = [];
  let rest = BigInt(seed);
  do {
    entropy.push(Number(rest & 0xffffffffn));
    rest >>= 32n;
  } while (rest > 0n);

  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    v = (v ^ (v >>> XSHIFT)) >>> 0;
    return v;
  };
  const mix = (x: number, y: number): number => {
    let r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    r = (r ^ (r >>> XSHIFT)) >>> 0;
    return r;
  };

  const pool = new Array<number>(POOL_SIZE).fill(0);
  for (let i = 0; i < POOL_SIZE; i++) {
    pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0);
  }
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!));
    }
  }

  const out: number[] = [];
  let hc = INIT_B;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % POOL_SIZE]! ^ hc) >>> 0;
    hc = Math.imul(hc, MULT_B) >>> 0;
    v = Math.imul(v, hc) >>> 0;
    v = (v ^ (v >>> XSHIFT)) >>> 0;
    out.push(v);
  }
  return out;
}

/**
 * The PCG64 bit generator plus the `numpy.random.Generator` methods that HF
 * `datasets` needs, bit-exact with `np.random.default_rng(seed)`.
 *
 * Only the methods used by the reference pipeline are provided; anything
 * else (floats, normal draws, ...) is deliberately absent.
 */
export class NumpyGenerator {
  /** 128-bit LCG state, 16-bit limbs, least significant first. */
  private readonly state = new Float64Array(8);
  /** 128-bit LCG increment (always odd), 16-bit limbs. */
  private readonly inc = new Float64Array(8);
  /** numpy buffers the upper half of a 64-bit draw for the next 32-bit draw. */
  private hasUint32 = false;
  private uinteger = 0;
  /** Scratch for the multiplication (avoids an allocation per step). */
  private readonly scratch = new Float64Array(8);

  /**
   * @param seed - the integer passed to `np.random.default_rng(seed)`.
   */
  constructor(seed: number) {
    // PCG64.__init__: generate_state(4, uint64) = 8 uint32 words viewed as
    // little-endian uint64 -> val[k] = w[2k] | w[2k+1] << 32.
    const w = seedSequenceState(seed, 8);
    const u64 = (k: number): bigint => (BigInt(w[2 * k + 1]!) << 32n) | BigInt(w[2 * k]!);
    // pcg64_set_seed: initstate = val[0] << 64 | val[1]; initseq = val[2] << 64 | val[3].
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    // pcg_setseq_128_srandom_r: state = 0; inc = initseq << 1 | 1; step; state += initstate; step.
    const mask128 = (1n << 128n) - 1n;
    this.inc.set(limbsFromBigInt(((initSeq << 1n) | 1n) & mask128));
    this.state.fill(0);
    this.step();
    const s = (bigIntFromLimbs(this.state) + initState) & mask128;
    this.state.set(limbsFromBigInt(s));
    this.step();
  }

  /** One LCG step: state = state * MULT + inc (mod 2^128). */
  private step(): void {
    const s = this.state;
    const m = PCG_MULT_LIMBS;
    const acc = this.scratch;
    for (let k = 0; k < 8; k++) {
      let sum = 0;
      for (let i = 0; i <= k; i++) sum += s[i]! * m[k - i]!;
      acc[k] = sum; // < 8 * 2^32, exact in a double
    }
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const t = acc[k]! + this.inc[k]! + carry;
      const low = t % 65536;
      s[k] = low;
      carry = (t - low) / 65536;
    }
  }

  /**
   * Next raw 64-bit output (PCG XSL-RR), as `[hi32, lo32]` unsigned words.
   */
  private next64(): [number, number] {
    this.step();
    const s = this.state;
    const lo0 = s[0]! + s[1]! * 65536;
    const lo1 = s[2]! + s[3]! * 65536;
    const hi0 = s[4]! + s[5]! * 65536;
    const hi1 = s[6]! + s[7]! * 65536;
    // xored = (state >> 64) ^ (uint64)state; rot = state >> 122.
    const xl = (lo0 ^ hi0) >>> 0;
    const xh = (lo1 ^ hi1) >>> 0;
    const rot = Math.floor(s[7]! / 1024); // top 6 bits of the 128-bit state
    if (rot === 0) return [xh, xl];
    if (rot === 32) return [xl, xh];
    if (rot < 32) {
      const nh = ((xh >>> rot) | (xl << (32 - rot))) >>> 0;
      const nl = ((xl >>> rot) | (xh << (32 - rot))) >>> 0;
      return [nh, nl];
    }
    const r = rot - 32;
    const nh = ((xl >>> r) | (xh << (32 - r))) >>> 0;
    const nl = ((xh >>> r) | (xl << (32 - r))) >>> 0;
    return [nh, nl];
  }

  /** `bit_generator.random_raw()`: the next 64-bit output, as a BigInt. */
  nextUint64(): bigint {
    const [h, l] = this.next64();
    return (BigInt(h) << 32n) | BigInt(l);
  }

  /**
   * numpy `pcg64_next32`: the low half of a fresh 64-bit draw, then the
   * buffered high half on the following call.
   */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    const [h, l] = this.next64();
    this.hasUint32 = true;
    this.uinteger = h;
    return l;
  }

  /**
   * numpy `random_interval(max)`: uniform integer in [0, max] by masked
   * rejection (used by `Generator.shuffle`/`permutation`).
   */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) {
      // Would need 64-bit draws; no dataset in this project comes close.
      throw new RangeError('randomInterval: max > 2^32-1 is not supported');
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /**
   * numpy `random_bounded_uint64(off=0, rng, mask=0, use_masked=0)`:
   * uniform integer in [0, rng] via Lemire's multiply-shift rejection
   * (used by `Generator.choice` and its internal `_shuffle_int`).
   */
  boundedLemire(rng: number): number {
    if (rng === 0) return 0;
    if (rng > 0xffffffff) throw new RangeError('boundedLemire: rng > 2^32-1 is not supported');
    if (rng === 0xffffffff) return this.nextUint32();
    const rngExcl = rng + 1;
    const mulHiLo = (u: number): [number, number] => {
      // Exact 32x32 -> 64-bit product, split in halves.
      const uh = u >>> 16;
      const ul = u & 0xffff;
      const a = ul * rngExcl; // < 2^48
      const b = uh * rngExcl; // < 2^48
      const a1 = Math.floor(a / 65536);
      const hi = Math.floor((b + a1) / 65536);
      const lo = Math.imul(u, rngExcl) >>> 0;
      return [hi, lo];
    };
    let [hi, lo] = mulHiLo(this.nextUint32());
    if (lo < rngExcl) {
      const threshold = (0xffffffff - rng) % rngExcl;
      while (lo < threshold) {
        [hi, lo] = mulHiLo(this.nextUint32());
      }
    }
    return hi;
  }

  /**
   * `Generator.shuffle(x)` for a 1-d array, in place: Fisher–Yates from the
   * end, `j = random_interval(i)`.
   */
  shuffle<T>(x: T[]): T[] {
    for (let i = x.length - 1; i >= 1; i--) {
      const j = this.randomInterval(i);
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
    }
    return x;
  }

  /** `Generator.permutation(n)`: a shuffled `arange(n)`. */
  permutation(n: number): number[] {
    const a = new Array<number>(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }

  /** `Generator.permutation(array)`: a shuffled copy. */
  permuted<T>(items: readonly T[]): T[] {
    return this.shuffle(items.slice());
  }

  /**
   * `Generator.choice(popSize, size, replace=False, shuffle=True)` returning
   * indices into the population.
   *
   * Implements the branch numpy takes for populations of at most 10,000
   * (Floyd's algorithm, then `_shuffle_int` of the picks), which is the only
   * one `approximate_mode` can reach (the population is a set of classes).
   */
  choiceWithoutReplacement(popSize: number, size: number): number[] {
    if (size > popSize) throw new RangeError("Cannot take a larger sample than population when replace is False");
    if (size < 0) throw new RangeError('negative dimensions are not allowed');
    if (popSize > 10000 && size > Math.floor(popSize / 50)) {
      // Tail-shuffle branch of numpy; unreachable from the reference pipeline.
      throw new RangeError('choiceWithoutReplacement: large-population branch not implemented');
    }
    const picked: number[] = [];
    const seen = new Set<number>();
    for (let j = popSize - size; j < popSize; j++) {
      const val = this.boundedLemire(j);
      if (!seen.has(val)) {
        seen.add(val);
        picked.push(val);
      } else {
        seen.add(j);
        picked.push(j);
      }
    }
    // _shuffle_int(size, 1, idx): Fisher–Yates with Lemire-bounded draws.
    for (let i = picked.length - 1; i >= 1; i--) {
      const j = this.boundedLemire(i);
      const t = picked[i]!;
      picked[i] = picked[j]!;
      picked[j] = t;
    }
    return picked;
  }
}
