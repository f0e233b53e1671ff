/**
 * `tpv experiment run <spec.json> …` and `tpv experiment report <dir> …`.
 *
 * `run` executes a grid into `--out`: `journal.jsonl` (one record per finished run), `runs/<cell>/`
 * (checkpoints and best prompts), `spec.json` (the spec last run) and `report.md` (regenerated after
 * every run). Running the same command again resumes: finished cells are skipped and an interrupted
 * cell continues from its checkpoint.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli/errors.js';
import { loadModel, useBackend } from '../cli/model.js';
import { type CliIO, dataSource } from '../cli/train.js';
import { writeAtomic } from '../train/trainer.js';
import { type GridRunSummary, expandGrid, parseGridSpec, runGrid } from './grid.js';
import { Journal } from './journal.js';
import { fewShotTasks, renderReport, renderShotsSvg } from './report.js';
import { createCellTrainer } from './runner.js';

/** Usage text of `tpv experiment`. */
export const EXPERIMENT_HELP = `tpv experiment run <spec.json> --model <dir|hub-id> --out <dir> [--data bundled|hub|<dir>] [--backend cpu|webgpu] [--quiet]
    runs a resumable grid of prompt-tuning / addition cells; results go to <out>/journal.jsonl and <out>/report.md
tpv experiment report <dir|journal.jsonl> [--svg <file.svg>]
    prints the Markdown report (mean ± population std ×100 over origins); --svg writes F1-vs-shots charts
    (one per task with few-shot runs: <file>-<task>.svg when there are several)

spec.json: { "name": "…", "training": { "maxSteps": …, … },
             "cells": [ { "kind": "prompt-tuning", "tasks": ["mnli_text"], "origins": [0, 1], "shots": [0, 100],
                          "init": "random" | { "spot": "mnli_text" } | { "tpv": ["mnli_text", "qnli_text"] } },
                        { "kind": "addition", "tasks": ["mnli_text", "qnli_text"], "origins": [0, 1] } ] }`;

function journalPath(p: string): string {
  return existsSync(p) && statSync(p).isDirectory() ? join(p, 'journal.jsonl') : p;
}

function readJournal(path: string, io: CliIO): Journal {
  const j = new Journal(path);
  for (const p of j.read().problems) io.err.write(`warning: ${path}:${p.line}: ${p.reason}; skipped${p.truncated ? ' (that run will be redone)' : ''}\n`);
  return j;
}

async function runCmd(argv: string[], io: CliIO): Promise<GridRunSummary & { out: string; report: string }> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { model: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string' }, quiet: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new CliError('experiment run takes one spec file: tpv experiment run <spec.json> --model … --out …');
  if (!values.out) throw new CliError('--out is required');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(positionals[0]!, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read spec ${positionals[0]}: ${(e as Error).message}`);
  }
  const spec = parseGridSpec(json);
  const source = dataSource(values.data);
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeAtomic(join(out, 'spec.json'), JSON.stringify(spec, null, 2));
  const journal = readJournal(join(out, 'journal.jsonl'), io);
  const log = (line: string) => io.err.write(`${line}\n`);
  let summary: GridRunSummary;
  const pending = expandGrid(spec).filter((c) => !journal.isDone(c.key));
  if (pending.length === 0) {
    // Nothing to do: do not pay for loading the model.
    summary = { ran: [], skipped: expandGrid(spec).map((c) => c.key), total: expandGrid(spec).length };
    log(`${spec.name}: all ${summary.total} cells are in the journal`);
  } else {
    await useBackend(values.backend);
    const { model, tokenizer } = await loadModel(values.model);
    try {
      const train = createCellTrainer({ model, tokenizer, modelId: values.model!, source, silent: values.quiet ?? false, progressSink: io.err });
      summary = await runGrid(spec, { journal, outDir: out, train, log });
    } finally {
      model.dispose();
    }
  }
  const report = renderReport(journal.records(), { title: spec.name });
  writeAtomic(join(out, 'report.md'), report);
  io.out(`${spec.name}: ran ${summary.ran.length}, skipped ${summary.skipped.length} (already done); journal ${join(out, 'journal.jsonl')}; report ${join(out, 'report.md')}`);
  return { ...summary, out, report };
}

function reportCmd(argv: string[], io: CliIO): { report: string; svgs: string[] } {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { svg: { type: 'string' } } });
  if (positionals.length !== 1) throw new CliError('experiment report takes one folder or journal file');
  const path = journalPath(resolve(positionals[0]!));
  if (!existsSync(path)) throw new CliError(`no journal at ${path}`);
  const journal = readJournal(path, io);
  const records = journal.records();
  const report = renderReport(records);
  io.out(report);
  const svgs: string[] = [];
  if (values.svg) {
    const tasks = fewShotTasks(records);
    if (tasks.length === 0) io.err.write('no few-shot runs in the journal; no SVG written\n');
    const ext = extname(values.svg);
    for (const t of tasks) {
      const file = resolve(tasks.length === 1 ? values.svg : `${values.svg.slice(0, values.svg.length - ext.length)}-${t}${ext || '.svg'}`);
      mkdirSync(dirname(file), { recursive: true });
      writeAtomic(file, renderShotsSvg(records, t));
      svgs.push(file);
      io.err.write(`wrote ${file}\n`);
    }
  }
  return { report, svgs };
}

/**
 * `tpv experiment <run|report> …`. Usage errors throw `CliError` and spec errors `ExperimentError`
 * (both typed, so `main` prints one line and exits 2).
 *
 * @returns the run summary (`run`) or the report text and SVG paths (`report`).
 */
export async function runExperimentCommand(argv: string[], io: CliIO): Promise<Record<string, unknown>> {
  const [sub, ...rest] = argv;
  if (sub === 'run') return { ...(await runCmd(rest, io)) };
  if (sub === 'report') return { ...reportCmd(rest, io) };
  if (sub === undefined || sub === 'help' || sub === '--help') {
    io.out(EXPERIMENT_HELP);
    return {};
  }
  throw new CliError(`unknown experiment command '${sub}'; use run or report`);
}
