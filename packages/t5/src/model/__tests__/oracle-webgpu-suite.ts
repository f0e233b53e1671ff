/**
 * Shared body of the WebGPU oracle tests: the T5 + PEFT oracle on the WebGPU backend: the same PyTorch reference numbers as the CPU tests
 * (hidden states, logits, losses, greedy ids, the prompt gradient and three AdamW steps), read
 * back asynchronously. Without an adapter the suite is skipped with a loud notice, except under
 * `CI=true`, where that fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type Tensor, setBackend, tidy } from '@tpvjs/tensor';
import { withWebGPU } from '../../../../tensor/src/testing/webgpu-gate.js';
import { SoftPrompt } from '../../peft/index.js';
import { T5ForConditionalGeneration } from '../t5.js';
import { ORACLE_MODELS, loadFixture } from './oracle.js';

async function expectClose(t: Tensor, ref: { shape: number[]; data: Float32Array }, what: string, atol = 1e-4, rtol = 1e-4): Promise<void> {
  expect([...t.shape], what).toEqual(ref.shape);
  const a = await t.data();
  let worst = 0;
  let where = -1;
  for (let i = 0; i < ref.data.length; i++) {
    const excess = Math.abs(a[i]! - ref.data[i]!) - (atol + rtol * Math.abs(ref.data[i]!));
    if (excess > worst) {
      worst = excess;
      where = i;
    }
  }
  expect(where, `${what}: element ${where} is ${a[where]} vs ${ref.data[where]}`).toBe(-1);
}

function expectRel(a: number, b: number, what: string, rtol = 1e-5): void {
  expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(rtol * Math.abs(b));
}

/** Declares the oracle suite on WebGPU (skipped loudly without an adapter, failing under CI=true). */
export async function defineWebGPUOracleSuite(label: string): Promise<void> {
    await withWebGPU('T5 webgpu oracle tests', async () => {
    describe.each(ORACLE_MODELS)(`T5 oracle on webgpu (${label}): %s`, (name) => {
      const fx = loadFixture(name);
      const inp = fx.inputs;
      const base = { inputIds: inp.input_ids, attentionMask: inp.attention_mask };
      let model: T5ForConditionalGeneration;
      let prompt: SoftPrompt;

      beforeAll(async () => {
        await setBackend('webgpu');
        model = await T5ForConditionalGeneration.fromPretrained(fx.dir);
        prompt = await SoftPrompt.fromPeft(fx.promptDir, { model });
      });
      afterAll(async () => {
        model.dispose();
        prompt.table.dispose();
        await setBackend('cpu');
      });

      it('teacher-forced forward: encoder states, logits, loss', async () => {
        const out = model.forward({ ...base, labels: inp.labels });
        await expectClose(out.encoderLastHiddenState, fx.tensor('encoder_last_hidden_state'), 'encoder_last_hidden_state');
        await expectClose(out.logits, fx.tensor('logits'), 'logits');
        expectRel(await out.loss!.item(), fx.expected.loss, 'loss');
        const masked = model.forward({ ...base, labels: inp.labels, decoderAttentionMask: inp.decoder_attention_mask });
        await expectClose(masked.logits, fx.tensor('logits_with_decoder_attention_mask'), 'logits_with_decoder_attention_mask');
        for (const o of [out, masked]) for (const t of Object.values(o)) if (t && 'dispose' in t) (t as Tensor).dispose();
      });

      it('greedy generation (with and without the KV cache, and with an EOS override)', async () => {
        const args = { ...base, maxNewTokens: inp.max_new_tokens };
        expect(await model.generate(args)).toEqual(fx.expected.greedy_ids);
        expect(await model.generate({ ...args, useCache: false })).toEqual(fx.expected.greedy_ids);
        if (inp.eos_token_id_override !== null) {
          expect(await model.generate({ ...args, eosTokenId: inp.eos_token_id_override })).toEqual(fx.expected.greedy_ids_eos_override);
        }
      });

      it('prompted forward, greedy ids, the gradient w.r.t. the table and three AdamW steps', async () => {
        const out = model.forward({ ...base, labels: inp.labels, softPrompt: prompt });
        await expectClose(out.encoderLastHiddenState, fx.tensor('prompt.encoder_last_hidden_state'), 'prompt.encoder_last_hidden_state');
        await expectClose(out.logits, fx.tensor('prompt.logits'), 'prompt.logits');
        expectRel(await out.loss!.item(), fx.expected.prompt.loss, 'prompt.loss');
        for (const t of Object.values(out)) if (t && 'dispose' in t) (t as Tensor).dispose();
        expect(await model.generate({ ...base, maxNewTokens: inp.max_new_tokens, softPrompt: prompt })).toEqual(fx.expected.prompt.greedy_ids);

        const n = inp.num_virtual_tokens;
        const table = SoftPrompt.fromArray(Float32Array.from(await prompt.table.data()), { numVirtualTokens: n, requiresGrad: true });
        const hp = inp.adamw;
        const opt = new AdamW(table.parameters(), { lr: hp.lr, weightDecay: hp.weight_decay, betas: hp.betas, eps: hp.eps });
        const losses: number[] = [];
        for (let k = 1; k <= hp.steps; k++) {
          const l = tidy(() => {
            opt.zeroGrad();
            const loss = model.forward({ ...base, labels: inp.labels, softPrompt: table }).loss!;
            loss.backward();
            return loss.detach();
          });
          losses.push(await l.item());
          l.dispose();
          if (k === 1) {
            const g = await table.table.grad!.data();
            const ref = fx.tensor('prompt.grad');
            let maxRef = 0;
            let maxErr = 0;
            for (let i = 0; i < ref.data.length; i++) {
              maxRef = Math.max(maxRef, Math.abs(ref.data[i]!));
              maxErr = Math.max(maxErr, Math.abs(g[i]! - ref.data[i]!));
            }
            expect(maxErr / maxRef, 'prompt.grad max error / max |g|').toBeLessThanOrEqual(1e-4);
            const d = model.config.dModel;
            expect(g.subarray(n * d).every((x) => x === 0), 'rows ≥ n have exactly zero gradient').toBe(true);
          }
          opt.step();
          await expectClose(table.table, fx.tensor(`prompt.adamw.table_after_step${k}`), `table_after_step${k}`, 1e-4, 0);
        }
        const last = tidy(() => model.forward({ ...base, labels: inp.labels, softPrompt: table }).loss!.detach());
        losses.push(await last.item());
        last.dispose();
        fx.expected.prompt.adamw_losses.forEach((l, i) => expectRel(losses[i]!, l, `adamw loss ${i}`));
        opt.zeroGrad();
        opt.dispose();
        table.dispose();
      });
    });
  });
}
