import { type Tensor, tensor } from '@tpvjs/tensor';

/** A text-to-text example (see `tasks/format.ts`). */
export interface TextExample {
  source: string;
  target: string;
}

/** What the data pipeline needs from a tokenizer (`T5Tokenizer` satisfies it). */
export interface BatchTokenizer {
  encodeBatch(
    texts: string[],
    options: { maxLength?: number; truncation?: boolean; padding?: 'max_length' | 'longest' | false },
  ): { inputIds: number[][]; attentionMask: number[][] };
  readonly padTokenId: number;
}

/** Tokenised examples of one dataset, ready for batching. */
export interface EncodedDataset {
  /** Dataset (task) name. */
  name: string;
  inputIds: number[][];
  attentionMask: number[][];
  /** Target ids padded to the task's max target length. */
  labels: number[][];
  /** The raw texts, for evaluation. */
  examples: TextExample[];
}

/** Options for {@link encodeDataset}. */
export interface EncodeOptions {
  /** Source length; the reference pads and truncates to 256. */
  maxSourceLength: number;
  /** Target length: the longest tokenised label word incl. EOS (see `maxTargetLength`). */
  maxTargetLength: number;
  /**
   * Replace target padding by −100 so it is ignored by the loss. Off by default: the
   * reference code keeps pad id 0 in the labels, so padding after EOS counts in the loss.
   */
  ignorePadInLoss?: boolean;
}

/**
 * Tokenises sources (padded/truncated to `maxSourceLength`, EOS appended) and targets (padded
 * to `maxTargetLength`) exactly as the reference preprocessor does.
 */
export function encodeDataset(name: string, examples: TextExample[], tok: BatchTokenizer, o: EncodeOptions): EncodedDataset {
  if (examples.length === 0) return { name, inputIds: [], attentionMask: [], labels: [], examples };
  const src = tok.encodeBatch(examples.map((e) => e.source), { maxLength: o.maxSourceLength, truncation: true, padding: 'max_length' });
  const tgt = tok.encodeBatch(examples.map((e) => e.target), { maxLength: o.maxTargetLength, truncation: true, padding: 'max_length' });
  const labels = o.ignorePadInLoss
    ? tgt.inputIds.map((row, i) => row.map((id, j) => (tgt.attentionMask[i]![j] ? id : -100)))
    : tgt.inputIds;
  return { name, inputIds: src.inputIds, attentionMask: src.attentionMask, labels, examples };
}

/** One training or evaluation batch as int32 tensors. */
export interface Batch {
  inputIds: Tensor;
  attentionMask: Tensor;
  labels: Tensor;
}

/** Builds a batch from rows of one or more datasets (label rows of mixed lengths are right-padded with −100, like `DataCollatorForSeq2Seq`). */
export function makeBatch(rows: readonly { ds: EncodedDataset; row: number }[]): Batch {
  const labelRows = rows.map(({ ds, row }) => ds.labels[row]!);
  const T = Math.max(...labelRows.map((r) => r.length));
  return {
    inputIds: tensor(rows.map(({ ds, row }) => ds.inputIds[row]!), { dtype: 'int32' }),
    attentionMask: tensor(rows.map(({ ds, row }) => ds.attentionMask[row]!), { dtype: 'int32' }),
    labels: tensor(labelRows.map((r) => [...r, ...new Array<number>(T - r.length).fill(-100)]), { dtype: 'int32' }),
  };
}

/** A position in a multi-dataset training stream: which dataset and which row. */
export interface StreamItem {
  dataset: number;
  row: number;
}

/**
 * The training order: the concatenation of all datasets (SPoT's examples-proportional mixing),
 * shuffled per epoch by a permutation seeded with `seed + epoch`, like a seeded RandomSampler.
 * Depends only on (sizes, seed, epoch), so a resumed run sees exactly the same batches.
 */
export function epochOrder(sizes: readonly number[], seed: number, epoch: number, permutation: (n: number, seed: number) => number[]): StreamItem[] {
  const all: StreamItem[] = [];
  sizes.forEach((n, d) => {
    for (let r = 0; r < n; r++) all.push({ dataset: d, row: r });
  });
  return permutation(all.length, seed + epoch).map((i) => all[i]!);
}
