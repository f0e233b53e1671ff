/**
 * Provenance records: free-form JSON-like metadata that travels with a vector (when and with which tool
 * it was made, from which files, with which λ or merge parameters). Kept JSON-like so that it survives
 * `.tpv` (MessagePack), PEFT metadata (JSON text) and `--json` output unchanged.
 */
import fs from 'node:fs';
import { VectorError } from './errors.js';

/** A JSON value (no `undefined`, no non-finite numbers, no class instances). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A provenance record: a JSON object. */
export type Provenance = Readonly<Record<string, JsonValue>>;

/** Package name written into provenance records. */
export const TOOL_NAME = '@tpvjs/tpv';

/**
 * The package version, read from `package.json` two folders up (the same relative place from `src/vector`
 * and from `dist/vector`), so the version is never duplicated by hand. Falls back to `0.0.0-unknown` when
 * the file is not there (e.g. bundled).
 */
export const TOOL_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown';
  } catch {
    return '0.0.0-unknown';
  }
})();

/** Limits that keep a provenance record small and its validation cheap. */
export const PROVENANCE_LIMITS = { maxDepth: 16, maxNodes: 10_000 } as const;

/**
 * Validates that a value is JSON-like and returns a deep, frozen copy of it.
 *
 * @param value - the candidate.
 * @param what - name used in error messages.
 * @throws {@link VectorError} `BAD_ARGUMENT` when the value holds something JSON cannot carry, is nested
 *   deeper than {@link PROVENANCE_LIMITS}.maxDepth or has more than maxNodes entries.
 */
export function cloneJson(value: unknown, what = 'provenance'): JsonValue {
  let nodes = 0;
  const walk = (v: unknown, depth: number, path: string): JsonValue => {
    if (++nodes > PROVENANCE_LIMITS.maxNodes) throw new VectorError('BAD_ARGUMENT', `${what} has more than ${PROVENANCE_LIMITS.maxNodes} entries`);
    if (depth > PROVENANCE_LIMITS.maxDepth) throw new VectorError('BAD_ARGUMENT', `${what} is nested deeper than ${PROVENANCE_LIMITS.maxDepth} at ${path}`);
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new VectorError('BAD_ARGUMENT', `${what} holds a non-finite number at ${path}`);
      return v;
    }
    if (Array.isArray(v)) return Object.freeze(v.map((x, i) => walk(x, depth + 1, `${path}[${i}]`)));
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new VectorError('BAD_ARGUMENT', `${what} holds a non-plain object at ${path}`);
      }
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === '__proto__') throw new VectorError('BAD_ARGUMENT', `${what} uses the reserved key __proto__ at ${path}`);
        out[k] = walk(x, depth + 1, `${path}.${k}`);
      }
      return Object.freeze(out);
    }
    throw new VectorError('BAD_ARGUMENT', `${what} holds a ${typeof v} at ${path}, which JSON cannot carry`);
  };
  return walk(value, 0, '$');
}

/**
 * Validates a provenance record (a JSON object) and returns a frozen copy.
 *
 * @param value - the candidate; `undefined` gives `{}`.
 */
export function cloneProvenance(value: unknown): Provenance {
  if (value === undefined) return Object.freeze({});
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new VectorError('BAD_ARGUMENT', 'provenance must be a plain object');
  }
  return cloneJson(value) as Provenance;
}

/**
 * The standard fields of a freshly made record: creation time, tool name and version.
 *
 * @param extra - fields to add (they win over the standard ones).
 */
export function freshProvenance(extra: Record<string, unknown> = {}): Provenance {
  return cloneProvenance({ created: new Date().toISOString(), tool: TOOL_NAME, toolVersion: TOOL_VERSION, ...extra });
}
