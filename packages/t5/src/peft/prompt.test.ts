/**
 * PEFT prompt tuning against the oracle: prompted encoder states, logits, loss, greedy ids, the
 * gradient w.r.t. the table (rows ≥ n exactly zero) and three AdamW steps (lr 0.3, wd 1e-5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, memory, tidy } from '@tpvjs/tensor';
import { T5ForConditionalGeneration } from '../model/index.js';
import { ORACLE_MODELS, expectClose, expectScalarClose, formatReport, loadFixture, record } from '../model/__tests__/oracle.js';
import { SoftPrompt } from './soft-prompt.js';

afterAll(() => {
  console.log(`PEFT prompt-tuning parity (max abs error; losses: relative; grad: max error / max |grad|)\n${formatReport()}`);
});

describe.each(ORACLE_MODELS)('prompt tuning parity: %s', (name) => {
  const fx = loadFixture(name);
  const inp = fx.inputs;
  const n = inp.num_virtual_tokens;
  let model: T5ForConditionalGeneration;
  let prompt: SoftPrompt;

  beforeAll(async () => {
    model = await T5ForConditionalGeneration.fromPretrained(fx.dir);
    prompt = await SoftPrompt.fromPeft(fx.promptDir, { model });
  });
  afterAll(() => {
    model.dispose();
    prompt.dispose();
  });

  it('loads the fixture adapter: [2n, d] table, PEFT settings', () => {
    expect(prompt.numVirtualTokens).toBe(n);
    expect(prompt.numTransformerSubmodules).toBe(2);
    expect([...prompt.table.shape]).toEqual([2 * n, model.config.dModel]);
    expect(prompt.config.promptTuningInit).toBe('RANDOM');
  });

  it('prompted forward: encoder states, logits, loss', () => {
    tidy(() => {
      const out = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels, softPrompt: prompt });
      expectClose(out.encoderLastHiddenState, fx.tensor('prompt.encoder_last_hidden_state'), 'prompt.encoder_last_hidden_state', name);
      expectClose(out.logits, fx.tensor('prompt.logits'), 'prompt.logits', name);
      expectScalarClose(out.loss!.dataSync()[0]!, fx.expected.prompt.loss, 'prompt.loss (rel)', name);
    });
  });

  it('prompted greedy generation (cached and recomputed)', async () => {
    const args = { inputIds: inp.input_ids, attentionMask: inp.attention_mask, maxNewTokens: inp.max_new_tokens, softPrompt: prompt };
    expect(await model.generate(args)).toEqual(fx.expected.prompt.greedy_ids);
    expect(await model.generate({ ...args, useCache: false })).toEqual(fx.expected.prompt.greedy_ids);
  });

  it('gradient w.r.t. the table: rows ≥ n exactly zero, the rest within 1e-4 of max|g|', () => {
    const table = SoftPrompt.fromArray(prompt.table.dataSync() as Float32Array, { numVirtualTokens: n, requiresGrad: true });
    const before = memory().numTensors;
    tidy(() => {
      const out = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels, softPrompt: table });
      out.loss!.backward();
    });
    // Only the gradient survives the step.
    expect(memory().numTensors - before).toBe(1);
    const g = table.table.grad!.dataSync();
    const ref = fx.tensor('prompt.grad');
    const d = model.config.dModel;
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < ref.data.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref.data[i]!));
      maxErr = Math.max(maxErr, Math.abs(g[i]! - ref.data[i]!));
    }
    record('prompt.grad (max err / max|g|)', name, maxErr / maxRef);
    expect(maxErr).toBeLessThanOrEqual(1e-4 * maxRef);
    const nonzero: number[] = [];
    for (let r = 0; r < 2 * n; r++) {
      const row = g.subarray(r * d, (r + 1) * d);
      if (row.some((x) => x !== 0)) nonzero.push(r);
      if (r >= n) expect(row.every((x) => x === 0)).toBe(true);
    }
    expect(nonzero).toEqual(fx.expected.prompt.grad_rows_nonzero);
    table.dispose();
  });

  it('three AdamW steps (lr 0.3, wd 1e-5) follow the oracle tables and losses', () => {
    const hp = inp.adamw;
    const table = SoftPrompt.fromArray(prompt.table.dataSync() as Float32Array, { numVirtualTokens: n, requiresGrad: true });
    const opt = new AdamW(table.parameters(), { lr: hp.lr, weightDecay: hp.weight_decay, betas: hp.betas, eps: hp.eps });
    const lossAt = () => tidy(() => model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels, softPrompt: table }).loss!.dataSync()[0]!);
    const losses: number[] = [];
    const start = memory().numTensors;
    for (let k = 1; k <= hp.steps; k++) {
      const loss = tidy(() => {
        opt.zeroGrad();
        const l = model.forward({ inputIds: inp.input_ids, attentionMask: inp.attention_mask, labels: inp.labels, softPrompt: table }).loss!;
        l.backward();
        opt.step();
        return l.dataSync()[0]!;
      });
      losses.push(loss);
      expectClose(table.table, fx.tensor(`prompt.adamw.table_after_step${k}`), 'prompt.adamw.table_after_step*', name, 1e-4, 0);
    }
    losses.push(lossAt());
    fx.expected.prompt.adamw_losses.forEach((l, i) => expectScalarClose(losses[i]!, l, 'prompt.adamw_losses (rel)', name));
    opt.zeroGrad();
    // Moments (2) were allocated by the first step; nothing else accumulates across steps.
    expect(memory().numTensors - start).toBe(2);
    opt.dispose();
    table.dispose();
  });
});
