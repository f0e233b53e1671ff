import { describe, expect, it } from 'vitest';

import { getTask } from '../tasks/registry.js';
import {
  MetricError,
  binaryF1,
  computeMetrics,
  exactMatch,
  macroF1,
  numpySum,
  numpyUnicodeCast,
  postprocess,
  pyStrip,
  trueMacroF1,
} from './metrics.js';

// scikit-learn is not installed in this environment, so every expected value
// below is computed by hand; the arithmetic is in the comments. sklearn 1.3's
// per-class F1 is 2·tp / (true_sum + pred_sum), 0 when that denominator is 0.

const BIN = ['negative', 'positive'];
const NLI = ['entailment', 'neutral', 'contradiction'];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MetricError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('post-processing (Python str.strip)', () => {
  it('strips Python whitespace, not JS whitespace', () => {
    expect(pyStrip('  positive\n')).toBe('positive');
    expect(pyStrip('\u3000x\u00a0\t')).toBe('x');
    // U+001C..U+001F and U+0085 are Python whitespace; U+FEFF is not.
    expect(pyStrip('\x1c a \x85\ufeff')).toBe('a \x85\ufeff');
    expect(pyStrip('\ufeffx')).toBe('\ufeffx');
    expect(pyStrip('   ')).toBe('');
    expect(postprocess([' a', 'b '])).toEqual(['a', 'b']);
  });
});

describe('exactMatch (<U16)', () => {
  it('all right = 1, all wrong = 0, mixed = hits / n', () => {
    expect(exactMatch(['a', 'b'], ['a', 'b'])).toBe(1);
    expect(exactMatch(['b', 'a'], ['a', 'b'])).toBe(0);
    // only index 0 matches: 1/4
    expect(exactMatch(['positive', 'negative', 'positiv', 'positive'], ['positive', 'positive', 'positive', 'negative'])).toBe(0.25);
  });

  it('compares only the first 16 code points', () => {
    // "Educational Institution"[:16] = "Educational Inst"
    expect(exactMatch(['Educational Inst'], ['Educational Institution'])).toBe(1);
    // anything after the 16th character is ignored, before it is not
    expect(exactMatch(['Educational Instxyz'], ['Educational Institution'])).toBe(1);
    expect(exactMatch(['Educational Insight'], ['Educational Institution'])).toBe(0);
    // "Mean Of Transportation"[:16] = "Mean Of Transpor"
    expect(exactMatch(['Mean Of Transport'], ['Mean Of Transportation'])).toBe(1);
    // whole-string comparison as an option
    expect(exactMatch(['Educational Inst'], ['Educational Institution'], { maxChars: Infinity })).toBe(0);
  });

  it('counts code points, not UTF-16 units, and drops trailing NULs like numpy', () => {
    expect(numpyUnicodeCast('😀'.repeat(17), 16)).toBe('😀'.repeat(16));
    expect(exactMatch(['😀'.repeat(17)], ['😀'.repeat(16) + 'x'])).toBe(1);
    expect(numpyUnicodeCast('ab\u0000', 16)).toBe('ab');
    expect(exactMatch(['ab\u0000'], ['ab'])).toBe(1);
  });

  it('empty or mismatched inputs are typed errors', () => {
    expect(code(() => exactMatch([], []))).toBe('EMPTY_INPUT');
    expect(code(() => exactMatch(['a'], ['a', 'b']))).toBe('LENGTH_MISMATCH');
  });
});

describe('binaryF1 (positive class, invalid-prediction flip)', () => {
  it('invalid predictions become the wrong label', () => {
    // targets  pos pos pos  neg neg
    // preds    pos neg ???  pos neg   -> ??? (gold pos) flipped to neg
    // tp = 1 (#0), pred_sum(pos) = 2 (#0, #3), true_sum(pos) = 3  -> F1 = 2/(3+2) = 0.4
    const t = ['positive', 'positive', 'positive', 'negative', 'negative'];
    const p = ['positive', 'negative', 'garbage', 'positive', 'negative'];
    expect(binaryF1(p, t, BIN)).toBeCloseTo(0.4, 15);
    // on a negative-gold row an invalid prediction becomes a false positive:
    // targets neg pos, preds ??? pos -> preds pos pos: tp 1, pred_sum 2, true_sum 1 -> 2/3
    expect(binaryF1(['xyz', 'positive'], ['negative', 'positive'], BIN)).toBeCloseTo(2 / 3, 15);
  });

  it('all right = 1; all wrong = 0; all right on an all-negative set = 0 (zero division)', () => {
    // tp 2, pred 2, true 2 -> 4/4
    expect(binaryF1(['positive', 'negative', 'positive'], ['positive', 'negative', 'positive'], BIN)).toBe(1);
    // tp 0 -> 0/(1+1)
    expect(binaryF1(['negative', 'positive'], ['positive', 'negative'], BIN)).toBe(0);
    // no positive anywhere: true_sum = pred_sum = 0 -> sklearn's zero_division -> 0
    expect(binaryF1(['negative', 'negative'], ['negative', 'negative'], BIN)).toBe(0);
    // every prediction invalid: all flipped to the wrong label -> tp 0 -> 0
    expect(binaryF1(['?', '?'], ['positive', 'negative'], BIN)).toBe(0);
  });

  it('uses labels[1] as the positive class (QNLI: not_entailment, SciTail: neutral)', () => {
    const labels = getTask('qnli_text').labels; // [entailment, not_entailment]
    // pos = not_entailment: tp 1 (#1), pred_sum 1, true_sum 2 -> 2/3
    expect(binaryF1(['entailment', 'not_entailment', 'entailment'], ['not_entailment', 'not_entailment', 'entailment'], labels)).toBeCloseTo(
      2 / 3,
      15,
    );
  });

  it('typed errors for empty input, bad label lists and targets outside the labels', () => {
    expect(code(() => binaryF1([], [], BIN))).toBe('EMPTY_INPUT');
    expect(code(() => binaryF1(['a'], [], BIN))).toBe('LENGTH_MISMATCH');
    expect(code(() => binaryF1(['a'], ['a'], ['a', 'b', 'c']))).toBe('BAD_LABELS');
    expect(code(() => binaryF1(['positive'], ['neutral'], BIN))).toBe('BAD_TARGET');
  });
});

describe('macroF1 (sklearn average="macro", labels given)', () => {
  it('hand-computed three-class case with an invalid prediction', () => {
    // targets: e e n c c c ; preds: e n n c ?? e
    // entailment:    tp 1, pred_sum 2 (#0,#5), true_sum 2 -> 2/4 = 0.5
    // neutral:       tp 1, pred_sum 2 (#1,#2), true_sum 1 -> 2/3
    // contradiction: tp 1, pred_sum 1 (#3),    true_sum 3 -> 2/4 = 0.5   ("maybe" only costs recall)
    // macro = mean(0.5, 2/3, 0.5) = 0.5555555555555555 in float64 (np.mean; the exact 5/9 rounds up)
    const t = ['entailment', 'entailment', 'neutral', 'contradiction', 'contradiction', 'contradiction'];
    const p = ['entailment', 'neutral', 'neutral', 'contradiction', 'maybe', 'entailment'];
    expect(macroF1(p, t, NLI)).toBe(0.5555555555555555);
  });

  it('classes absent from both sides count as 0', () => {
    // entailment F1 = 1; neutral, contradiction: nothing -> 0; macro = 1/3
    expect(macroF1(['entailment', 'entailment'], ['entailment', 'entailment'], NLI)).toBeCloseTo(1 / 3, 15);
  });

  it('all right = 1, all wrong = 0', () => {
    expect(macroF1(NLI, NLI, NLI)).toBe(1);
    expect(macroF1(['neutral', 'contradiction', 'entailment'], NLI, NLI)).toBe(0);
    expect(macroF1(['x', 'y', 'z'], NLI, NLI)).toBe(0);
  });

  it('does not truncate: a 16-character prefix is an EM hit but an F1 miss', () => {
    const m = computeMetrics('dbpedia_text', ['Educational Inst'], ['Educational Institution']);
    expect(m.exact_match).toBe(1);
    expect(m.f1).toBe(0);
    // the whole-string variant (TPV 097daa3's evaluate-based exact_match)
    expect(computeMetrics('dbpedia_text', ['Educational Inst'], ['Educational Institution'], { exactMatchMaxChars: Infinity }).exact_match).toBe(0);
  });

  it('typed errors', () => {
    expect(code(() => macroF1([], [], NLI))).toBe('EMPTY_INPUT');
    expect(code(() => macroF1(['a'], ['a'], []))).toBe('BAD_LABELS');
  });
});

describe('trueMacroF1 (the paper wording, for every task)', () => {
  it('binary case without the flip', () => {
    // targets pos pos pos neg neg; preds pos neg ?? pos neg (no flip)
    // positive: tp 1, pred 2 (#0,#3), true 3 -> 2/5 = 0.4
    // negative: tp 1, pred 2 (#1,#4), true 2 -> 2/4 = 0.5       macro = 0.45
    const t = ['positive', 'positive', 'positive', 'negative', 'negative'];
    const p = ['positive', 'negative', 'garbage', 'positive', 'negative'];
    expect(trueMacroF1(p, t, BIN)).toBe(0.45);
  });
});

describe('numpySum', () => {
  it('reproduces numpy pairwise summation', () => {
    // np.add.reduce(np.full(10, 0.1)) == 1.0, while a left-to-right sum gives 0.9999999999999999
    expect(numpySum(Array<number>(10).fill(0.1))).toBe(1.0);
    expect([...Array<number>(10).fill(0.1)].reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(numpySum([])).toBe(0);
    // np.add.reduce(1 / np.arange(1, N + 1)) for N = 1000 (recursive halves) and 300;
    // the left-to-right sums are ...343 and ...502.
    const harmonic = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 / (i + 1));
    expect(numpySum(harmonic(1000))).toBe(7.485470860550345);
    expect(numpySum(harmonic(300))).toBe(6.282663880299504);
    expect(harmonic(300).reduce((a, b) => a + b, 0)).toBe(6.282663880299502);
  });
});

describe('computeMetrics', () => {
  it('binary tasks: strip, exact_match and positive-class f1', () => {
    // preds after strip: positive, negative, ???; targets positive, positive, negative
    // EM: 1/3. F1: ??? (gold neg) -> positive: tp 1, pred 2, true 2 -> 2/4 = 0.5
    const m = computeMetrics('sst2_text', [' positive', 'negative\n', '???'], ['positive', 'positive', 'negative']);
    expect(m).toEqual({ exact_match: 1 / 3, f1: 0.5, f1Kind: 'f1' });
  });

  it('multi-class tasks: macro_f1', () => {
    const m = computeMetrics('mnli_text', NLI, NLI);
    expect(m).toEqual({ exact_match: 1, f1: 1, f1Kind: 'macro_f1' });
  });

  it('true_macro option applies to every task', () => {
    const t = ['positive', 'positive', 'positive', 'negative', 'negative'];
    const p = ['positive', 'negative', 'garbage', 'positive', 'negative'];
    // EM: #0 and #4 match -> 2/5
    expect(computeMetrics('imdb_text', p, t, { f1: 'true_macro' })).toEqual({ exact_match: 0.4, f1: 0.45, f1Kind: 'true_macro_f1' });
    expect(computeMetrics('imdb_text', p, t).f1).toBeCloseTo(0.4, 15);
  });

  it('sst5_text: SST-2 binary F1 by default, 5-class macro F1 in real mode', () => {
    expect(computeMetrics('sst5_text', ['positive'], ['positive']).f1Kind).toBe('f1');
    const real = computeMetrics('sst5_text', ['very positive', 'neutral'], ['very positive', 'negative'], { sst5Mode: 'real' });
    // very positive: F1 1; negative: tp 0, true 1 -> 0; neutral: pred 1 -> 0; others 0 -> macro 1/5
    expect(real).toEqual({ exact_match: 0.5, f1: 0.2, f1Kind: 'macro_f1' });
  });

  it('without post-processing, whitespace counts', () => {
    expect(computeMetrics('sst2_text', [' positive'], ['positive'], { postprocess: false }).exact_match).toBe(0);
  });

  it('empty input is a typed error', () => {
    expect(code(() => computeMetrics('sst2_text', [], []))).toBe('EMPTY_INPUT');
  });
});
