/**
 * The task label of a task prompt vector as a signed multiset: `{mnli_text: +1, qnli_text: +1,
 * sst2_text: −1}` for τ_mnli + τ_qnli − τ_sst2.
 *
 * The reference (`TaskPrompt` in TPV `arithmetics/task_prompt.py`) keeps a *string* such as
 * `"+ mnli_text + qnli_text"` and a plain set parsed from it; its negation flips only the first sign
 * (spec §1, a known quirk) and its set forgets both signs and multiplicities. A signed multiset is what
 * the arithmetic really does: negation flips every sign, `a − a` cancels to nothing, and `a + a` counts
 * twice. Keys are kept sorted so that `a + b` and `b + a` carry identical labels.
 */
import { VectorError } from './errors.js';

/** Task name → signed multiplicity (a non-zero safe integer), keys in code-point order. */
export type TaskCounts = ReadonlyMap<string, number>;

/** Anything accepted where tasks are expected: an expression, a record, a map, or a list of names. */
export type TaskInput = string | TaskCounts | Readonly<Record<string, number>> | readonly string[];

/** Unicode minus used when printing, as in the paper's figures; `-` (ASCII) is accepted on input too. */
const MINUS = '\u2212';

/**
 * A task name: no whitespace, does not start with a sign, at most 256 characters. Whitespace would
 * break the printed expression; a leading sign would make it ambiguous. (`__proto__` is also refused.)
 */
const NAME_RE = /^[^\s+\-\u2212][^\s]{0,255}$/u;

/**
 * Checks one task name.
 *
 * @param name - the candidate.
 * @returns true when {@link parseTasks} would accept it as a name.
 */
export function isValidTaskName(name: string): boolean {
  // `__proto__` is refused because MessagePack and JSON readers treat it specially as an object key.
  return typeof name === 'string' && NAME_RE.test(name) && name !== '__proto__';
}

function freeze(entries: Iterable<[string, number]>): TaskCounts {
  const acc = new Map<string, number>();
  for (const [name, count] of entries) {
    if (!isValidTaskName(name)) throw new VectorError('BAD_TASKS', `invalid task name ${JSON.stringify(name)}`, { name });
    if (!Number.isSafeInteger(count)) throw new VectorError('BAD_TASKS', `task ${name}: count ${count} is not a safe integer`, { name, count });
    const next = (acc.get(name) ?? 0) + count;
    if (!Number.isSafeInteger(next)) throw new VectorError('BAD_TASKS', `task ${name}: count overflows`, { name });
    acc.set(name, next);
  }
  const sorted = [...acc.entries()].filter(([, c]) => c !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(sorted);
}

/**
 * Parses a task expression or normalises another task input.
 *
 * Expressions follow the reference's names: `"mnli_text"` (an unsigned name means `+`),
 * `"+ mnli_text + qnli_text"`, `"+ mnli_text - sst2_text"`, `"+ mnli_text − sst2_text"`; signs may also
 * be attached (`"-sst2_text"`). `"∅"` and `""` are the empty multiset.
 *
 * @param input - the expression, or a record/map of counts, or a list of names (each counted +1).
 * @returns the normalised multiset (zero counts dropped, keys sorted).
 * @throws {@link VectorError} `BAD_TASKS` for an unparsable expression, a bad name or a non-integer count.
 */
export function parseTasks(input: TaskInput): TaskCounts {
  if (typeof input === 'string') return parseExpression(input);
  if (input instanceof Map) return freeze(input.entries());
  if (Array.isArray(input)) {
    return freeze((input as readonly unknown[]).map((n) => {
      if (typeof n !== 'string') throw new VectorError('BAD_TASKS', 'task list entries must be strings');
      return [n, 1] as [string, number];
    }));
  }
  if (input !== null && typeof input === 'object') {
    return freeze(Object.entries(input as Record<string, number>));
  }
  throw new VectorError('BAD_TASKS', `tasks must be a string, a map or a record, got ${typeof input}`);
}

function parseExpression(text: string): TaskCounts {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '\u2205') return new Map();
  const tokens = trimmed.split(/\s+/u);
  const out: [string, number][] = [];
  let pending: number | undefined;
  for (const raw of tokens) {
    let tok = raw;
    let sign: number | undefined;
    if (tok === '+' || tok === '-' || tok === MINUS) {
      if (pending !== undefined) throw new VectorError('BAD_TASKS', `two signs in a row in ${JSON.stringify(text)}`, { text });
      pending = tok === '+' ? 1 : -1;
      continue;
    }
    const first = tok[0];
    if (first === '+' || first === '-' || first === MINUS) {
      if (pending !== undefined) throw new VectorError('BAD_TASKS', `two signs in a row in ${JSON.stringify(text)}`, { text });
      sign = first === '+' ? 1 : -1;
      tok = tok.slice(1);
    }
    const s = sign ?? pending ?? 1;
    pending = undefined;
    if (!isValidTaskName(tok)) throw new VectorError('BAD_TASKS', `invalid task name ${JSON.stringify(tok)} in ${JSON.stringify(text)}`, { text });
    out.push([tok, s]);
  }
  if (pending !== undefined) throw new VectorError('BAD_TASKS', `dangling sign at the end of ${JSON.stringify(text)}`, { text });
  return freeze(out);
}

/**
 * Prints a multiset as an expression: `"+ mnli_text + qnli_text − sst2_text"`; multiplicities are
 * written out (`"+ a + a"`), the empty multiset is `"∅"`.
 *
 * @param tasks - the multiset.
 * @param opts - `ascii: true` prints `-` instead of `−`, matching the reference's names.
 */
export function formatTasks(tasks: TaskCounts, opts: { ascii?: boolean } = {}): string {
  if (tasks.size === 0) return '\u2205';
  const minus = opts.ascii === true ? '-' : MINUS;
  const parts: string[] = [];
  for (const [name, count] of tasks) {
    const sign = count > 0 ? '+' : minus;
    for (let i = 0; i < Math.abs(count); i++) parts.push(`${sign} ${name}`);
  }
  return parts.join(' ');
}

/**
 * Multiset sum, the label of `a + b`.
 *
 * @param a - first multiset.
 * @param b - second multiset.
 */
export function addTasks(a: TaskCounts, b: TaskCounts): TaskCounts {
  return freeze([...a.entries(), ...b.entries()]);
}

/**
 * Every sign flipped, the label of `−a`.
 *
 * @param a - the multiset.
 */
export function negateTasks(a: TaskCounts): TaskCounts {
  return freeze([...a.entries()].map(([n, c]) => [n, -c] as [string, number]));
}

/**
 * Sum of many multisets.
 *
 * @param all - the multisets.
 */
export function sumTasks(all: readonly TaskCounts[]): TaskCounts {
  return freeze(all.flatMap((t) => [...t.entries()]));
}

/**
 * Multiset equality (same names with the same signed counts).
 *
 * @param a - first multiset.
 * @param b - second multiset.
 */
export function tasksEqual(a: TaskCounts, b: TaskCounts): boolean {
  if (a.size !== b.size) return false;
  for (const [n, c] of a) if (b.get(n) !== c) return false;
  return true;
}

/**
 * The multiset as a plain record (for JSON and MessagePack).
 *
 * @param tasks - the multiset.
 */
export function tasksToRecord(tasks: TaskCounts): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [n, c] of tasks) out[n] = c;
  return out;
}
