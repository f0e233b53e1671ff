/**
 * Test helpers for the HF T5 oracle fixtures in `packages/t5/test-data/oracle/` (copied from the
 * shared fixtures so a clean clone can run the tests). See that folder's README for what each
 * quantity means and the tolerances used here.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile, type Tensor } from '@tpvjs/tensor';
import { expect } from 'vitest';

/** Root of the oracle fixtures. */
export const ORACLE_DIR = fileURLToPath(new URL('../../../test-data/oracle/', import.meta.url));

/** The four oracle models: F32 v1.0 tied, F32 v1.1 gated untied, and BF16 / F16 twins. */
export const ORACLE_MODELS = ['v10_relu_tied', 'v11_gated_untied', 'v10_relu_tied_bf16', 'v11_gated_untied_f16'] as const;
/** One oracle model name. */
export type OracleModel = (typeof ORACLE_MODELS)[number];

/** `inputs.json` of a fixture. */
export interface OracleInputs {
  input_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
  decoder_attention_mask: number[][];
  max_new_tokens: number;
  eos_token_id_override: number | null;
  num_virtual_tokens: number;
  adamw: { lr: number; weight_decay: number; betas: [number, number]; eps: number; amsgrad: boolean; steps: number };
}

/** `expected.json` of a fixture (the parts the tests read). */
export interface OracleExpected {
  loss: number;
  num_label_tokens: number;
  loss_with_decoder_attention_mask: number;
  decoder_input_ids: number[][];
  greedy_ids: number[][];
  greedy_ids_eos_override: number[][];
  prompt: { loss: number; greedy_ids: number[][]; adamw_losses: number[]; grad_rows_nonzero: number[] };
  shapes: Record<string, number[]>;
}

/** A loaded fixture: paths, JSON, and the float outputs of `expected.safetensors`. */
export interface OracleFixture {
  name: OracleModel;
  dir: string;
  promptDir: string;
  inputs: OracleInputs;
  expected: OracleExpected;
  /** Reads a float32 tensor of `expected.safetensors`. */
  tensor(key: string): { shape: number[]; data: Float32Array };
}

const cache = new Map<string, OracleFixture>();

/** Loads (once per process) the fixture of `name`. */
export function loadFixture(name: OracleModel): OracleFixture {
  const hit = cache.get(name);
  if (hit) return hit;
  const dir = `${ORACLE_DIR}${name}`;
  const file = SafetensorsFile.open(`${dir}/expected.safetensors`);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of file.names()) tensors.set(n, file.readFloat32(n));
  file.close();
  const fx: OracleFixture = {
    name,
    dir,
    promptDir: `${dir}/prompt`,
    inputs: JSON.parse(fs.readFileSync(`${dir}/inputs.json`, 'utf8')) as OracleInputs,
    expected: JSON.parse(fs.readFileSync(`${dir}/expected.json`, 'utf8')) as OracleExpected,
    tensor(key) {
      const t = tensors.get(key);
      if (!t) throw new Error(`expected.safetensors of ${name} has no '${key}'`);
      return t;
    },
  };
  cache.set(name, fx);
  return fx;
}

/** Max errors of one comparison, for the parity report. */
export interface ErrorFigures {
  /** max |a − b|. */
  maxAbs: number;
  /** max |a − b| / (atol + rtol·|b|): ≤ 1 passes the elementwise criterion. */
  worstRatio: number;
}

/** Parity figures collected by the tests: quantity → model → max abs error. */
export const parityReport = new Map<string, Map<string, number>>();

/** Records a figure for the report printed at the end of a test file. */
export function record(quantity: string, model: string, value: number): void {
  let m = parityReport.get(quantity);
  if (!m) parityReport.set(quantity, (m = new Map()));
  m.set(model, Math.max(m.get(model) ?? 0, value));
}

/** The report as a table (one line per quantity, one column per model). */
export function formatReport(): string {
  const lines = [`quantity | ${ORACLE_MODELS.join(' | ')}`];
  for (const [q, m] of parityReport) lines.push(`${q} | ${ORACLE_MODELS.map((n) => (m.has(n) ? m.get(n)!.toExponential(2) : '-')).join(' | ')}`);
  return lines.join('\n');
}

/**
 * Elementwise `|a − b| ≤ atol + rtol·|b|` (the README's criterion for hidden states, logits and
 * biases), with the shape checked too. Records the max abs error under `quantity`.
 */
export function expectClose(actual: Tensor, expected: { shape: number[]; data: Float32Array }, quantity: string, model: string, atol = 1e-4, rtol = 1e-4): ErrorFigures {
  expect([...actual.shape]).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.data;
  let maxAbs = 0;
  let worstRatio = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= maxAbs)) maxAbs = d; // NaN-safe: a NaN makes maxAbs NaN
    const r = d / (atol + rtol * Math.abs(b[i]!));
    if (!(r <= worstRatio)) worstRatio = r;
  }
  record(quantity, model, maxAbs);
  expect(worstRatio, `${quantity} of ${model}: max abs error ${maxAbs}`).toBeLessThanOrEqual(1);
  return { maxAbs, worstRatio };
}

/** `|a − b| ≤ rtol·|b|` for a scalar (losses); records the relative error. */
export function expectScalarClose(actual: number, expected: number, quantity: string, model: string, rtol = 1e-5): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  record(quantity, model, rel);
  expect(rel, `${quantity} of ${model}: ${actual} vs ${expected}`).toBeLessThanOrEqual(rtol);
}
