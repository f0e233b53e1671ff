#!/usr/bin/env node
/**
 * The quick-start demo (engine stage): trains a small MLP classifier with autograd and AdamW on
 * a synthetic task and prints a progress bar and the loss curve.
 */
import { AdamW, Generator, crossEntropy, linear, memory, randn, relu, tensor, tidy } from '@tpvjs/tensor';
import { StepProgress } from './util/progress.js';

async function main(): Promise<void> {
  const gen = new Generator(42);
  const x = randn([256, 16], { generator: gen });
  const labels = Array.from(await x.data()).reduce<number[]>((acc, _, i, a) => {
    if (i % 16 === 0) acc.push(a[i]! + a[i + 1]! > 0 ? 1 : 0);
    return acc;
  }, []);
  const y = tensor(labels, { dtype: 'int32' });
  const w1 = randn([32, 16], { generator: gen, requiresGrad: true });
  const w2 = randn([2, 32], { generator: gen, requiresGrad: true });
  const opt = new AdamW([w1, w2], { lr: 1e-2, weightDecay: 0 });
  const steps = 200;
  const bar = new StepProgress(steps, { label: 'mlp' });
  for (let s = 1; s <= steps; s++) {
    const loss = tidy(() => {
      opt.zeroGrad();
      const l = crossEntropy(linear(relu(linear(x, w1)), w2), y);
      l.backward();
      opt.step();
      return l.detach();
    });
    bar.update(s, { loss: await loss.item() });
    loss.dispose();
  }
  bar.done();
  console.log(`live tensors: ${memory().numTensors}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
