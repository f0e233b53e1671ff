/**
 * Handlers of the `tpv vector …` commands. The top-level `tpv` dispatcher (elsewhere) strips `tpv
 * vector` and calls {@link runVectorCommand} with the rest of argv; each handler is also callable
 * directly with typed options. Output goes through an injected `write(line)` so the handlers can be
 * tested without a terminal and embedded in other tools; every handler returns a result object.
 *
 * ```
 * tpv vector create     --tuned DIR|FILE --origin DIR|FILE --task EXPR --out FILE.tpv [--model-id ID] [--origin-id ID] [--force] [--overwrite]
 * tpv vector combine    FILE.tpv... --out FILE.tpv [--method sum|mean|ties|dare] [--density D] [--seed N] [--lambda L] [--force] [--overwrite]
 * tpv vector apply      FILE.tpv --origin DIR|FILE --out DIR [--lambda L] [--force]
 * tpv vector similarity ITEM... [--svg FILE.svg] [--json] [--force]      (ITEM: .tpv, PEFT folder or .safetensors prompt)
 * tpv vector inspect    FILE.tpv [--json]
 * ```
 *
 * @module
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import { VectorError, VectorFileError } from './errors.js';
import { loadTpv, loadTpvDetailed, saveTpv, TPV_EXTENSION, writeFileAtomic, type TpvDtype } from './file.js';
import { renderHeatmapSvg } from './heatmap.js';
import { MERGE_METHODS, mergeVectors, type MergeMethod } from './merge.js';
import { exportVectorAsPeft, importVectorFromPeft, readPromptSource } from './peft.js';
import { cloneProvenance } from './provenance.js';
import { renderMatrixTable, renderTable, formatNumber } from './table.js';
import { similarityMatrix, TaskPromptVector, vectorData, type SimilarityItem } from './task-prompt-vector.js';

/** Where the handlers write. */
export interface VectorIo {
  /** Writes one line of normal output (stdout). */
  write(line: string): void;
  /** Writes one line of diagnostics (stderr); defaults to `write`. */
  error?(line: string): void;
  /** Folder relative paths are resolved against (default `process.cwd()`). */
  cwd?: string;
}

/** The default IO: `console.log` / `console.error`. */
export const consoleIo: VectorIo = {
  write: (line) => console.log(line),
  error: (line) => console.error(line),
};

function resolvePath(io: VectorIo, p: string): string {
  return nodePath.resolve(io.cwd ?? process.cwd(), p);
}

function refuseExisting(path: string, overwrite: boolean | undefined): void {
  if (overwrite !== true && fs.existsSync(path)) {
    throw new VectorFileError('EXISTS', 'the output already exists (pass --overwrite to replace it)', { path });
  }
}

/** Options of {@link vectorCreate}. */
export interface VectorCreateOptions {
  /** Tuned prompt: a PEFT adapter folder or a `.safetensors` file with `prompt_embeddings`. */
  readonly tuned: string;
  /** Origin prompt, same forms. */
  readonly origin: string;
  /** Output `.tpv` file. */
  readonly out: string;
  /** Task expression, e.g. `mnli_text`. */
  readonly task: string;
  /** Model id (default: the folders' `base_model_name_or_path`). */
  readonly modelId?: string;
  /** Origin id (default: the origin's folder or file name). */
  readonly originId?: string;
  /** Accept a tuned/origin pair of different base models. */
  readonly force?: boolean;
  /** Replace an existing output file. */
  readonly overwrite?: boolean;
}

/** Summary of a vector, shared by several results. */
export interface VectorSummary {
  /** Task expression. */
  readonly tasks: string;
  /** Model id. */
  readonly modelId: string;
  /** Origin id or null. */
  readonly originId: string | null;
  /** Table shape. */
  readonly shape: number[];
  /** ‖τ‖. */
  readonly norm: number;
}

function summary(v: TaskPromptVector): VectorSummary {
  return { tasks: v.taskString, modelId: v.modelId, originId: v.originId ?? null, shape: [...v.shape], norm: v.norm() };
}

function describe(v: TaskPromptVector): string {
  return `${v.taskString} (${v.modelId}, [${v.shape.join(', ')}]${v.originId !== undefined ? `, origin ${v.originId}` : ''}, \u2016\u03c4\u2016 = ${formatNumber(v.norm(), 4)})`;
}

/** Result of {@link vectorCreate}. */
export interface VectorCreateResult extends VectorSummary {
  /** `create`. */
  readonly command: 'create';
  /** The file written. */
  readonly out: string;
}

/**
 * `tpv vector create`: τ = tuned − origin (exact) saved as a `.tpv` file.
 *
 * @param opts - inputs, task, output.
 * @param io - output sink.
 */
export async function vectorCreate(opts: VectorCreateOptions, io: VectorIo = consoleIo): Promise<VectorCreateResult> {
  const out = resolvePath(io, opts.out);
  refuseExisting(out, opts.overwrite);
  const tuned = resolvePath(io, opts.tuned);
  const origin = resolvePath(io, opts.origin);
  const v = await importVectorFromPeft(tuned, origin, {
    tasks: opts.task,
    ...(opts.modelId !== undefined ? { modelId: opts.modelId } : {}),
    ...(opts.originId !== undefined ? { originId: opts.originId } : {}),
    ...(opts.force !== undefined ? { force: opts.force } : {}),
    provenance: { command: 'tpv vector create' },
  });
  saveTpv(out, v);
  io.write(`wrote ${opts.out}: ${describe(v)}`);
  return { command: 'create', out, ...summary(v) };
}

/** Options of {@link vectorCombine}. */
export interface VectorCombineOptions {
  /** Input `.tpv` files (at least one). */
  readonly files: readonly string[];
  /** Output `.tpv` file. */
  readonly out: string;
  /** Merge method (default `sum`, the paper's). */
  readonly method?: MergeMethod;
  /** TIES/DARE density. */
  readonly density?: number;
  /** DARE seed. */
  readonly seed?: number;
  /** Factor applied to the merged vector. */
  readonly lambda?: number;
  /** Combine different models / same-size shapes. */
  readonly force?: boolean;
  /** Replace an existing output file. */
  readonly overwrite?: boolean;
}

/** Result of {@link vectorCombine}. */
export interface VectorCombineResult extends VectorSummary {
  /** `combine`. */
  readonly command: 'combine';
  /** The file written. */
  readonly out: string;
  /** Method used. */
  readonly method: MergeMethod;
}

/**
 * `tpv vector combine`: merges `.tpv` files (sum, mean, TIES or DARE) into a new `.tpv` file.
 *
 * @param opts - inputs, method and parameters, output.
 * @param io - output sink.
 */
export async function vectorCombine(opts: VectorCombineOptions, io: VectorIo = consoleIo): Promise<VectorCombineResult> {
  if (opts.files.length === 0) throw new VectorError('USAGE', 'combine needs at least one .tpv file');
  const out = resolvePath(io, opts.out);
  refuseExisting(out, opts.overwrite);
  const files = opts.files.map((f) => resolvePath(io, f));
  const vectors = files.map((f) => loadTpv(f));
  const method = opts.method ?? 'sum';
  const merged = mergeVectors(vectors, {
    method,
    ...(opts.density !== undefined ? { density: opts.density } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.lambda !== undefined ? { lambda: opts.lambda } : {}),
    ...(opts.force !== undefined ? { force: opts.force } : {}),
  });
  const v = merged.withMeta({ provenance: { ...merged.provenance, command: 'tpv vector combine', sources: files } });
  saveTpv(out, v);
  io.write(`wrote ${opts.out}: ${method} of ${vectors.length} \u2192 ${describe(v)}`);
  return { command: 'combine', out, method, ...summary(v) };
}

/** Options of {@link vectorApply}. */
export interface VectorApplyOptions {
  /** The `.tpv` file. */
  readonly file: string;
  /** θ_origin: a PEFT adapter folder or a `.safetensors` prompt. */
  readonly origin: string;
  /** λ (default 1). */
  readonly lambda?: number;
  /** Output PEFT adapter folder; must not exist. */
  readonly out: string;
  /** Apply to an origin of another model, or of another shape with the same size. */
  readonly force?: boolean;
}

/** Result of {@link vectorApply}. */
export interface VectorApplyResult extends VectorSummary {
  /** `apply`. */
  readonly command: 'apply';
  /** The folder written. */
  readonly out: string;
  /** λ used. */
  readonly lambda: number;
}

/**
 * `tpv vector apply`: writes θ_origin + λτ as a PEFT adapter folder (refuses an existing folder).
 *
 * @param opts - vector, origin, λ, output folder.
 * @param io - output sink.
 */
export async function vectorApply(opts: VectorApplyOptions, io: VectorIo = consoleIo): Promise<VectorApplyResult> {
  const out = resolvePath(io, opts.out);
  if (fs.existsSync(out)) throw new VectorFileError('EXISTS', 'the output folder already exists; refusing to overwrite it', { path: out });
  const v = loadTpv(resolvePath(io, opts.file));
  const originPath = resolvePath(io, opts.origin);
  const origin = await readPromptSource(originPath);
  if (origin.modelId !== null && origin.modelId !== v.modelId && opts.force !== true) {
    throw new VectorError('MODEL_MISMATCH', `the vector is for ${v.modelId} but the origin is for ${origin.modelId} (pass --force to apply anyway)`);
  }
  const lambda = opts.lambda ?? 1;
  await exportVectorAsPeft(v, out, {
    origin: { data: origin.data, shape: origin.shape },
    lambda,
    originId: nodePath.basename(originPath).replace(/\.safetensors$/u, ''),
    ...(opts.force !== undefined ? { force: opts.force } : {}),
  });
  io.write(`wrote ${opts.out}: ${nodePath.basename(originPath)} + ${formatNumber(lambda, 2)} \u00b7 (${v.taskString})`);
  return { command: 'apply', out, lambda, ...summary(v) };
}

/** Options of {@link vectorSimilarity}. */
export interface VectorSimilarityOptions {
  /** Items: `.tpv` files (vectors), PEFT folders or `.safetensors` files (prompts). */
  readonly files: readonly string[];
  /** Also write an SVG heatmap here. */
  readonly svg?: string;
  /** Print JSON instead of a table. */
  readonly json?: boolean;
  /** Compare different models / same-size shapes. */
  readonly force?: boolean;
}

/** Result of {@link vectorSimilarity}. */
export interface VectorSimilarityResult {
  /** `similarity`. */
  readonly command: 'similarity';
  /** Row/column labels. */
  readonly labels: string[];
  /** The inputs, resolved. */
  readonly files: string[];
  /** Cosine similarities. */
  readonly matrix: number[][];
  /** The SVG written, if any. */
  readonly svg?: string;
}

async function loadItem(path: string): Promise<{ item: SimilarityItem; label: string; alt: string }> {
  const base = nodePath.basename(path);
  if (path.endsWith(TPV_EXTENSION)) {
    const v = loadTpv(path);
    return { item: v, label: v.taskString, alt: v.originId ?? base };
  }
  const p = await readPromptSource(path);
  return { item: { data: p.data, shape: p.shape }, label: base.replace(/\.safetensors$/u, ''), alt: base };
}

/**
 * `tpv vector similarity`: pairwise cosine similarities of vectors or prompts, printed as a table (or
 * JSON), optionally drawn as an SVG heatmap.
 *
 * @param opts - items, outputs.
 * @param io - output sink.
 */
export async function vectorSimilarity(opts: VectorSimilarityOptions, io: VectorIo = consoleIo): Promise<VectorSimilarityResult> {
  if (opts.files.length === 0) throw new VectorError('USAGE', 'similarity needs at least one item');
  const files = opts.files.map((f) => resolvePath(io, f));
  const loaded = [];
  for (const f of files) loaded.push(await loadItem(f));
  // Same task from several origins: disambiguate the labels with the origin (or file name).
  const counts = new Map<string, number>();
  for (const l of loaded) counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
  const labels = loaded.map((l) => ((counts.get(l.label) ?? 0) > 1 ? `${l.label} (${l.alt})` : l.label));
  const matrix = similarityMatrix(loaded.map((l) => l.item), { force: opts.force });
  let svg: string | undefined;
  if (opts.svg !== undefined) {
    svg = resolvePath(io, opts.svg);
    writeFileAtomic(svg, renderHeatmapSvg({ values: matrix, rowLabels: labels }, { title: 'Cosine similarity' }));
  }
  if (opts.json === true) {
    io.write(JSON.stringify({ labels, files, matrix, ...(svg !== undefined ? { svg } : {}) }));
  } else {
    for (const line of renderMatrixTable(labels, matrix).split('\n')) io.write(line);
    if (svg !== undefined) io.write(`wrote ${opts.svg}`);
  }
  return { command: 'similarity', labels, files, matrix, ...(svg !== undefined ? { svg } : {}) };
}

/** Options of {@link vectorInspect}. */
export interface VectorInspectOptions {
  /** The `.tpv` file. */
  readonly file: string;
  /** Print JSON instead of text. */
  readonly json?: boolean;
}

/** Result of {@link vectorInspect}. */
export interface VectorInspectResult extends VectorSummary {
  /** `inspect`. */
  readonly command: 'inspect';
  /** The file. */
  readonly file: string;
  /** Signed task counts. */
  readonly taskCounts: Record<string, number>;
  /** Payload encoding in the file. */
  readonly dtype: TpvDtype;
  /** File size. */
  readonly bytes: number;
  /** Number of elements. */
  readonly size: number;
  /** Largest |τ| entry. */
  readonly maxAbs: number;
  /** Entries that are exactly zero. */
  readonly zeros: number;
  /** Entries whose exact value needs the low half (not representable as one float64). */
  readonly exactPairs: number;
  /** The provenance record. */
  readonly provenance: unknown;
}

/**
 * `tpv vector inspect`: metadata and statistics of a `.tpv` file.
 *
 * @param opts - file, output format.
 * @param io - output sink.
 */
export async function vectorInspect(opts: VectorInspectOptions, io: VectorIo = consoleIo): Promise<VectorInspectResult> {
  const file = resolvePath(io, opts.file);
  const d = loadTpvDetailed(file);
  const v = d.vector;
  const { hi, lo } = vectorData(v);
  let maxAbs = 0;
  let zeros = 0;
  let exactPairs = 0;
  for (let i = 0; i < hi.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(hi[i]!));
    if (hi[i] === 0) zeros++;
    if (lo[i] !== 0) exactPairs++;
  }
  const result: VectorInspectResult = {
    command: 'inspect',
    file,
    ...summary(v),
    taskCounts: Object.fromEntries(v.tasks),
    dtype: d.dtype,
    bytes: d.byteLength,
    size: v.size,
    maxAbs,
    zeros,
    exactPairs,
    provenance: cloneProvenance(v.provenance),
  };
  if (opts.json === true) {
    io.write(JSON.stringify(result));
  } else {
    const rows: [string, string][] = [
      ['file', opts.file],
      ['tasks', v.taskString],
      ['model', v.modelId],
      ['origin', v.originId ?? '(none)'],
      ['shape', `[${v.shape.join(', ')}] (${v.size} entries)`],
      ['stored as', `${d.dtype}, ${d.byteLength} bytes`],
      ['norm', formatNumber(result.norm, 6)],
      ['max |\u03c4|', formatNumber(maxAbs, 6)],
      ['zero entries', String(zeros)],
      ['entries needing the low half', String(exactPairs)],
      ['provenance', JSON.stringify(v.provenance)],
    ];
    for (const line of renderTable(['field', 'value'], rows, { align: ['left', 'left'] }).split('\n')) io.write(line);
  }
  return result;
}

/** Result of {@link runVectorCommand}. */
export interface VectorCommandOutcome {
  /** 0 success, 1 failure (bad file, incompatible vectors), 2 usage error. */
  readonly exitCode: 0 | 1 | 2;
  /** The handler's result on success. */
  readonly result?: VectorCreateResult | VectorCombineResult | VectorApplyResult | VectorSimilarityResult | VectorInspectResult;
  /** The error on failure (already reported through `io.error`). */
  readonly error?: VectorError | VectorFileError;
}

/** Usage text of `tpv vector`. */
export const VECTOR_USAGE = `Usage: tpv vector <command> [options]

Commands:
  create      --tuned DIR|FILE --origin DIR|FILE --task EXPR --out FILE.tpv
              [--model-id ID] [--origin-id ID] [--force] [--overwrite]
              τ = tuned − origin, stored exactly.
  combine     FILE.tpv... --out FILE.tpv [--method ${MERGE_METHODS.join('|')}]
              [--density D] [--seed N] [--lambda L] [--force] [--overwrite]
              Merge vectors (sum is the paper's addition).
  apply       FILE.tpv --origin DIR|FILE --out DIR [--lambda L] [--force]
              Write θ_origin + λτ as a new PEFT adapter folder.
  similarity  ITEM... [--svg FILE.svg] [--json] [--force]
              Cosine similarities of .tpv vectors, PEFT folders or .safetensors prompts.
  inspect     FILE.tpv [--json]
              Show a vector's metadata and statistics.`;

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

const SPECS: Record<string, Spec> = {
  create: {
    tuned: { type: 'string' },
    origin: { type: 'string' },
    task: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'model-id': { type: 'string' },
    'origin-id': { type: 'string' },
    force: { type: 'boolean' },
    overwrite: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  combine: {
    out: { type: 'string', short: 'o' },
    method: { type: 'string' },
    density: { type: 'string' },
    seed: { type: 'string' },
    lambda: { type: 'string' },
    force: { type: 'boolean' },
    overwrite: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  apply: {
    file: { type: 'string' },
    origin: { type: 'string' },
    lambda: { type: 'string' },
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  similarity: {
    svg: { type: 'string' },
    json: { type: 'boolean' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  inspect: {
    file: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
};

function usage(msg: string): never {
  throw new VectorError('USAGE', msg);
}

function requireString(values: Record<string, unknown>, key: string, cmd: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v.length === 0) usage(`${cmd}: --${key} is required`);
  return v;
}

function optString(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function optNumber(values: Record<string, unknown>, key: string, integer = false): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const x = Number(s);
  if (s === '' || !Number.isFinite(x) || (integer && !Number.isSafeInteger(x))) usage(`--${key} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
  return x;
}

function onePositional(positionals: string[], values: Record<string, unknown>, cmd: string): string {
  const fromFlag = optString(values, 'file');
  const all = [...(fromFlag !== undefined ? [fromFlag] : []), ...positionals];
  if (all.length !== 1) usage(`${cmd}: expected exactly one .tpv file, got ${all.length}`);
  return all[0]!;
}

function noPositionals(positionals: string[], cmd: string): void {
  if (positionals.length > 0) usage(`${cmd}: unexpected argument ${JSON.stringify(positionals[0])}`);
}

/**
 * Parses `argv` (after `tpv vector`) and runs the command. Usage errors exit 2, file and vector
 * errors exit 1; both are reported through `io.error` as one line without a stack trace. Other
 * exceptions are bugs and propagate.
 *
 * @param argv - e.g. `['combine', 'a.tpv', 'b.tpv', '--out', 'ab.tpv']`.
 * @param io - output sink.
 */
export async function runVectorCommand(argv: readonly string[], io: VectorIo = consoleIo): Promise<VectorCommandOutcome> {
  const err = io.error ?? io.write;
  const cmd = argv[0];
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    for (const line of VECTOR_USAGE.split('\n')) (cmd === undefined ? err : io.write)(line);
    return { exitCode: cmd === undefined ? 2 : 0 };
  }
  try {
    const spec = SPECS[cmd];
    if (spec === undefined) usage(`unknown command ${JSON.stringify(cmd)} (expected create, combine, apply, similarity or inspect)`);
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...argv.slice(1)], options: spec, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (e) {
      usage(`${cmd}: ${(e as Error).message}`);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      for (const line of VECTOR_USAGE.split('\n')) io.write(line);
      return { exitCode: 0 };
    }
    let result: VectorCommandOutcome['result'];
    switch (cmd) {
      case 'create':
        noPositionals(positionals, cmd);
        result = await vectorCreate({
          tuned: requireString(values, 'tuned', cmd),
          origin: requireString(values, 'origin', cmd),
          task: requireString(values, 'task', cmd),
          out: requireString(values, 'out', cmd),
          ...(optString(values, 'model-id') !== undefined ? { modelId: optString(values, 'model-id')! } : {}),
          ...(optString(values, 'origin-id') !== undefined ? { originId: optString(values, 'origin-id')! } : {}),
          force: values.force === true,
          overwrite: values.overwrite === true,
        }, io);
        break;
      case 'combine': {
        const method = optString(values, 'method') ?? 'sum';
        if (!(MERGE_METHODS as readonly string[]).includes(method)) usage(`combine: --method must be one of ${MERGE_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
        if (positionals.length === 0) usage('combine: give at least one .tpv file');
        const density = optNumber(values, 'density');
        const seed = optNumber(values, 'seed', true);
        const lambda = optNumber(values, 'lambda');
        result = await vectorCombine({
          files: positionals,
          out: requireString(values, 'out', cmd),
          method: method as MergeMethod,
          ...(density !== undefined ? { density } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(lambda !== undefined ? { lambda } : {}),
          force: values.force === true,
          overwrite: values.overwrite === true,
        }, io);
        break;
      }
      case 'apply': {
        const lambda = optNumber(values, 'lambda');
        result = await vectorApply({
          file: onePositional(positionals, values, cmd),
          origin: requireString(values, 'origin', cmd),
          out: requireString(values, 'out', cmd),
          ...(lambda !== undefined ? { lambda } : {}),
          force: values.force === true,
        }, io);
        break;
      }
      case 'similarity':
        if (positionals.length === 0) usage('similarity: give at least one item');
        result = await vectorSimilarity({
          files: positionals,
          ...(optString(values, 'svg') !== undefined ? { svg: optString(values, 'svg')! } : {}),
          json: values.json === true,
          force: values.force === true,
        }, io);
        break;
      default:
        result = await vectorInspect({ file: onePositional(positionals, values, cmd), json: values.json === true }, io);
    }
    return { exitCode: 0, result };
  } catch (e) {
    if (e instanceof VectorError || e instanceof VectorFileError) {
      err(`tpv vector ${cmd}: ${e.message}`);
      if (e instanceof VectorError && e.code === 'USAGE') err("run 'tpv vector --help' for usage");
      return { exitCode: e instanceof VectorError && e.code === 'USAGE' ? 2 : 1, error: e };
    }
    throw e;
  }
}
