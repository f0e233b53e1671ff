/**
 * T5's relative position buckets (HF `T5Attention._relative_position_bucket`), computed on the
 * host: they depend only on lengths, never on data, so they are cached per shape.
 */

const f32 = Math.fround;

/**
 * The bucket of one relative position (`key_pos − query_pos`), reproducing HF's float32
 * arithmetic step by step: the position ratio, its log, the division by `log(max_distance /
 * max_exact)` and the scaling are each rounded to float32 before the truncation to an integer, since
 * the truncation could in principle flip where float32 and float64 disagree.
 *
 * @param relativePosition - key position minus query position
 * @param bidirectional - true for the encoder (keys on both sides), false for the causal decoder
 * @param numBuckets - `relative_attention_num_buckets`
 * @param maxDistance - `relative_attention_max_distance`
 */
export function relativePositionBucket(relativePosition: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let nb = numBuckets;
  let ret = 0;
  let n: number;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (relativePosition > 0) ret += nb;
    n = Math.abs(relativePosition);
  } else {
    // Keys in the future (relativePosition > 0) all fall into bucket 0.
    n = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return ret + n;
  const logRatio = f32(Math.log(f32(n / maxExact)));
  // `math.log(max_distance / max_exact)` is a Python double; PyTorch casts the scalar to the
  // tensor's float32 before dividing.
  const denom = f32(Math.log(maxDistance / maxExact));
  const scaled = f32(f32(logRatio / denom) * (nb - maxExact));
  const large = maxExact + Math.trunc(scaled);
  return ret + Math.min(large, nb - 1);
}

const cache = new Map<string, Int32Array>();
const CACHE_LIMIT = 64;

/**
 * Bucket ids for a `[queryLength, keyLength]` grid where query i sits at absolute position
 * `queryOffset + i` and key j at position j (the offset is the past length when decoding with a
 * cache). Row-major; the returned array is shared and must not be modified.
 */
export function relativePositionBuckets(
  queryLength: number,
  keyLength: number,
  queryOffset: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Int32Array {
  const key = `${queryLength},${keyLength},${queryOffset},${bidirectional},${numBuckets},${maxDistance}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = new Int32Array(queryLength * keyLength);
  // Each grid only uses relative positions in a small range; compute each bucket once.
  const lo = -(queryOffset + queryLength - 1);
  const table = new Int32Array(keyLength - lo);
  for (let r = lo; r < keyLength; r++) table[r - lo] = relativePositionBucket(r, bidirectional, numBuckets, maxDistance);
  for (let i = 0; i < queryLength; i++) {
    const q = queryOffset + i;
    for (let j = 0; j < keyLength; j++) out[i * keyLength + j] = table[j - q - lo]!;
  }
  // A generation run touches one entry per step; keep the cache bounded.
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, out);
  return out;
}
