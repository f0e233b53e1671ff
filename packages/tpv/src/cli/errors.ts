/** A usage error of the `tpv` CLI (bad or missing flag); printed without a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Parses a flag as a positive (or non-negative) integer with a clear error. */
export function intFlag(name: string, v: string | undefined, opts: { min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (opts.min ?? 1)) throw new CliError(`--${name} must be an integer ≥ ${opts.min ?? 1}, got '${v}'`);
  return n;
}

/** Parses a flag as a finite number. */
export function numFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${v}'`);
  return n;
}
