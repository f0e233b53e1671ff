/**
 * The task registry: one row per task of the paper (`*_text`, label words as
 * targets) plus the numeric-label variants (`mnli`, `qnli`, ...) whose
 * prompts ATTEMPT uses as source prompts.
 *
 * Everything here mirrors TPV `tasks/tasks.py` (paper-era commit `2a87e4f`,
 * see mission spec §4/§5), including its quirks:
 *
 * - `sst5_text` is served by the SST-2 class (`TASK_MAPPING["sst5_text"] =
 *   SST2Text`), so by default it *is* GLUE SST-2 with the `sst2 sentence:`
 *   prefix, the "large" split rules and the 872-example test set. The real
 *   SST-5 is available through `getTask('sst5_text', { sst5Mode: 'real' })`.
 * - "large"/"small" are hard-coded name lists, not computed from sizes.
 * - binary tasks report positive-class F1, multi-class tasks macro F1.
 *
 * Source text is `"<prefix> " + segments.join(" ")` where the prefix is the
 * reference class name without `_text` (TPV `tasks/type.py`, `Seq2SeqLM.formater`).
 */

import { TaskError } from './errors.js';

/** One piece of a source template: literal text, or the value of a row field. */
export type TemplateSegment = { readonly text: string } | { readonly field: string };

/** The F1 flavour a task reports (TPV `metrics` list of the class). */
export type MetricSpec =
  | {
      /** sklearn binary F1 of the positive class, after the invalid-prediction flip. */
      readonly kind: 'f1';
      /** `labels_list[1]`, the positive class. */
      readonly posLabel: string;
    }
  | {
      /** sklearn macro F1 over the task's label list. */
      readonly kind: 'macro_f1';
    };

/** Which hard-coded list of TPV `AbstractTask` the task's reference class is in. */
export type SizeClass = 'large' | 'small';

/** The three logical splits the experiments use. */
export type LogicalSplit = 'train' | 'validation' | 'test';

/** How `sst5_text` is resolved; see {@link getTask}. */
export type Sst5Mode = 'reference' | 'real';

/** Options for {@link getTask}. */
export interface GetTaskOptions {
  /**
   * `'reference'` (default): `sst5_text` is GLUE SST-2, exactly like the
   * reference code. `'real'`: `sst5_text` reads real `SetFit/sst5`.
   */
  readonly sst5Mode?: Sst5Mode;
}

/** Where a task's data live on the Hugging Face Hub. */
export interface HubSource {
  /** Dataset id as passed to `datasets.load_dataset` by the reference code. */
  readonly id: string;
  /** Config name as passed by the reference code (undefined: none given). */
  readonly config?: string;
  /** The reference passes `trust_remote_code=True` (TREC's loading script). */
  readonly trustRemoteCode?: boolean;
  /**
   * Canonical repository that holds the `refs/convert/parquet` branch today
   * (legacy ids such as `imdb` were moved under organisations). Best effort:
   * override in `loadHubDataset` if the Hub changes.
   */
  readonly parquetRepo: string;
  /** Config folder in the `refs/convert/parquet` layout (`<config>/<split>/0000.parquet`). */
  readonly parquetConfig: string;
}

/** A registry row: everything needed to turn a raw dataset row into a seq2seq example. */
export interface TaskSpec {
  /** The registry key, e.g. `"sst5_text"`. */
  readonly name: string;
  /**
   * The `name` of the reference class that serves this key. Equal to
   * {@link TaskSpec.name} except for `sst5_text` in reference mode
   * (served by `sst2_text`). Split rules and the prefix derive from it.
   */
  readonly implementation: string;
  /** Source prefix: `implementation` without `_text`. */
  readonly prefix: string;
  /** Hugging Face location of the data. */
  readonly hf: HubSource;
  /** Row fields the template reads, in order. */
  readonly inputFields: readonly string[];
  /** Template pieces after the prefix; joined with single spaces. */
  readonly segments: readonly TemplateSegment[];
  /** Human-readable template, e.g. `"mnli premise: {premise} hypothesis: {hypothesis}"`. */
  readonly template: string;
  /** `labels_list`: index = class id, value = target string. */
  readonly labels: readonly string[];
  /** Column holding the class (`label`, `coarse_label`, `topic`, `gold_label`). */
  readonly labelColumn: string;
  /**
   * When set, the label column holds strings that the reference turns into
   * class ids with `class_encode_column` (sorted unique values); these are
   * those names in id order. Only SciTail uses it.
   */
  readonly classNames?: readonly string[];
  /** F1 flavour; `exact_match` is always reported too. */
  readonly metric: MetricSpec;
  /** Hard-coded large/small list membership of {@link TaskSpec.implementation}. */
  readonly sizeClass: SizeClass;
  /**
   * `split_to_data_split`: the original split each logical split reads when
   * `split_validation_test` is off, and (`validation`/`test`) the split the
   * large/small rules read. Absent keys raise in the reference too.
   */
  readonly splitMap: { readonly train: string; readonly validation?: string; readonly test?: string };
  /** Rows whose label column equals this value are removed from every split (SNLI: -1). */
  readonly dropLabel?: number;
  /** Default number of training epochs (10; TREC 50, `prompt_tuning_trec.toml`). */
  readonly epochs: number;
  /** True for the numeric-label variants (targets `"0"`, `"1"`, ...). */
  readonly numericLabels: boolean;
  /** Known deviations and quirks, for documentation and reports. */
  readonly notes: readonly string[];
}

/** TPV `AbstractTask.large_data_without_all_splits`. */
export const LARGE_DATASETS: readonly string[] = [
  'qnli',
  'sst2',
  'mnli',
  'yelp_polarity',
  'dbpedia',
  'scitail',
  'snli',
  'ag_news',
  'yahoo',
  'imdb',
];

/** TPV `AbstractTask.small_datasets_without_all_splits`. */
export const SMALL_DATASETS: readonly string[] = ['trec_fine', 'trec_coarse', 'wnli', 'sst5'];

/** Default epochs of `prompt_tuning.toml`. */
const DEFAULT_EPOCHS = 10;

/** The `*_text` tasks of the paper, in the order of spec §4. */
export const TEXT_TASK_NAMES = [
  'mnli_text',
  'qnli_text',
  'scitail_text',
  'snli_text',
  'dbpedia_text',
  'trec_coarse_text',
  'ag_news_text',
  'yahoo_text',
  'sst2_text',
  'yelp_polarity_text',
  'sst5_text',
  'imdb_text',
] as const;

/** The numeric-label variants (ATTEMPT source prompts), same order. */
export const NUMERIC_TASK_NAMES = [
  'mnli',
  'qnli',
  'scitail',
  'snli',
  'dbpedia',
  'trec_coarse',
  'ag_news',
  'yahoo',
  'sst2',
  'yelp_polarity',
  'sst5',
  'imdb',
] as const;

/** A `*_text` task name. */
export type TextTaskName = (typeof TEXT_TASK_NAMES)[number];
/** A numeric-label task name. */
export type NumericTaskName = (typeof NUMERIC_TASK_NAMES)[number];
/** Any registered task name. */
export type TaskName = TextTaskName | NumericTaskName;

/** Shared definition of a base dataset, from which the two variants are built. */
interface BaseDef {
  /** Base name = prefix = hard-coded list entry (e.g. `dbpedia`). */
  base: string;
  hf: HubSource;
  segments: TemplateSegment[];
  labelWords: string[];
  labelColumn: string;
  classNames?: string[];
  /** Index of the positive class for binary tasks; undefined = macro. */
  binaryPos?: number;
  splitMap: { train: string; validation?: string; test?: string };
  dropLabel?: number;
  epochs?: number;
  notes?: string[];
  /** Overrides for the numeric variant only (SST-5's numeric template). */
  numericSegments?: TemplateSegment[];
  numericNotes?: string[];
}

const t = (text: string): TemplateSegment => ({ text });
const f = (field: string): TemplateSegment => ({ field });

const GLUE_SPLITS = { train: 'train', validation: 'validation', test: 'validation' };
const TRAIN_TEST = { train: 'train', test: 'test' };

const BASES: readonly BaseDef[] = [
  {
    base: 'mnli',
    hf: { id: 'glue', config: 'mnli', parquetRepo: 'nyu-mll/glue', parquetConfig: 'mnli' },
    segments: [t('premise:'), f('premise'), t('hypothesis:'), f('hypothesis')],
    labelWords: ['entailment', 'neutral', 'contradiction'],
    labelColumn: 'label',
    splitMap: { train: 'train', validation: 'validation_mismatched', test: 'validation_matched' },
  },
  {
    base: 'qnli',
    hf: { id: 'glue', config: 'qnli', parquetRepo: 'nyu-mll/glue', parquetConfig: 'qnli' },
    segments: [t('question:'), f('question'), t('sentence:'), f('sentence')],
    labelWords: ['entailment', 'not_entailment'],
    labelColumn: 'label',
    binaryPos: 1,
    splitMap: GLUE_SPLITS,
  },
  {
    base: 'scitail',
    hf: { id: 'scitail', config: 'snli_format', parquetRepo: 'allenai/scitail', parquetConfig: 'snli_format' },
    segments: [t('premise:'), f('sentence1'), t('hypothesis:'), f('sentence2')],
    labelWords: ['entailment', 'neutral'],
    labelColumn: 'gold_label',
    // class_encode_column sorts the unique strings: entailment < neutral.
    classNames: ['entailment', 'neutral'],
    binaryPos: 1,
    splitMap: { train: 'train', validation: 'validation', test: 'test' },
    notes: ['gold_label strings are class-encoded alphabetically (class_encode_column): 0 entailment, 1 neutral.'],
  },
  {
    base: 'snli',
    hf: { id: 'snli', parquetRepo: 'stanfordnlp/snli', parquetConfig: 'plain_text' },
    segments: [t('premise:'), f('premise'), t('hypothesis:'), f('hypothesis')],
    labelWords: ['entailment', 'neutral', 'contradiction'],
    labelColumn: 'label',
    splitMap: { train: 'train', validation: 'validation', test: 'test' },
    dropLabel: -1,
    notes: ['Rows with label -1 (no gold label) are removed from every split before any sampling.'],
  },
  {
    base: 'dbpedia',
    hf: { id: 'dbpedia_14', parquetRepo: 'fancyzhx/dbpedia_14', parquetConfig: 'dbpedia_14' },
    segments: [t('What is the category for following text: title:'), f('title'), t('content:'), f('content')],
    labelWords: [
      'Company',
      'Educational Institution',
      'Artist',
      'Athlete',
      'Office Holder',
      'Mean Of Transportation',
      'Building',
      'Natural Place',
      'Village',
      'Animal',
      'Plant',
      'Album',
      'Film',
      'Written Work',
    ],
    labelColumn: 'label',
    splitMap: TRAIN_TEST,
    notes: [
      'Two label words exceed 16 characters ("Educational Institution", "Mean Of Transportation"): exact_match compares only their first 16 characters.',
    ],
  },
  {
    base: 'trec_coarse',
    hf: { id: 'trec', trustRemoteCode: true, parquetRepo: 'CogComp/trec', parquetConfig: 'default' },
    segments: [t('What is this question asking for:'), f('text')],
    labelWords: ['Abbreviation', 'Entity', 'Description', 'Person', 'Location', 'Quantity'],
    labelColumn: 'coarse_label',
    // TREC has no validation split: the reference maps "validation" to the original test.
    splitMap: { train: 'train', validation: 'test' },
    epochs: 50,
    notes: ['Small dataset: validation and test are the two stratified halves of the original test split.', 'Trained for 50 epochs (prompt_tuning_trec.toml).'],
  },
  {
    base: 'ag_news',
    hf: { id: 'ag_news', parquetRepo: 'fancyzhx/ag_news', parquetConfig: 'default' },
    segments: [t('What is the category for following text:'), f('text')],
    labelWords: ['World', 'Sports', 'Business', 'Sci/Tech'],
    labelColumn: 'label',
    splitMap: TRAIN_TEST,
  },
  {
    base: 'yahoo',
    hf: { id: 'yahoo_answers_topics', parquetRepo: 'community-datasets/yahoo_answers_topics', parquetConfig: 'yahoo_answers_topics' },
    segments: [
      t('What is the category for following text: title:'),
      f('question_title'),
      t('content:'),
      f('question_content'),
      t('answer:'),
      f('best_answer'),
    ],
    labelWords: ['Society', 'Science', 'Health', 'Education', 'Computers', 'Sports', 'Business', 'Entertainment', 'Family', 'Politics'],
    labelColumn: 'topic',
    splitMap: TRAIN_TEST,
  },
  {
    base: 'sst2',
    hf: { id: 'glue', config: 'sst2', parquetRepo: 'nyu-mll/glue', parquetConfig: 'sst2' },
    segments: [t('sentence:'), f('sentence')],
    labelWords: ['negative', 'positive'],
    labelColumn: 'label',
    binaryPos: 1,
    splitMap: GLUE_SPLITS,
    notes: [
      'Template per the paper-era code (`sst2 sentence: ...`); the May-2024 commit 097daa3 had no colon after "sentence".',
    ],
  },
  {
    base: 'yelp_polarity',
    hf: { id: 'yelp_polarity', parquetRepo: 'fancyzhx/yelp_polarity', parquetConfig: 'plain_text' },
    segments: [t('sentence:'), f('text')],
    labelWords: ['negative', 'positive'],
    labelColumn: 'label',
    binaryPos: 1,
    splitMap: TRAIN_TEST,
  },
  {
    base: 'imdb',
    hf: { id: 'imdb', parquetRepo: 'stanfordnlp/imdb', parquetConfig: 'plain_text' },
    segments: [t('sentence:'), f('text')],
    labelWords: ['negative', 'positive'],
    labelColumn: 'label',
    binaryPos: 1,
    splitMap: TRAIN_TEST,
  },
  {
    // The *real* SST-5 (used by `sst5_text` in 'real' mode and by numeric `sst5`).
    base: 'sst5',
    hf: { id: 'SetFit/sst5', parquetRepo: 'SetFit/sst5', parquetConfig: 'default' },
    // TPV's SST5Text intends `sst5 sentence {sentence}` (no colon) but reads a
    // field SetFit/sst5 does not have; the real mode reads `text`, as ATTEMPT does.
    segments: [t('sentence'), f('text')],
    labelWords: ['very negative', 'negative', 'neutral', 'positive', 'very positive'],
    labelColumn: 'label',
    splitMap: GLUE_SPLITS,
    notes: [
      'Real SST-5 (SetFit/sst5). Template `sst5 sentence {text}`: TPV SST5Text has no colon and reads a non-existent `sentence` field; the field is fixed to `text` (ATTEMPT uses the same template).',
      'Stratified on the integer `label` column: the reference stratified on `label_text`, which is not a ClassLabel and would raise.',
      'Small dataset: validation and test are the two stratified halves of the original validation split.',
    ],
    // TPV's numeric SST5 uses `sentence:` with a colon (same missing-field bug).
    numericSegments: [t('sentence:'), f('text')],
    numericNotes: [
      'TPV numeric SST5: template `sst5 sentence: {sentence}` on a non-existent field; here it reads `text`.',
    ],
  },
];

function templateString(prefix: string, segments: readonly TemplateSegment[]): string {
  return [prefix, ...segments.map((s) => ('text' in s ? s.text : `{${s.field}}`))].join(' ');
}

function sizeClassOf(implementation: string): SizeClass {
  const key = implementation.replace('_text', '');
  if (LARGE_DATASETS.includes(key)) return 'large';
  if (SMALL_DATASETS.includes(key)) return 'small';
  // Every registered task is in one list; anything else would be a registry bug.
  throw new Error(`registry: ${implementation} is in neither hard-coded list`);
}

/** Freeze a spec and everything it references, so a caller cannot corrupt the shared registry. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

function buildSpec(def: BaseDef, numeric: boolean, name: string, implementation: string): TaskSpec {
  const segments = numeric && def.numericSegments ? def.numericSegments : def.segments;
  const prefix = implementation.replace('_text', '');
  const labels = numeric ? def.labelWords.map((_, i) => String(i)) : def.labelWords.slice();
  const metric: MetricSpec =
    def.binaryPos === undefined ? { kind: 'macro_f1' } : { kind: 'f1', posLabel: labels[def.binaryPos]! };
  const spec: TaskSpec = {
    name,
    implementation,
    prefix,
    hf: def.hf,
    inputFields: segments.flatMap((s) => ('field' in s ? [s.field] : [])),
    segments,
    template: templateString(prefix, segments),
    labels,
    labelColumn: def.labelColumn,
    ...(def.classNames ? { classNames: def.classNames } : {}),
    metric,
    sizeClass: sizeClassOf(implementation),
    splitMap: def.splitMap,
    ...(def.dropLabel !== undefined ? { dropLabel: def.dropLabel } : {}),
    epochs: def.epochs ?? DEFAULT_EPOCHS,
    numericLabels: numeric,
    notes: [...(def.notes ?? []), ...(numeric ? (def.numericNotes ?? []) : [])],
  };
  return deepFreeze(spec);
}

const BY_BASE = new Map(BASES.map((b) => [b.base, b]));

function base(name: string): BaseDef {
  const b = BY_BASE.get(name);
  if (!b) throw new Error(`registry: no base ${name}`);
  return b;
}

const REGISTRY = new Map<string, TaskSpec>();
for (const b of BASES) {
  if (b.base !== 'sst5') {
    REGISTRY.set(`${b.base}_text`, buildSpec(b, false, `${b.base}_text`, `${b.base}_text`));
  }
  REGISTRY.set(b.base, buildSpec(b, true, b.base, b.base));
}
// TASK_MAPPING["sst5_text"] = SST2Text: the paper's "SST5" is GLUE SST-2.
REGISTRY.set(
  'sst5_text',
  deepFreeze({
    ...buildSpec(base('sst2'), false, 'sst5_text', 'sst2_text'),
    notes: [
      'Reference quirk: TASK_MAPPING maps "sst5_text" to SST2Text, so this is GLUE SST-2 (prefix `sst2`, binary F1, 872-example test). Use sst5Mode "real" for SetFit/sst5.',
    ],
  }),
);

/** `sst5_text` on real SetFit/sst5 (see {@link GetTaskOptions.sst5Mode}). */
const SST5_TEXT_REAL = buildSpec(base('sst5'), false, 'sst5_text', 'sst5_text');

/** All registered names: the 12 `*_text` tasks, then the 12 numeric variants. */
export const TASK_NAMES: readonly TaskName[] = [...TEXT_TASK_NAMES, ...NUMERIC_TASK_NAMES];

/**
 * Look a task up by name.
 *
 * @param name - a registry key, e.g. `"mnli_text"` or `"mnli"`.
 * @param options - `sst5Mode` selects what `sst5_text` means (default `'reference'`).
 * @throws {@link TaskError} `UNKNOWN_TASK` (with `details.known`) for any other name.
 */
export function getTask(name: string, options: GetTaskOptions = {}): TaskSpec {
  if (name === 'sst5_text' && options.sst5Mode === 'real') return SST5_TEXT_REAL;
  const spec = REGISTRY.get(name);
  if (!spec) {
    throw new TaskError(
      'UNKNOWN_TASK',
      `Unrecognized task ${JSON.stringify(name)}. Task name should be one of ${TASK_NAMES.join(', ')}.`,
      { task: name, known: [...TASK_NAMES] },
    );
  }
  return spec;
}

/** Whether `name` is a registered task name. */
export function isTaskName(name: string): name is TaskName {
  return REGISTRY.has(name);
}

/**
 * Accept either a spec or a name; lets every helper take `TaskSpec | string`.
 *
 * @param task - a spec (returned as is) or a registry name.
 * @param options - forwarded to {@link getTask}.
 */
export function resolveTask(task: TaskSpec | string, options: GetTaskOptions = {}): TaskSpec {
  return typeof task === 'string' ? getTask(task, options) : task;
}

/** Every registered spec (reference mode), in {@link TASK_NAMES} order. */
export function listTasks(): TaskSpec[] {
  return TASK_NAMES.map((n) => getTask(n));
}
