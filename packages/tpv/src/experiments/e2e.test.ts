import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '@tpvjs/tensor';
import { SoftPrompt, T5ForConditionalGeneration, parseT5Config, sampledVocabInit, saveT5Pretrained } from '@tpvjs/t5';
import { runExperimentCommand } from './cli.js';
import { Journal } from './journal.js';

// A tiny random T5 with the real vocabulary (as in train/trainer.test.ts): real tokenisation, fast steps.
const SPIECE = fileURLToPath(new URL('../../../t5/test-data/tokenizer/spiece.model', import.meta.url));
let work: string;
let modelDir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tpv-exp-e2e-'));
  modelDir = join(work, 'model');
  const config = parseT5Config({ vocab_size: 32128, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 1, num_heads: 2, dropout_rate: 0.1, model_type: 't5' });
  const m = T5ForConditionalGeneration.fromConfig(config, { generator: new Generator(3) });
  await saveT5Pretrained(m, modelDir);
  m.dispose();
  copyFileSync(SPIECE, join(modelDir, 'spiece.model'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('tpv experiment (end to end on a tiny model)', () => {
  it('runs a 2-cell grid (train a source prompt, then 0-shot SPoT transfer from it), resumes as a no-op, reports', async () => {
    const spec = {
      name: 'e2e',
      training: { numVirtualTokens: 4, maxSteps: 4, batchSize: 4, warmupSteps: 1, evalEvery: 2, maxTrain: 16, maxValid: 4, maxTest: 4, maxSourceLength: 24, maxNewTokens: 3 },
      cells: [
        { kind: 'prompt-tuning', tasks: ['sst2_text'], origins: [0] },
        { kind: 'prompt-tuning', tasks: ['imdb_text'], origins: [0], shots: [0], init: { spot: 'sst2_text' } },
      ],
    };
    const specFile = join(work, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(work, 'exp');
    const lines: string[] = [];
    const errs: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: { write: (s: string) => errs.push(s) } };
    const res = await runExperimentCommand(['run', specFile, '--model', modelDir, '--out', out, '--quiet'], io);
    expect(res.ran, errs.join('')).toEqual(['prompt-tuning/sst2_text/random/full/o0', 'prompt-tuning/imdb_text/spot:sst2_text/k0/o0']);

    const recs = new Journal(join(out, 'journal.jsonl')).records();
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ tasks: ['sst2_text'], init: 'random', bestStep: expect.any(Number) });
    for (const r of recs) {
      const m = Object.values(r.metrics)[0]!;
      expect(m.exact_match).toBeGreaterThanOrEqual(0);
      expect(m.f1).toBeLessThanOrEqual(1);
    }
    // 0-shot SPoT evaluates the source prompt itself: the saved prompt equals the sst2 best prompt.
    expect(recs[1]!.bestStep).toBeUndefined();
    const a = await SoftPrompt.fromPeft(recs[0]!.promptPath!);
    const b = await SoftPrompt.fromPeft(recs[1]!.promptPath!);
    expect(Array.from(await b.table.data())).toEqual(Array.from(await a.table.data()));
    a.table.dispose();
    b.table.dispose();
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| imdb_text | imdb_text | spot:sst2_text | 0 | 1 |');

    // Running the same command again finds every cell in the journal and loads no model.
    const again = await runExperimentCommand(['run', specFile, '--model', join(work, 'no-such-model'), '--out', out], io);
    expect(again.ran).toEqual([]);
    expect(new Journal(join(out, 'journal.jsonl')).records()).toHaveLength(2);

    const rep = await runExperimentCommand(['report', out, '--svg', join(work, 'fig.svg')], io);
    expect(rep.report).toContain('## Prompt tuning');
    expect(existsSync(join(work, 'fig.svg'))).toBe(true);
  });

  it('runs RQ2 addition (λ search) and a TPV-combination init from two trained sources', async () => {
    const spec = {
      name: 'rq2',
      training: { numVirtualTokens: 4, maxSteps: 2, batchSize: 4, warmupSteps: 1, evalEvery: 2, maxTrain: 8, maxValid: 4, maxTest: 4, maxSourceLength: 24, maxNewTokens: 3, lambdaGrid: [0, 0.5, 1] },
      cells: [
        { kind: 'prompt-tuning', tasks: ['sst2_text'], origins: [1] },
        { kind: 'prompt-tuning', tasks: ['imdb_text'], origins: [1] },
        { kind: 'addition', tasks: ['sst2_text', 'imdb_text'], origins: [1] },
        { kind: 'prompt-tuning', tasks: ['scitail_text'], origins: [1], shots: [0], init: { tpv: ['sst2_text', 'imdb_text'] } },
      ],
    };
    const specFile = join(work, 'rq2.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(work, 'rq2');
    const errs: string[] = [];
    const io = { out: () => {}, err: { write: (s: string) => errs.push(s) } };
    const res = await runExperimentCommand(['run', specFile, '--model', modelDir, '--out', out, '--quiet'], io);
    expect((res.ran as string[]).length, errs.join('')).toBe(4);
    const recs = new Journal(join(out, 'journal.jsonl')).records();
    expect([0, 0.5, 1]).toContain(recs[2]!.lambda);
    expect(Object.keys(recs[2]!.metrics)).toEqual(['sst2_text', 'imdb_text']);
    expect(recs[3]!.init).toBe('tpv:sst2_text+imdb_text');
    expect(res.report).toContain('## RQ2: relative performance');
    // The TPV-combination init (λ = 1) is θ₀ + (θ_sst2 − θ₀) + (θ_imdb − θ₀); 0 shots → saved untrained.
    const model = await T5ForConditionalGeneration.fromPretrained(modelDir);
    const o = sampledVocabInit(model, { numVirtualTokens: 4, index: 1 });
    const read = async (p: string) => {
      const sp = await SoftPrompt.fromPeft(p);
      const d = Float32Array.from(await sp.table.data());
      sp.table.dispose();
      return d;
    };
    const [t0, ta, tb, comb] = [Float32Array.from(await o.table.data()), await read(recs[0]!.promptPath!), await read(recs[1]!.promptPath!), await read(recs[3]!.promptPath!)];
    o.table.dispose();
    model.dispose();
    for (let i = 0; i < t0.length; i++) expect(comb[i]).toBeCloseTo(t0[i]! + (ta[i]! - t0[i]!) + (tb[i]! - t0[i]!), 5);
  });
});
