/** Dropout: active in train mode with the config's rate, reproducible from a seed, off in eval. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, tidy } from '@tpvjs/tensor';
import { T5ForConditionalGeneration } from './t5.js';
import { expectClose, loadFixture } from './__tests__/oracle.js';

describe('dropout', () => {
  const fx = loadFixture('v10_relu_tied');
  let model: T5ForConditionalGeneration;
  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(fx.dir);
  });
  afterAll(() => model.dispose());

  const run = () =>
    tidy(() => {
      const out = model.forward({ inputIds: fx.inputs.input_ids, attentionMask: fx.inputs.attention_mask, labels: fx.inputs.labels });
      return { logits: Float32Array.from(out.logits.dataSync()), loss: out.loss!.dataSync()[0]! };
    });

  it('changes outputs in train mode and is reproducible with the same seed', () => {
    expect(model.config.dropoutRate).toBe(0.1);
    model.train(new Generator(123));
    const a = run();
    model.train(new Generator(123));
    const b = run();
    const c = run(); // the generator moved on: new masks
    model.eval();
    expect(a.logits).toEqual(b.logits);
    expect(a.loss).toBe(b.loss);
    expect(c.logits).not.toEqual(a.logits);
    expect(Math.abs(a.loss - fx.expected.loss)).toBeGreaterThan(1e-4);
  });

  it('is off again after eval(): outputs equal HF eval outputs', () => {
    model.train(new Generator(5));
    run();
    model.eval();
    expect(model.training).toBe(false);
    tidy(() => {
      const out = model.forward({ inputIds: fx.inputs.input_ids, attentionMask: fx.inputs.attention_mask, labels: fx.inputs.labels });
      expectClose(out.logits, fx.tensor('logits'), 'logits', fx.name);
    });
  });

  it('zeroes about dropout_rate of the FF activations (train-mode encoder outputs differ per seed)', () => {
    model.train(new Generator(1));
    const a = tidy(() => Float32Array.from(model.encode({ inputIds: fx.inputs.input_ids }).lastHiddenState.dataSync()));
    model.train(new Generator(2));
    const b = tidy(() => Float32Array.from(model.encode({ inputIds: fx.inputs.input_ids }).lastHiddenState.dataSync()));
    model.eval();
    // The final dropout zeroes ~10% of the encoder output elements.
    const zerosA = a.filter((x) => x === 0).length / a.length;
    expect(zerosA).toBeGreaterThan(0.05);
    expect(zerosA).toBeLessThan(0.15);
    expect(a).not.toEqual(b);
  });
});
