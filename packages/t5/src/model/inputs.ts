/**
 * Normalisation and validation of model inputs: ids and masks arrive as nested arrays or as
 * tensors and leave as int32 / float32 tensors, with bad values caught before they reach a kernel
 * (an out-of-range id would otherwise read past the embedding table).
 */
import { type Tensor, cast, cat, full, maskedFill, narrow, tensor } from '@tpvjs/tensor';
import { T5InputError } from './errors.js';

/** Token ids `[batch, length]`: nested arrays of integers or an int32 tensor. */
export type IdsInput = readonly (readonly number[])[] | Tensor;
/** A 0/1 mask `[batch, length]`: nested arrays or an int32 / float32 / bool tensor. */
export type MaskInput = readonly (readonly (number | boolean)[])[] | Tensor;

/** The label value that the loss skips (PyTorch's `ignore_index`). */
export const IGNORE_INDEX = -100;

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'shape' in x && 'dtype' in x;
}

/** Host values of a tensor when the backend can read synchronously (CPU), else null. */
function hostValues(t: Tensor): ArrayLike<number> | null {
  return t.backend.readSync ? t.dataSync() : null;
}

function rows2d(x: readonly (readonly (number | boolean)[])[], argument: string): [number, number] {
  if (!Array.isArray(x)) throw new T5InputError('SHAPE', 'expected nested arrays [batch][length] or a tensor', argument);
  if (x.length === 0) throw new T5InputError('EMPTY_BATCH', 'the batch has no rows', argument);
  const first = x[0];
  if (!Array.isArray(first)) throw new T5InputError('SHAPE', 'expected nested arrays [batch][length], got a flat array', argument);
  const len = first.length;
  for (let i = 0; i < x.length; i++) {
    const r = x[i];
    if (!Array.isArray(r)) throw new T5InputError('SHAPE', `row ${i} is not an array`, argument);
    if (r.length !== len) throw new T5InputError('RAGGED', `row ${i} has ${r.length} entries, row 0 has ${len}; pad the rows to one length`, argument);
  }
  if (len === 0) throw new T5InputError('EMPTY_BATCH', 'the rows are empty (length 0)', argument);
  return [x.length, len];
}

function checkIds(values: ArrayLike<number>, vocabSize: number, allowIgnore: boolean, argument: string, width: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isInteger(v) && v >= 0 && v < vocabSize) continue;
    if (allowIgnore && v === IGNORE_INDEX) continue;
    const at = `[${Math.floor(i / width)}][${i % width}]`;
    throw new T5InputError('ID_OUT_OF_RANGE', `id ${v} at ${at} is outside the vocabulary [0, ${vocabSize})${allowIgnore ? ` (or ${IGNORE_INDEX} to ignore)` : ''}`, argument);
  }
}

/**
 * Converts ids to an int32 tensor `[B, L]` and checks every id against the vocabulary. Tensors on
 * backends without a synchronous read (WebGPU) are checked for shape and dtype only, since reading
 * them back would stall the device.
 *
 * @param allowIgnore - accept −100 (labels)
 * @returns the tensor and whether it was created here (the caller may dispose it)
 */
export function toIds(x: IdsInput, argument: string, vocabSize: number, allowIgnore = false): { ids: Tensor; created: boolean } {
  if (isTensor(x)) {
    if (x.rank !== 2) throw new T5InputError('SHAPE', `expected a [batch, length] tensor, got [${x.shape.join(', ')}]`, argument);
    if (x.shape[0] === 0) throw new T5InputError('EMPTY_BATCH', 'the batch has no rows', argument);
    if (x.shape[1] === 0) throw new T5InputError('EMPTY_BATCH', 'the rows are empty (length 0)', argument);
    if (x.dtype !== 'int32') throw new T5InputError('DTYPE', `ids must be an int32 tensor, got ${x.dtype}`, argument);
    const host = hostValues(x);
    if (host) checkIds(host, vocabSize, allowIgnore, argument, x.shape[1]!);
    return { ids: x, created: false };
  }
  const [b, l] = rows2d(x, argument);
  const flat = new Int32Array(b * l);
  const values: number[] = [];
  for (const r of x) for (const v of r) values.push(v);
  checkIds(values, vocabSize, allowIgnore, argument, l);
  flat.set(values);
  return { ids: tensor(flat, { shape: [b, l], dtype: 'int32' }), created: true };
}

/**
 * Converts a 0/1 mask to float32 `[B, L]` and checks it matches `shape`.
 * @throws {@link T5InputError} `SHAPE` on a shape mismatch, `BAD_MASK` for values other than 0/1
 */
export function toMask(x: MaskInput, argument: string, shape: readonly number[]): Tensor {
  let t: Tensor;
  if (isTensor(x)) {
    if (x.rank !== 2 || x.shape[0] !== shape[0] || x.shape[1] !== shape[1]) {
      throw new T5InputError('SHAPE', `mask has shape [${x.shape.join(', ')}], the ids have [${shape.join(', ')}]`, argument);
    }
    const host = hostValues(x);
    if (host) checkMask(host, argument);
    t = x.dtype === 'float32' ? x : cast(x, 'float32');
  } else {
    const [b, l] = rows2d(x, argument);
    if (b !== shape[0] || l !== shape[1]) throw new T5InputError('SHAPE', `mask has shape [${b}, ${l}], the ids have [${shape.join(', ')}]`, argument);
    const flat = new Float32Array(b * l);
    let k = 0;
    for (const r of x) for (const v of r) flat[k++] = Number(v);
    checkMask(flat, argument);
    t = tensor(flat, { shape: [b, l] });
  }
  return t;
}

function checkMask(values: ArrayLike<number>, argument: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1) throw new T5InputError('BAD_MASK', `mask values must be 0 or 1, found ${v}`, argument);
  }
}

/**
 * HF `T5PreTrainedModel._shift_right` on host arrays: `[start] + labels[:, :-1]`, with −100
 * replaced by `padTokenId`.
 */
export function shiftRightArray(labels: readonly (readonly number[])[], decoderStartTokenId: number, padTokenId: number): number[][] {
  return labels.map((row) => [decoderStartTokenId, ...row.slice(0, -1)].map((v) => (v === IGNORE_INDEX ? padTokenId : v)));
}

/** {@link shiftRightArray} on an int32 tensor `[B, T]`, computed on the tensor's backend. */
export function shiftRight(labels: Tensor, decoderStartTokenId: number, padTokenId: number): Tensor {
  const [b, t] = labels.shape as [number, number];
  const start = full([b, 1], decoderStartTokenId, { dtype: 'int32' });
  const shifted = t > 1 ? cat([start, narrow(labels, 1, 0, t - 1)], 1) : start;
  return maskedFill(shifted, shifted.eq(IGNORE_INDEX), padTokenId);
}
