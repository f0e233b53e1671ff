#!/usr/bin/env node
// Regenerates packages/tpv/data/<dataset>/ from the staged real samples
// (shared/data/<dataset>/, see SOURCES.md).
//
//   node packages/tpv/data/tools/make-subsets.mjs <shared/data dir> <packages/tpv/data dir>
//
// Selection rule (deterministic, no randomness): for each split file, group
// the rows by label (meta.json `label_field`) in file order and take them
// round-robin over the sorted label ids (1st row of every class, then the
// 2nd, ...) until the cap is reached; write the picked rows in their original
// file order. Caps: 200 rows for `train`, 100 for every other split.
// Round-robin keeps every class represented (>= 2 rows per class, so the
// stratified HF splits work on the samples) at a small size.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const [src, dst] = process.argv.slice(2);
if (!src || !dst) throw new Error('usage: make-subsets.mjs <src> <dst>');
const DATASETS = ['ag_news', 'dbpedia_14', 'glue-mnli', 'glue-qnli', 'glue-sst2', 'imdb', 'scitail', 'snli', 'sst5', 'trec', 'yahoo_answers_topics', 'yelp_polarity'];
const summary = {};
for (const ds of DATASETS) {
  const meta = JSON.parse(readFileSync(join(src, ds, 'meta.json'), 'utf8'));
  mkdirSync(join(dst, ds), { recursive: true });
  copyFileSync(join(src, ds, 'meta.json'), join(dst, ds, 'meta.json'));
  const subset = { source: `shared/data/${ds}`, rule: 'round-robin over sorted label ids in file order; train <= 200, other splits <= 100; original order kept', splits: {} };
  for (const file of readdirSync(join(src, ds)).filter((f) => f.endsWith('.jsonl')).sort()) {
    const split = file.replace(/\.jsonl$/, '');
    const lines = readFileSync(join(src, ds, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const rows = lines.map((l) => JSON.parse(l));
    const cap = split === 'train' ? 200 : 100;
    const byLabel = new Map();
    rows.forEach((r, i) => {
      const y = r[meta.label_field];
      if (!byLabel.has(y)) byLabel.set(y, []);
      byLabel.get(y).push(i);
    });
    const labels = [...byLabel.keys()].sort((a, b) => a - b);
    const picked = [];
    for (let k = 0; picked.length < Math.min(cap, rows.length); k++) {
      for (const y of labels) {
        const idx = byLabel.get(y);
        if (k < idx.length && picked.length < cap) picked.push(idx[k]);
      }
    }
    picked.sort((a, b) => a - b);
    writeFileSync(join(dst, ds, file), picked.map((i) => lines[i]).join('\n') + '\n');
    const counts = {};
    for (const i of picked) counts[rows[i][meta.label_field]] = (counts[rows[i][meta.label_field]] ?? 0) + 1;
    subset.splits[split] = { count: picked.length, of: rows.length, label_counts: counts, source_rows: picked };
  }
  writeFileSync(join(dst, ds, 'subset.json'), JSON.stringify(subset) + '\n');
  summary[ds] = Object.fromEntries(Object.entries(subset.splits).map(([k, v]) => [k, v.count]));
}
console.log(JSON.stringify(summary, null, 1));
