import { describe, expect, it } from 'vitest';
import type { JournalRecord } from './journal.js';
import { aggregatePromptTuning, fewShotTasks, meanStd100, relativePerformance, renderReport, renderShotsSvg } from './report.js';

let n = 0;
function r(task: string, origin: number, init: string, shots: number | undefined, em: number, f1: number): JournalRecord {
  return {
    experiment: 'hand', key: `k${n++}`, kind: 'prompt-tuning', tasks: [task], origin, init, ...(shots !== undefined ? { shots } : {}),
    metrics: { [task]: { exact_match: em, f1 } }, started: '', finished: '',
  };
}
function add(a: string, b: string, origin: number, emA: number, emB: number, lambda: number): JournalRecord {
  return {
    experiment: 'hand', key: `k${n++}`, kind: 'addition', tasks: [a, b], origin, init: 'random', lambda,
    metrics: { [a]: { exact_match: emA, f1: emA }, [b]: { exact_match: emB, f1: emB } }, started: '', finished: '',
  };
}

const journal: JournalRecord[] = [
  // scitail, random, 0 shots, origins 0..2:
  //   EM ×100 = 40, 40, 70 → mean 50; deviations −10, −10, 20 → population var (100+100+400)/3 = 200 → std √200 = 14.142
  //   F1 ×100 = 50, 60, 70 → mean 60; var (100+0+100)/3 = 66.667 → std 8.165
  r('scitail_text', 0, 'random', 0, 0.4, 0.5), r('scitail_text', 1, 'random', 0, 0.4, 0.6), r('scitail_text', 2, 'random', 0, 0.7, 0.7),
  // scitail, random, 100 shots: F1 80, 90 → mean 85, std 5
  r('scitail_text', 0, 'random', 100, 0.8, 0.8), r('scitail_text', 1, 'random', 100, 0.9, 0.9),
  // scitail, tpv, 0 shots: F1 60, 80 → mean 70, std 10
  r('scitail_text', 0, 'tpv:mnli_text+qnli_text', 0, 0.6, 0.6), r('scitail_text', 1, 'tpv:mnli_text+qnli_text', 0, 0.8, 0.8),
  // single-task sources (full data): mnli EM 80, 60 → mean 70; qnli EM 90, 90 → mean 90
  r('mnli_text', 0, 'random', undefined, 0.8, 0.8), r('mnli_text', 1, 'random', undefined, 0.6, 0.6),
  r('qnli_text', 0, 'random', undefined, 0.9, 0.9), r('qnli_text', 1, 'random', undefined, 0.9, 0.9),
  // mnli+qnli addition: mnli EM 63, 77 → mean 70 → ratio 70/70 = 1.00; qnli EM 36, 54 → mean 45 → ratio 45/90 = 0.50; λ* 0.5, 0.7 → 0.6
  add('mnli_text', 'qnli_text', 0, 0.63, 0.36, 0.5), add('mnli_text', 'qnli_text', 1, 0.77, 0.54, 0.7),
];

describe('experiment reports', () => {
  it('mean and population std ×100', () => {
    const m = meanStd100([0.4, 0.4, 0.7]);
    expect(m.mean).toBeCloseTo(50, 10);
    expect(m.std).toBeCloseTo(Math.sqrt(200), 10);
    expect(meanStd100([0.5]).std).toBe(0); // one run: population std is 0, not NaN (ddof = 0)
    expect(meanStd100([]).n).toBe(0);
  });

  it('aggregates per (task, init, shots) over origins', () => {
    const rows = aggregatePromptTuning(journal);
    const get = (init: string, shots: number | undefined) => rows.find((x) => x.task === 'scitail_text' && x.init === init && x.shots === shots)!;
    expect(get('random', 0).em.mean).toBeCloseTo(50, 10);
    expect(get('random', 0).em.std).toBeCloseTo(14.142136, 5);
    expect(get('random', 0).f1.mean).toBeCloseTo(60, 10);
    expect(get('random', 0).f1.std).toBeCloseTo(8.164966, 5);
    expect(get('random', 0).origins).toEqual([0, 1, 2]);
    expect(get('random', 100).f1).toMatchObject({ n: 2 });
    expect(get('random', 100).f1.mean).toBeCloseTo(85, 10);
    expect(get('random', 100).f1.std).toBeCloseTo(5, 10);
    expect(get('tpv:mnli_text+qnli_text', 0).f1.std).toBeCloseTo(10, 10);
  });

  it('RQ2 relative performance is a ratio of means over origins', () => {
    const [row] = relativePerformance(journal);
    expect(row!.pair).toBe('mnli_text+qnli_text');
    expect(row!.combinationEm[0]).toBeCloseTo(70, 10);
    expect(row!.singleEm).toEqual([expect.closeTo(70, 10), expect.closeTo(90, 10)]);
    expect(row!.ratio[0]).toBeCloseTo(1, 10);
    expect(row!.ratio[1]).toBeCloseTo(0.5, 10);
    expect(row!.meanLambda).toBeCloseTo(0.6, 10);
  });

  it('renders Markdown tables and an F1-vs-shots SVG', () => {
    const md = renderReport(journal, { title: 'hand' });
    expect(md).toContain('| scitail_text | scitail_text | random | 0 | 3 | 50.0 ± 14.1 | 60.0 ± 8.2 |');
    expect(md).toContain('### F1 at 0 shots');
    expect(md).toContain('| tpv:mnli_text+qnli_text | 70.0 ± 10.0 |');
    expect(md).toContain('### F1 at 100 shots');
    // ratio B is exactly 0.5, not > 0.5: the pair is not bold (Fig. 10's rule).
    expect(md).toContain('| mnli_text+qnli_text | 2 | 0.60 | 70.0 / 70.0 | 45.0 / 90.0 | 1.00 | 0.50 |');
    expect(fewShotTasks(journal)).toEqual(['scitail_text']);
    const svg = renderShotsSvg(journal, 'scitail_text');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<polyline'); // random has two shot counts → a line
    expect(svg).toContain('tpv:mnli_text+qnli_text');
    expect(svg).toContain('random, 100 shots: 85.0 ± 5.0 (n=2)');
  });
});
