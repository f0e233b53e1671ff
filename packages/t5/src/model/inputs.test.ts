/** Bad inputs fail early with typed errors that say what is wrong. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy } from '@tpvjs/tensor';
import { T5ForConditionalGeneration } from './t5.js';
import { T5InputError } from './errors.js';
import { loadFixture } from './__tests__/oracle.js';

function expectInputError(fn: () => unknown, code: T5InputError['code'], argument?: string): void {
  try {
    tidy(() => {
      fn();
    });
  } catch (err) {
    expect(err).toBeInstanceOf(T5InputError);
    expect((err as T5InputError).code).toBe(code);
    if (argument) expect((err as T5InputError).argument).toBe(argument);
    return;
  }
  throw new Error(`expected a T5InputError ${code}`);
}

describe('input validation', () => {
  let model: T5ForConditionalGeneration;
  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(loadFixture('v10_relu_tied').dir);
  });
  afterAll(() => model.dispose());

  it('rejects ids outside the vocabulary (nested arrays and tensors)', () => {
    expectInputError(() => model.forward({ inputIds: [[5, 512]], labels: [[1]] }), 'ID_OUT_OF_RANGE', 'inputIds');
    expectInputError(() => model.forward({ inputIds: [[5, -1]], labels: [[1]] }), 'ID_OUT_OF_RANGE', 'inputIds');
    expectInputError(() => model.forward({ inputIds: [[5, 1.5]], labels: [[1]] }), 'ID_OUT_OF_RANGE', 'inputIds');
    expectInputError(() => model.forward({ inputIds: tensor(Int32Array.of(3, 9999), { shape: [1, 2], dtype: 'int32' }), labels: [[1]] }), 'ID_OUT_OF_RANGE');
    expectInputError(() => model.forward({ inputIds: [[5, 1]], labels: [[1, 600]] }), 'ID_OUT_OF_RANGE', 'labels');
    expectInputError(() => model.forward({ inputIds: [[5, 1]], labels: [[1, -5]] }), 'ID_OUT_OF_RANGE', 'labels');
    expectInputError(() => model.forward({ inputIds: [[5, 1]], decoderInputIds: [[0, -100]] }), 'ID_OUT_OF_RANGE', 'decoderInputIds');
    // −100 is fine in labels.
    tidy(() => expect(model.forward({ inputIds: [[5, 1]], labels: [[7, 1, -100]] }).loss).toBeDefined());
  });

  it('rejects an empty batch, empty rows and ragged rows', () => {
    expectInputError(() => model.forward({ inputIds: [], labels: [] }), 'EMPTY_BATCH', 'inputIds');
    expectInputError(() => model.forward({ inputIds: [[]], labels: [[1]] }), 'EMPTY_BATCH', 'inputIds');
    expectInputError(() => model.forward({ inputIds: tensor(new Int32Array(0), { shape: [0, 3], dtype: 'int32' }), labels: [[1]] }), 'EMPTY_BATCH');
    expectInputError(() => model.forward({ inputIds: [[1, 2], [3]], labels: [[1], [1]] }), 'RAGGED', 'inputIds');
  });

  it('generate rejects an empty batch', async () => {
    await expect(model.generate({ inputIds: [] })).rejects.toMatchObject({ name: 'T5InputError', code: 'EMPTY_BATCH' });
  });

  it('rejects mismatched shapes, bad masks, float ids and missing inputs', () => {
    expectInputError(() => model.forward({ inputIds: [[1, 2]], attentionMask: [[1]], labels: [[1]] }), 'SHAPE', 'attentionMask');
    expectInputError(() => model.forward({ inputIds: [[1, 2]], attentionMask: [[1, 2]], labels: [[1]] }), 'BAD_MASK', 'attentionMask');
    expectInputError(() => model.forward({ inputIds: [[1, 2]], labels: [[1], [1]] }), 'SHAPE');
    expectInputError(() => model.forward({ inputIds: tensor([[1, 2]]), labels: [[1]] }), 'DTYPE');
    expectInputError(() => model.forward({ inputIds: [[1, 2]] }), 'MISSING_INPUT', 'decoderInputIds');
    expectInputError(() => model.forward({ labels: [[1]] }), 'MISSING_INPUT', 'inputIds');
    expectInputError(() => model.forward({ inputIds: [[1]], inputsEmbeds: tensor(new Float32Array(64), { shape: [1, 1, 64] }), labels: [[1]] }), 'BAD_ARGUMENT');
    expectInputError(() => model.forward({ inputsEmbeds: tensor(new Float32Array(32), { shape: [1, 1, 32] }), labels: [[1]] }), 'SHAPE', 'inputsEmbeds');
    expectInputError(() => model.forward({ inputIds: [[1, 2]], decoderInputIds: [[0, 5]], labels: [[5, 1, 1]] }), 'SHAPE', 'labels');
  });

  it('rejects bad generation options', async () => {
    await expect(model.generate({ inputIds: [[1]], maxNewTokens: -1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(model.generate({ inputIds: [[1]], eosTokenId: 9999 })).rejects.toMatchObject({ code: 'ID_OUT_OF_RANGE' });
    await expect(model.generate({ inputIds: [[1, 700]] })).rejects.toBeInstanceOf(T5InputError);
  });

  it('refuses to run after dispose()', async () => {
    const m = await T5ForConditionalGeneration.fromPretrained(loadFixture('v10_relu_tied').dir);
    m.dispose();
    expect(m.isDisposed).toBe(true);
    expectInputError(() => m.forward({ inputIds: [[1]], labels: [[1]] }), 'DISPOSED');
  });
});
