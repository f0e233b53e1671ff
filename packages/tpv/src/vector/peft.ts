/**
 * Moving task prompt vectors in and out of Hugging Face PEFT prompt-tuning adapter folders
 * (`adapter_config.json` + `adapter_model.safetensors` with one F32 tensor `prompt_embeddings`,
 * mission spec §2), using `@tpvjs/t5`'s `SoftPrompt.fromPeft` / `savePeft` for the folder format and
 * `@tpvjs/tensor`'s safetensors reader for bare `.safetensors` prompt files.
 *
 * - **Export** writes a prompt: θ_origin + λτ when an origin is given (what the reference saves as
 *   `<taskA>_<taskB>.bin`, and what a model can load), or τ itself (correctly rounded to float32) when
 *   none is. A PEFT folder cannot say which of the two it holds, so a sidecar file `tpv.json` records
 *   it, together with the tasks, model, origin id, λ and provenance.
 * - **Import** rebuilds τ = θ_tuned − θ_origin from two folders (or bare safetensors files) exactly, so
 *   export-with-origin followed by import gives back the same vector bit for bit; a folder whose
 *   sidecar says it holds τ is read as τ.
 *
 * Why a sidecar rather than `tpv` keys inside `adapter_config.json`: PEFT before 0.14 (including the
 * v0.9.0 the reference pins) builds the config dataclass with `**json` and raises `TypeError:
 * unexpected keyword argument` on any unknown key (huggingface/peft#2038 made configs forward
 * compatible only in 0.14; #1979 shows the v0.9 failure). An extra file in the folder is ignored by
 * PEFT, by `SoftPrompt.fromPeft` and by the reference, so the exported adapters stay loadable everywhere.
 *
 * @module
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { PeftError, SoftPrompt, type PromptTuningConfig } from '@tpvjs/t5';
import { SafetensorsError, SafetensorsFile } from '@tpvjs/tensor';
import { VectorError, VectorFileError } from './errors.js';
import { writeFileAtomic } from './file.js';
import { cloneProvenance, TOOL_NAME, TOOL_VERSION, type Provenance } from './provenance.js';
import { isValidTaskName, parseTasks, tasksToRecord, type TaskInput } from './task-set.js';
import { TaskPromptVector, type PromptInput } from './task-prompt-vector.js';

/** Name of the sidecar file written next to the adapter files. */
export const TPV_SIDECAR_NAME = 'tpv.json';
/** Tensor name of the prompt table in PEFT adapters and bare prompt files. */
export const PROMPT_TENSOR_NAME = 'prompt_embeddings';

/** What an exported folder's prompt table holds. */
export type PeftContent = 'prompt' | 'task_prompt_vector';

/** The sidecar record (`tpv.json`). */
export interface TpvSidecar {
  /** Always `tpv-peft`. */
  readonly format: 'tpv-peft';
  /** Sidecar schema version (1). */
  readonly schemaVersion: 1;
  /** `prompt` (θ_origin + λτ, loadable as is) or `task_prompt_vector` (τ itself, needs an origin). */
  readonly content: PeftContent;
  /** The vector's task multiset. */
  readonly tasks: Readonly<Record<string, number>>;
  /** The tasks printed as an expression. */
  readonly taskString: string;
  /** The vector's model id. */
  readonly modelId: string;
  /** The vector's origin id, if any. */
  readonly originId: string | null;
  /** λ used for the export. */
  readonly lambda: number;
  /** The vector's provenance. */
  readonly provenance: Provenance;
  /** Export time (ISO 8601). */
  readonly exported: string;
  /** Tool name and version that wrote it. */
  readonly tool: string;
  /** Tool version. */
  readonly toolVersion: string;
}

/** A prompt table read from a PEFT folder or a bare safetensors file. */
export interface PromptSource {
  /** Row-major float32 values. */
  readonly data: Float32Array;
  /** `[rows, token_dim]`. */
  readonly shape: [number, number];
  /** `base_model_name_or_path` (folders) or the `model_id` metadata (files), when present. */
  readonly modelId: string | null;
  /** Where it came from. */
  readonly kind: 'peft' | 'safetensors';
  /** The adapter config (folders only). */
  readonly config?: PromptTuningConfig;
  /** The sidecar, when the folder has one. */
  readonly sidecar?: TpvSidecar;
}

/** Layer/head counts PEFT fills into `adapter_config.json`, for the T5 v1.0 checkpoints. */
const KNOWN_MODELS: Readonly<Record<string, { numLayers: number; numAttentionHeads: number }>> = {
  't5-small': { numLayers: 6, numAttentionHeads: 8 },
  't5-base': { numLayers: 12, numAttentionHeads: 12 },
  't5-large': { numLayers: 24, numAttentionHeads: 16 },
  't5-3b': { numLayers: 24, numAttentionHeads: 32 },
  't5-11b': { numLayers: 24, numAttentionHeads: 128 },
};

function knownModel(id: string): { numLayers: number; numAttentionHeads: number } | undefined {
  return KNOWN_MODELS[id] ?? KNOWN_MODELS[id.replace(/^google-t5\//u, '')];
}

/** Maps the other packages' typed errors to ours, so callers see one error type for folder problems. */
function wrapForeign(e: unknown, path: string): never {
  if (e instanceof VectorFileError || e instanceof VectorError) throw e;
  if (e instanceof PeftError) {
    const code = e.code === 'MISSING_FILE' ? 'NOT_FOUND' : e.code === 'EXISTS' ? 'EXISTS' : e.code === 'IO' ? 'IO' : e.code === 'MODEL_MISMATCH' ? 'MODEL_MISMATCH' : 'BAD_PEFT';
    throw new VectorFileError(code, e.message, { path, cause: e });
  }
  if (e instanceof SafetensorsError) {
    throw new VectorFileError(e.code === 'IO' ? 'IO' : 'BAD_PEFT', e.message, { path, cause: e });
  }
  throw e;
}

function statKind(path: string): 'dir' | 'file' | 'missing' | 'other' {
  try {
    const st = fs.statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new VectorFileError('IO', `cannot stat: ${(e as Error).message}`, { path, cause: e });
  }
}

/** Largest sidecar accepted (it is metadata; anything bigger is not ours). */
const MAX_SIDECAR_BYTES = 4 * 2 ** 20;

function readSidecar(dir: string): TpvSidecar | undefined {
  const p = nodePath.join(dir, TPV_SIDECAR_NAME);
  if (statKind(p) === 'missing') return undefined;
  let json: unknown;
  try {
    const st = fs.statSync(p);
    if (st.size > MAX_SIDECAR_BYTES) throw new VectorFileError('TOO_LARGE', `${st.size} bytes exceed ${MAX_SIDECAR_BYTES}`, { path: p });
    json = JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    if (e instanceof VectorFileError) throw e;
    throw new VectorFileError('DECODE', `not valid JSON: ${(e as Error).message}`, { path: p, cause: e });
  }
  const bad = (field: string, msg: string): never => {
    throw new VectorFileError('BAD_FIELD', msg, { path: p, field });
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return bad('$', 'must be a JSON object');
  const o = json as Record<string, unknown>;
  if (o.format !== 'tpv-peft') bad('format', 'must be "tpv-peft"');
  if (o.schemaVersion !== 1) throw new VectorFileError('UNSUPPORTED_VERSION', `schema version ${JSON.stringify(o.schemaVersion)} is not supported`, { path: p, field: 'schemaVersion' });
  if (o.content !== 'prompt' && o.content !== 'task_prompt_vector') bad('content', 'must be "prompt" or "task_prompt_vector"');
  if (o.tasks === null || typeof o.tasks !== 'object' || Array.isArray(o.tasks)) bad('tasks', 'must be an object of counts');
  for (const [k, v] of Object.entries(o.tasks as object)) {
    if (!isValidTaskName(k) || typeof v !== 'number' || !Number.isSafeInteger(v) || v === 0) bad('tasks', `bad entry ${JSON.stringify(k)}`);
  }
  if (typeof o.modelId !== 'string' || o.modelId.length === 0) bad('modelId', 'must be a non-empty string');
  if (o.originId !== null && (typeof o.originId !== 'string' || o.originId.length === 0)) bad('originId', 'must be null or a non-empty string');
  if (typeof o.lambda !== 'number' || !Number.isFinite(o.lambda)) bad('lambda', 'must be a finite number');
  let provenance: Provenance;
  try {
    provenance = cloneProvenance(o.provenance ?? {});
  } catch (e) {
    return bad('provenance', (e as Error).message);
  }
  return {
    format: 'tpv-peft',
    schemaVersion: 1,
    content: o.content as PeftContent,
    tasks: o.tasks as Record<string, number>,
    taskString: typeof o.taskString === 'string' ? o.taskString : '',
    modelId: o.modelId as string,
    originId: (o.originId as string | null) ?? null,
    lambda: o.lambda as number,
    provenance,
    exported: typeof o.exported === 'string' ? o.exported : '',
    tool: typeof o.tool === 'string' ? o.tool : '',
    toolVersion: typeof o.toolVersion === 'string' ? o.toolVersion : '',
  };
}

/**
 * Reads a prompt table from a local PEFT adapter folder (via `SoftPrompt.fromPeft`, whose checks are
 * PEFT's strict ones) or from a bare safetensors file holding `prompt_embeddings` (F32, or F16/BF16
 * widened exactly). Never contacts the Hub: a path that does not exist is `NOT_FOUND`.
 *
 * @param pathOrDir - a folder or a `.safetensors` file.
 * @throws {@link VectorFileError} `NOT_FOUND`, `BAD_PEFT`, `IO`, sidecar errors.
 */
export async function readPromptSource(pathOrDir: string): Promise<PromptSource> {
  const kind = statKind(pathOrDir);
  if (kind === 'missing') throw new VectorFileError('NOT_FOUND', 'no such file or folder', { path: pathOrDir });
  if (kind === 'other') throw new VectorFileError('IO', 'not a regular file or folder', { path: pathOrDir });
  if (kind === 'dir') return readPeftFolder(pathOrDir);
  let f: SafetensorsFile | undefined;
  try {
    f = SafetensorsFile.open(pathOrDir);
    if (!f.has(PROMPT_TENSOR_NAME)) {
      throw new VectorFileError('BAD_PEFT', `no '${PROMPT_TENSOR_NAME}' tensor (the file has: ${f.names().join(', ') || 'none'})`, { path: pathOrDir });
    }
    const e = f.entry(PROMPT_TENSOR_NAME);
    if (!['F32', 'F16', 'BF16'].includes(e.dtype)) {
      throw new VectorFileError('BAD_PEFT', `'${PROMPT_TENSOR_NAME}' is ${e.dtype}; prompt tables are F32 (or F16/BF16, widened exactly)`, { path: pathOrDir });
    }
    if (e.shape.length !== 2 || e.shape[0]! < 1 || e.shape[1]! < 1) {
      throw new VectorFileError('BAD_PEFT', `'${PROMPT_TENSOR_NAME}' has shape [${e.shape.join(', ')}], expected [rows, token_dim]`, { path: pathOrDir });
    }
    const { data } = f.readFloat32(PROMPT_TENSOR_NAME);
    const md = f.metadata;
    const modelId = md['model_id'] ?? md['base_model_name_or_path'] ?? null;
    return { data, shape: [e.shape[0]!, e.shape[1]!], modelId, kind: 'safetensors' };
  } catch (err) {
    return wrapForeign(err, pathOrDir);
  } finally {
    f?.close();
  }
}

async function readPeftFolder(dir: string): Promise<PromptSource> {
  let prompt: SoftPrompt | undefined;
  try {
    prompt = await SoftPrompt.fromPeft(dir);
    const data = await prompt.data();
    const shape: [number, number] = [prompt.table.shape[0]!, prompt.table.shape[1]!];
    const sidecar = readSidecar(dir);
    return {
      data,
      shape,
      modelId: prompt.config.baseModelNameOrPath,
      kind: 'peft',
      config: prompt.config,
      ...(sidecar !== undefined ? { sidecar } : {}),
    };
  } catch (err) {
    return wrapForeign(err, dir);
  } finally {
    prompt?.dispose();
  }
}

/** Options of {@link exportVectorAsPeft}. */
export interface ExportPeftOptions {
  /** θ_origin: when given the folder holds θ_origin + λτ (a loadable prompt); otherwise λτ itself. */
  readonly origin?: PromptInput;
  /** λ (default 1). */
  readonly lambda?: number;
  /** Apply to an origin of another shape with the same size. */
  readonly force?: boolean;
  /** `num_transformer_submodules` (default 2, seq2seq): rows = submodules × num_virtual_tokens. */
  readonly numTransformerSubmodules?: number;
  /** `base_model_name_or_path` (default: the vector's model id). */
  readonly baseModelNameOrPath?: string;
  /** `num_layers` (default from the model id for T5 v1.0 checkpoints, else null). */
  readonly numLayers?: number | null;
  /** `num_attention_heads` (default from the model id for T5 v1.0 checkpoints, else null). */
  readonly numAttentionHeads?: number | null;
  /** Origin id recorded in the sidecar when exporting a prompt (default: the vector's). */
  readonly originId?: string;
}

/** Result of {@link exportVectorAsPeft}. */
export interface ExportPeftResult {
  /** The folder written. */
  readonly dir: string;
  /** What its table holds. */
  readonly content: PeftContent;
  /** λ used. */
  readonly lambda: number;
  /** Table shape. */
  readonly shape: [number, number];
}

/**
 * Writes a vector as a PEFT adapter folder: θ_origin + λτ when `opts.origin` is given, else λτ (flagged
 * in the `tpv.json` sidecar). The folder must not exist; it is assembled under a temporary name and
 * renamed into place, so it appears complete or not at all.
 *
 * @param v - the vector; its shape must be 2-D `[rows, token_dim]`.
 * @param dir - the folder to create.
 * @param opts - origin, λ, PEFT config values.
 * @throws {@link VectorFileError} `EXISTS`, `IO`; {@link VectorError} for a bad shape, λ or origin.
 */
export async function exportVectorAsPeft(v: TaskPromptVector, dir: string, opts: ExportPeftOptions = {}): Promise<ExportPeftResult> {
  if (!(v instanceof TaskPromptVector)) throw new VectorError('BAD_ARGUMENT', 'exportVectorAsPeft needs a TaskPromptVector');
  const lambda = opts.lambda ?? 1;
  if (typeof lambda !== 'number' || !Number.isFinite(lambda)) throw new VectorError('BAD_ARGUMENT', `lambda must be a finite number, got ${String(lambda)}`);
  if (v.shape.length !== 2) throw new VectorError('BAD_ARGUMENT', `a PEFT prompt table is 2-D [rows, token_dim]; the vector has shape [${v.shape.join(', ')}]`);
  const [rows, tokenDim] = v.shape as [number, number];
  const submodules = opts.numTransformerSubmodules ?? 2;
  if (!Number.isSafeInteger(submodules) || submodules < 1 || rows % submodules !== 0) {
    throw new VectorError('BAD_ARGUMENT', `${rows} rows cannot be split into ${submodules} transformer submodules`);
  }
  if (statKind(dir) !== 'missing') throw new VectorFileError('EXISTS', 'the output already exists; refusing to overwrite it', { path: dir });

  const content: PeftContent = opts.origin !== undefined ? 'prompt' : 'task_prompt_vector';
  const data = opts.origin !== undefined ? v.applyTo(opts.origin, lambda, { force: opts.force }) : (lambda === 1 ? v : v.scale(lambda)).toFloat32Array();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new VectorError('NON_FINITE', `λτ overflows float32 at element ${i}`, { index: i });
  }
  const baseModel = opts.baseModelNameOrPath ?? v.modelId;
  const known = knownModel(baseModel);
  const sidecar: TpvSidecar = {
    format: 'tpv-peft',
    schemaVersion: 1,
    content,
    tasks: { ...tasksToRecord(v.tasks) },
    taskString: v.taskString,
    modelId: v.modelId,
    originId: (content === 'prompt' ? opts.originId ?? v.originId : v.originId) ?? null,
    lambda,
    provenance: v.provenance,
    exported: new Date().toISOString(),
    tool: TOOL_NAME,
    toolVersion: TOOL_VERSION,
  };

  const abs = nodePath.resolve(dir);
  const tmp = `${abs}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let prompt: SoftPrompt | undefined;
  try {
    try {
      fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
    } catch (e) {
      throw new VectorFileError('IO', `cannot create the parent folder: ${(e as Error).message}`, { path: dir, cause: e });
    }
    prompt = SoftPrompt.fromArray(data, { numVirtualTokens: rows / submodules, numTransformerSubmodules: submodules, tokenDim });
    await prompt.savePeft(tmp, {
      baseModelNameOrPath: baseModel,
      numLayers: opts.numLayers !== undefined ? opts.numLayers : known?.numLayers ?? null,
      numAttentionHeads: opts.numAttentionHeads !== undefined ? opts.numAttentionHeads : known?.numAttentionHeads ?? null,
    });
    writeFileAtomic(nodePath.join(tmp, TPV_SIDECAR_NAME), `${JSON.stringify(sidecar, null, 2)}\n`);
    try {
      fs.renameSync(tmp, abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new VectorFileError('EXISTS', 'the output appeared while exporting; not overwritten', { path: dir, cause: e });
      throw new VectorFileError('IO', `cannot move the folder into place: ${(e as Error).message}`, { path: dir, cause: e });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    wrapForeign(err, dir);
  } finally {
    prompt?.dispose();
  }
  return { dir, content, lambda, shape: [rows, tokenDim] };
}

/** Metadata and options of {@link importVectorFromPeft}. */
export interface ImportPeftMeta {
  /** Task label (default: the tuned folder's sidecar). */
  readonly tasks?: TaskInput;
  /** Model id (default: the sidecar's, else `base_model_name_or_path` of the tuned, else of the origin). */
  readonly modelId?: string;
  /** Origin id (default: the origin folder's name). */
  readonly originId?: string;
  /** Extra provenance fields. */
  readonly provenance?: Readonly<Record<string, unknown>>;
  /** Accept a tuned/origin pair whose base models differ. */
  readonly force?: boolean;
}

/**
 * τ = θ_tuned − θ_origin from two PEFT folders (or bare safetensors prompt files), exactly; or, when
 * the tuned folder's sidecar says it holds τ itself, that τ (pass no origin then).
 *
 * @param tunedDir - the tuned prompt (or an exported τ).
 * @param originDir - the origin prompt; omit for a τ folder.
 * @param meta - tasks, model id, origin id, provenance, `force`.
 * @throws {@link VectorFileError} for unreadable folders; {@link VectorError} `SHAPE_MISMATCH`,
 *   `MODEL_MISMATCH`, `BAD_ARGUMENT` (missing tasks or model id, origin given for a τ folder, ...).
 */
export async function importVectorFromPeft(tunedDir: string, originDir?: string, meta: ImportPeftMeta = {}): Promise<TaskPromptVector> {
  const tuned = await readPromptSource(tunedDir);
  const side = tuned.sidecar;
  const tasksInput = meta.tasks ?? side?.tasks;
  if (tasksInput === undefined) throw new VectorError('BAD_ARGUMENT', `no tasks given and ${tunedDir} has no ${TPV_SIDECAR_NAME} naming them`);
  const tasks = parseTasks(tasksInput);
  const sources: Record<string, unknown> = { tuned: nodePath.resolve(tunedDir) };

  if (side?.content === 'task_prompt_vector') {
    if (originDir !== undefined) {
      throw new VectorError('BAD_ARGUMENT', `${tunedDir} holds a task prompt vector (τ) itself, not a tuned prompt; import it without an origin`);
    }
    return TaskPromptVector.fromParts({
      hi: Float64Array.from(tuned.data),
      shape: tuned.shape,
      tasks,
      modelId: meta.modelId ?? side.modelId,
      originId: meta.originId ?? side.originId ?? undefined,
      provenance: { ...side.provenance, op: 'importVectorFromPeft', sources, lambda: side.lambda, ...(meta.provenance ?? {}) },
    });
  }
  if (originDir === undefined) throw new VectorError('BAD_ARGUMENT', `${tunedDir} holds a prompt; pass the origin it was tuned from`);
  const origin = await readPromptSource(originDir);
  sources.origin = nodePath.resolve(originDir);
  if (tuned.shape[0] !== origin.shape[0] || tuned.shape[1] !== origin.shape[1]) {
    throw new VectorError('SHAPE_MISMATCH', `tuned [${tuned.shape.join(', ')}] and origin [${origin.shape.join(', ')}] differ`);
  }
  if (tuned.modelId !== null && origin.modelId !== null && tuned.modelId !== origin.modelId && meta.force !== true) {
    throw new VectorError('MODEL_MISMATCH', `tuned prompt is for ${tuned.modelId}, origin for ${origin.modelId} (pass force to combine them anyway)`);
  }
  const modelId = meta.modelId ?? side?.modelId ?? tuned.modelId ?? origin.modelId;
  if (modelId === null || modelId === undefined) throw new VectorError('BAD_ARGUMENT', 'neither folder names its base model; pass modelId');
  return TaskPromptVector.fromPrompts({ data: tuned.data, shape: tuned.shape }, { data: origin.data, shape: origin.shape }, {
    tasks,
    modelId,
    originId: meta.originId ?? nodePath.basename(nodePath.resolve(originDir)).replace(/\.safetensors$/u, ''),
    provenance: { op: 'importVectorFromPeft', sources, ...(meta.provenance ?? {}) },
  });
}
