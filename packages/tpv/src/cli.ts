#!/usr/bin/env node
/**
 * The `tpv` command line: `tpv train`, `tpv eval`, `tpv origins`, `tpv tasks`, `tpv vector …`.
 * Errors from bad input are printed as one clear line (no stack trace) with exit code 2.
 */
import { pathToFileURL } from 'node:url';
import { listTasks } from './tasks/index.js';
import { ATTEMPT_HELP, attemptCommand } from './cli/attempt.js';
import { evalCommand } from './cli/eval.js';
import { CliError } from './cli/errors.js';
import { originsCommand } from './cli/origins.js';
import { EXPERIMENT_HELP, runExperimentCommand } from './experiments/index.js';
import { type CliIO, TRAIN_HELP, trainCommand } from './cli/train.js';

const HELP = `tpv — task prompt vectors for T5

  tpv train   prompt-tune a soft prompt (single-task, multi-task, few-shot)
  tpv eval    evaluate a prompt on a task's test or validation split
  tpv origins write the paper's random initialisations (sampled-vocab origins)
  tpv vector  create / combine / apply / compare task prompt vectors
  tpv attempt the ATTEMPT baseline (attention over frozen source prompts)
  tpv experiment  run a resumable grid of runs (the paper's protocols) and report it
  tpv tasks   list the tasks

${TRAIN_HELP}

${EXPERIMENT_HELP}

${ATTEMPT_HELP}`;

/** Runs the CLI with `argv` (without `node tpv`); returns the exit code. */
export async function main(argv: string[], io: CliIO = { out: (l) => console.log(l), err: process.stderr }): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'train':
        await trainCommand(rest, io);
        return 0;
      case 'eval':
        await evalCommand(rest, io);
        return 0;
      case 'origins':
        await originsCommand(rest, io);
        return 0;
      case 'attempt':
        await attemptCommand(rest, io);
        return 0;
      case 'experiment':
        await runExperimentCommand(rest, io);
        return 0;
      case 'tasks':
        for (const t of listTasks()) io.out(`${t.name.padEnd(20)} ${t.metric.kind.padEnd(9)} ${t.labels.join(', ')}`);
        return 0;
      case 'vector': {
        const { runVectorCommand } = await import('./vector/index.js');
        return (await runVectorCommand(rest, { write: io.out, error: (s: string) => io.err.write(s + '\n') })).exitCode;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      default:
        throw new CliError(`unknown command '${cmd}'; run 'tpv help'`);
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    const typed = err instanceof CliError || (typeof err.code === 'string' && /Error$/.test(err.name));
    if (typed || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err.name === 'TypeError' && /parseArgs|option/i.test(err.message)) {
      io.err.write(`tpv ${cmd ?? ''}: ${err.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
