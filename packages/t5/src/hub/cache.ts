/**
 * The on-disk cache, in exactly the layout of Python `huggingface_hub`
 * (`hf_hub_download`), so that a cache filled by Python is reused here and the
 * other way round:
 *
 * ```text
 * <cacheDir>/models--<org>--<name>/          (dataset repos: datasets--<org>--<name>/)
 *   blobs/<etag>                          file content, named by its ETag (git sha1, or sha256 for LFS)
 *   blobs/<etag>.incomplete               download in progress (resumable)
 *   refs/<revision>                       commit sha the revision pointed to last time we looked
 *                                         (a revision with `/` nests: refs/refs/convert/parquet)
 *   snapshots/<commit>/<filename>         RELATIVE symlink -> ../../blobs/<etag>
 *   .no_exist/<commit>/<filename>         empty marker: the Hub said this file does not exist
 * ```
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { hubCacheDir, type HubConfigOptions } from './config.js';
import { COMMIT_SHA_RE, DEFAULT_REVISION, parseRepoId, validateRepoType, validateRevision, type HubRepoType } from './repo-id.js';

/** Where one repo lives in the cache. All paths are absolute if `cacheDir` is. */
export interface HubCachePaths {
  /** The repo id, without `@revision`. */
  repoId: string;
  /** Kind of repo (`model` or `dataset`); it picks the `models--` / `datasets--` folder. */
  repoType: HubRepoType;
  /** Revision these paths were computed for (`@rev`, `options.revision`, or `main`). */
  revision: string;
  /** Cache root (`$HF_HUB_CACHE`). */
  cacheDir: string;
  /** `<cacheDir>/models--org--name` (`datasets--org--name` for a dataset repo). */
  repoDir: string;
  /** `<repoDir>/blobs`. */
  blobsDir: string;
  /** `<repoDir>/snapshots`. */
  snapshotsDir: string;
  /** `<repoDir>/refs`. */
  refsDir: string;
  /** `<repoDir>/.no_exist`. */
  noExistDir: string;
  /**
   * `<repoDir>/refs/<revision>` (the file holding the commit sha). A revision
   * containing `/` is a nested path, as Python writes it: `refs/convert/parquet`
   * is stored at `<repoDir>/refs/refs/convert/parquet`.
   */
  refFile: string;
  /** `<blobsDir>/<etag>`. */
  blobPath(etag: string): string;
  /** `<snapshotsDir>/<commit>` or, with a filename, the pointer `<snapshotsDir>/<commit>/<filename>`. */
  snapshotPath(commit: string, filename?: string): string;
}

/** Options of {@link hubCachePaths}. */
export interface HubCachePathOptions extends Pick<HubConfigOptions, 'cacheDir' | 'env'> {
  /** Revision when `repoId` has no `@revision`; default `main`. */
  revision?: string;
  /** Kind of repo; default `model`. Dataset repos live in `datasets--org--name`. */
  repoType?: HubRepoType;
}

/**
 * Python's `repo_folder_name`: `<repoType>s--` + the repo id with `/` replaced
 * by `--` (`models--org--name`, `datasets--org--name`). `--` is forbidden
 * inside repo ids precisely so that this is reversible.
 *
 * @param repoId - `name` or `org/name` (no `@revision`)
 * @param repoType - kind of repo; default `model`
 * @throws {@link HubError} `BAD_REPO_ID` for an unknown `repoType`.
 */
export function repoFolderName(repoId: string, repoType: HubRepoType = 'model'): string {
  validateRepoType(repoType, repoId);
  return [`${repoType}s`, ...repoId.split('/')].join('--');
}

/**
 * Computes the cache paths of a model or dataset repo, without touching the disk.
 *
 * @param repoId - `name`, `org/name` or `org/name@revision`
 * @param options - `cacheDir` / `env` to locate the cache, `revision` when the id has none,
 *   `repoType` (default `model`)
 * @throws {@link HubError} `BAD_REPO_ID` for an invalid id, revision or repo type.
 */
export function hubCachePaths(repoId: string, options: HubCachePathOptions = {}): HubCachePaths {
  const parsed = parseRepoId(repoId);
  const revision = parsed.revision ?? options.revision ?? DEFAULT_REVISION;
  validateRevision(revision, parsed.repoId);
  const repoType = options.repoType ?? 'model';
  const cacheDir = hubCacheDir(options);
  const repoDir = join(cacheDir, repoFolderName(parsed.repoId, repoType));
  const blobsDir = join(repoDir, 'blobs');
  const snapshotsDir = join(repoDir, 'snapshots');
  const refsDir = join(repoDir, 'refs');
  return {
    repoId: parsed.repoId,
    repoType,
    revision,
    cacheDir,
    repoDir,
    blobsDir,
    snapshotsDir,
    refsDir,
    noExistDir: join(repoDir, '.no_exist'),
    refFile: join(refsDir, ...revision.split('/')),
    blobPath: (etag) => join(blobsDir, etag),
    snapshotPath: (commit, filename) =>
      filename === undefined ? join(snapshotsDir, commit) : join(snapshotsDir, commit, ...filename.split('/')),
  };
}

/** `true` if `p` exists; follows symlinks, so a dangling snapshot pointer counts as missing (as in Python). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Size of a file, or -1 if it does not exist. */
export async function fileSize(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return -1;
  }
}

/** Reads `refs/<revision>`; trimmed because hand-written refs often end with a newline. */
export async function readRef(paths: HubCachePaths, revision: string): Promise<string | undefined> {
  try {
    const sha = (await readFile(join(paths.refsDir, ...revision.split('/')), 'utf8')).trim();
    return sha || undefined;
  } catch {
    return undefined;
  }
}

/** Outcome of a cache-only lookup. */
export type CacheLookup =
  | { kind: 'hit'; path: string; commit: string }
  | { kind: 'no-exist'; commit: string }
  | { kind: 'miss' };

/**
 * Python's `try_to_load_from_cache`: a revision resolves through `refs/<revision>`
 * (a commit sha resolves to itself), then `snapshots/<commit>/<filename>` must
 * exist; `.no_exist/<commit>/<filename>` means the Hub told us it does not exist.
 */
export async function lookupCache(paths: HubCachePaths, revision: string, filename: string): Promise<CacheLookup> {
  const commit = (COMMIT_SHA_RE.test(revision) ? undefined : await readRef(paths, revision)) ?? revision;
  const pointer = paths.snapshotPath(commit, filename);
  if (await exists(pointer)) return { kind: 'hit', path: pointer, commit };
  if (await exists(join(paths.noExistDir, commit, ...filename.split('/')))) return { kind: 'no-exist', commit };
  return { kind: 'miss' };
}

/** A random suffix for temp files next to their destination, so concurrent writers never collide. */
function tmpSuffix(): string {
  return `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `refs/<revision>` = `commit` when it differs (Python's
 * `_cache_commit_hash_for_specific_revision`). Atomic (temp file + rename) so a
 * concurrent reader never sees an empty ref. No trailing newline, like Python.
 * Best effort: a read-only shared cache must not make an otherwise cached file fail.
 */
export async function writeRef(paths: HubCachePaths, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  if ((await readRef(paths, revision)) === commit) return;
  const refFile = join(paths.refsDir, ...revision.split('/'));
  const tmp = refFile + tmpSuffix();
  try {
    await mkdir(dirname(refFile), { recursive: true });
    await writeFile(tmp, commit);
    await rename(tmp, refFile);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

/** Remembers that `filename` does not exist at `commit` (Python's `.no_exist` marker). Best effort. */
export async function markNoExist(paths: HubCachePaths, commit: string, filename: string): Promise<void> {
  const marker = join(paths.noExistDir, commit, ...filename.split('/'));
  try {
    await mkdir(dirname(marker), { recursive: true });
    await writeFile(marker, '');
  } catch {
    // Only an optimisation for offline lookups.
  }
}

/**
 * Points `snapshots/<commit>/<filename>` at `blobs/<etag>` with a RELATIVE
 * symlink (what Python does: the cache keeps working when moved or mounted
 * elsewhere). Created under a temp name and renamed over the pointer, so the
 * pointer is never missing or half-made for a concurrent reader.
 *
 * Where symlinks are not allowed (Windows without developer mode) the blob is
 * copied instead, like Python's fallback; the cache stays readable by both.
 */
export async function linkPointer(blobPath: string, pointerPath: string): Promise<void> {
  await mkdir(dirname(pointerPath), { recursive: true });
  const tmp = pointerPath + tmpSuffix();
  try {
    await symlink(relative(dirname(pointerPath), blobPath), tmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await copyFile(blobPath, tmp);
  }
  try {
    await rename(tmp, pointerPath);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}
