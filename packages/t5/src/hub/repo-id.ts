/**
 * Parsing and validation of Hub repo ids, revisions and repo-relative filenames.
 *
 * Validation is strict on purpose: all three end up as path segments inside the
 * cache (`models--org--name/refs/<revision>`, `snapshots/<sha>/<filename>`), so
 * anything that could climb out of the cache folder must be rejected.
 *
 * @module
 */

import { HubError } from './errors.js';

/** Revision used when none is given, as in Python. */
export const DEFAULT_REVISION = 'main';

/**
 * Kind of Hub repository, as Python's `repo_type`. It selects the URL prefix
 * (`{endpoint}/datasets/{repo}/resolve/...` for datasets, none for models) and
 * the cache folder (`models--org--name` / `datasets--org--name`). Model and
 * dataset ids are separate namespaces: `org/x` may name both.
 */
export type HubRepoType = 'model' | 'dataset';

/** The repo types this client supports, in Python's spelling. */
export const HUB_REPO_TYPES: readonly HubRepoType[] = ['model', 'dataset'];

/**
 * Throws `BAD_REPO_ID` unless `repoType` is one of {@link HUB_REPO_TYPES}
 * (guards JavaScript callers and typos such as `datasets`).
 */
export function validateRepoType(repoType: string, repoId?: string): asserts repoType is HubRepoType {
  if (!(HUB_REPO_TYPES as readonly string[]).includes(repoType)) {
    throw new HubError(
      'BAD_REPO_ID',
      `Invalid repo type ${JSON.stringify(repoType)}${repoId ? ` for repo ${repoId}` : ''}: expected ${HUB_REPO_TYPES.map((t) => JSON.stringify(t)).join(' or ')}.`,
      { repoId },
    );
  }
}

/** A full commit sha, which lets a cached file be used without any request. */
export const COMMIT_SHA_RE = /^[0-9a-f]{40}$/;

/** A repo id split from its optional `@revision` suffix. */
export interface ParsedRepoId {
  /** `name` or `org/name`. */
  repoId: string;
  /** Revision from the `@revision` suffix, or `undefined` when there was none. */
  revision: string | undefined;
}

// One part of a repo id, as Python's validate_repo_id: word chars, '-', '.', and
// starting/ending with a word char.
const PART = '[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?';
const REPO_ID_RE = new RegExp(`^(?:${PART}/)?${PART}$`);

/**
 * Splits `org/name@revision` (or `name`, `org/name`, `name@rev`) and validates it
 * with the rules of Python's `validate_repo_id`: at most one `/`, parts made of
 * letters, digits, `_`, `-`, `.` starting and ending with a letter/digit/`_`,
 * no `--` or `..` (they would collide with the `models--org--name` folder
 * encoding), no `.git` suffix, at most 96 characters.
 *
 * The revision may contain `/` (e.g. `refs/pr/1`), so only the first `@` splits.
 *
 * @throws {@link HubError} `BAD_REPO_ID` when the id or revision is invalid.
 */
export function parseRepoId(input: string): ParsedRepoId {
  const at = input.indexOf('@');
  const repoId = at === -1 ? input : input.slice(0, at);
  const revision = at === -1 ? undefined : input.slice(at + 1);
  validateRepoId(repoId);
  if (revision !== undefined) validateRevision(revision, repoId);
  return { repoId, revision };
}

/**
 * Throws `BAD_REPO_ID` unless `repoId` is a valid `name` / `org/name`.
 * @see {@link parseRepoId} for the rules.
 */
export function validateRepoId(repoId: string): void {
  const bad = (why: string): never => {
    throw new HubError(
      'BAD_REPO_ID',
      `Invalid Hub repo id ${JSON.stringify(repoId)}: ${why}. Expected "name" or "org/name", optionally followed by "@revision" (e.g. "google/flan-t5-base@main"), or a path to an existing local directory.`,
      { repoId },
    );
  };
  if (repoId.length === 0) bad('it is empty');
  if (repoId.length > 96) bad('it is longer than 96 characters');
  if (!REPO_ID_RE.test(repoId)) bad('only letters, digits, "_", "-", "." and one "/" are allowed, and each part must start and end with a letter, digit or "_"');
  if (repoId.includes('--') || repoId.includes('..')) bad('"--" and ".." are not allowed');
  if (repoId.endsWith('.git')) bad('it must not end with ".git"');
}

/**
 * Throws `BAD_REPO_ID` unless `revision` is safe to use as a path below `refs/`:
 * non-empty `/`-separated segments, none of them `.` or `..`, no backslash or
 * control characters.
 */
export function validateRevision(revision: string, repoId?: string): void {
  const segments = revision.split('/');
  const ok =
    revision.length > 0 &&
    revision.length <= 255 &&
    !/[\\\x00-\x1f]/.test(revision) &&
    segments.every((s) => s.length > 0 && s !== '.' && s !== '..');
  if (!ok) {
    throw new HubError(
      'BAD_REPO_ID',
      `Invalid revision ${JSON.stringify(revision)}${repoId ? ` for repo ${repoId}` : ''}: expected a branch, tag or commit sha such as "main", "v1.0" or "refs/pr/1".`,
      { repoId, revision },
    );
  }
}

/**
 * Throws `BAD_FILENAME` unless `filename` is a relative, `/`-separated path that
 * stays inside the repo (no leading `/`, no drive letter, no `.`/`..`/empty
 * segments, no backslash). Same intent as huggingface.js'
 * `validateRelativeFilename` (huggingface_hub#4540): names come from callers or
 * from repo listings and are joined onto cache paths.
 */
export function validateFilename(filename: string, repoId?: string): void {
  const segments = filename.split('/');
  const ok =
    filename.length > 0 &&
    !filename.includes('\\') &&
    !/^[A-Za-z]:/.test(filename) &&
    !/[\x00-\x1f]/.test(filename) &&
    segments.every((s) => s.length > 0 && s !== '.' && s !== '..');
  if (!ok) {
    throw new HubError(
      'BAD_FILENAME',
      `Invalid filename ${JSON.stringify(filename)}${repoId ? ` in repo ${repoId}` : ''}: expected a relative path inside the repo like "config.json" or "subfolder/model.safetensors".`,
      { repoId, filename },
    );
  }
}
