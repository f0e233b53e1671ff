/**
 * Hub download layer of `@tpvjs/t5`: turns `"google/flan-t5-base"`,
 * `"t5-base"`, `"org/name@revision"` or a local directory plus a filename into
 * a local file path, downloading into the shared Hugging Face cache when needed.
 * Model repos (the default) and dataset repos (`repoType: 'dataset'`) are
 * handled alike, as Python's `hf_hub_download(..., repo_type=...)` does: a
 * dataset is fetched from `{endpoint}/datasets/{repo}/resolve/...` and cached
 * under `datasets--org--name`.
 *
 * ## Why plain `fetch` and not `@huggingface/hub`
 *
 * `@huggingface/hub` (2.17) is a dependency and its `downloadFileToCacheDir`
 * looks like the obvious building block, but it does not meet the requirements:
 *
 * - **Layout is not Python's.** It asks the `paths-info` API for metadata and
 *   names the snapshot folder after the file's `lastCommit` (the last commit
 *   that *touched the file*), not after the commit the revision points to
 *   (`X-Repo-Commit`). Files of one revision land in different snapshot
 *   folders, and Python's snapshots are not found. It never writes
 *   `refs/<revision>`, so offline resolution of `main` is impossible for
 *   either client.
 * - **No resume.** It streams into `blobs/<etag>.incomplete` but always from
 *   byte 0, with no `Range` request and no size check before the rename.
 * - **No offline mode, no token discovery** (`HF_TOKEN` / `$HF_HOME/token`),
 *   **no progress callback**, and it logs with `console.debug`.
 *
 * Wrapping it would mean re-doing all of that around it. Node 20's global
 * `fetch` with `redirect: 'manual'` gives what Python's client relies on:
 * a `HEAD` on `{endpoint}/[datasets/]{repo}/resolve/{revision}/{filename}` whose headers
 * (`X-Repo-Commit`, `X-Linked-Etag` / `ETag`, `X-Linked-Size` /
 * `Content-Length`, `Location`) are read on the first redirecting response, then
 * a `GET` of the CDN location with `Range` for resume. So this module follows
 * `huggingface_hub/file_download.py` (`hf_hub_download`,
 * `_get_metadata_or_catch_error`, `_download_to_tmp_and_move`) step by step.
 *
 * ## Flow of {@link resolveModelFile} for a Hub id
 *
 * 1. Revision is a full commit sha and `snapshots/<sha>/<file>` exists: return it, no request.
 * 2. Offline: resolve `refs/<revision>` -> `snapshots/<commit>/<file>` or fail with `OFFLINE_NOT_CACHED`.
 * 3. `HEAD` the resolve URL (following same-host redirects such as renamed repos,
 *    stopping at the CDN redirect). If the Hub cannot be reached (or answers 401/5xx)
 *    and the file is cached, use the cache, as Python does; 404 for the file or
 *    revision is final (and remembered in `.no_exist/`).
 * 4. Write `refs/<revision>`; if the snapshot pointer exists, return it (no `GET`).
 * 5. If `blobs/<etag>` exists (same content in another commit), only link it.
 * 6. Otherwise stream into `blobs/<etag>.incomplete` (resuming with `Range` if it
 *    exists), check the size, rename to `blobs/<etag>`, link the snapshot
 *    pointer with a relative symlink. The final path never holds a partial file.
 *
 * @module
 */

import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  envSecondsMs,
  expandHome,
  hubCacheDir,
  hubEndpoint,
  hubToken,
  isOffline,
  type HubConfigOptions,
} from './config.js';
import {
  exists,
  fileSize,
  hubCachePaths,
  linkPointer,
  lookupCache,
  markNoExist,
  writeRef,
  type HubCachePaths,
} from './cache.js';
import { HubError, isHubError } from './errors.js';
import { createProgressBar, shouldShowProgress, type ProgressBar, type ProgressCallback } from './progress.js';
import {
  COMMIT_SHA_RE,
  DEFAULT_REVISION,
  parseRepoId,
  validateFilename,
  validateRepoType,
  type HubRepoType,
} from './repo-id.js';

/** Options of {@link resolveModelFile} / {@link resolveRepoFiles}. Each overrides the matching environment variable. */
export interface ResolveOptions extends HubConfigOptions {
  /**
   * Kind of Hub repo; default `model`. With `dataset` the file is fetched from
   * `{endpoint}/datasets/{repo}/resolve/{revision}/{file}` and cached under
   * `datasets--org--name`, exactly as Python's `repo_type="dataset"`. A local
   * directory is read the same way for both. Any other value is a `BAD_REPO_ID` error.
   */
  repoType?: HubRepoType;
  /**
   * Branch, tag or commit sha; default `main`. An `@revision` suffix on the repo
   * id means the same; giving both with different values is a `BAD_REPO_ID` error.
   * Revisions may contain `/` (`refs/pr/1`, `refs/convert/parquet`): they are
   * escaped as one URL segment (`refs%2Fconvert%2Fparquet`) and cached as a
   * nested ref file (`refs/refs/convert/parquet`), as in Python.
   */
  revision?: string;
  /**
   * Progress reports while a file is downloaded (not called for cached files).
   * When given, the default stderr bar is not drawn.
   */
  onProgress?: ProgressCallback;
  /**
   * Force the default stderr progress bar on or off. By default it is drawn
   * when stderr is a terminal or `TPV_PROGRESS=1`, and no `onProgress` is given.
   */
  progress?: boolean;
  /** Aborts requests and downloads; the abort reason is rethrown as is (a partial `.incomplete` is kept for resume). */
  signal?: AbortSignal;
  /**
   * How many times a download that failed on the network (connection dropped,
   * stall, 5xx, 429) is resumed within one call before giving up with
   * `NETWORK`; default 5 (Python's `http_get` value). Attempts that received
   * data do not count, as in Python; `0` disables retrying. The partial file is
   * kept either way, so a later call resumes too.
   */
  maxRetries?: number;
  /**
   * Timeout in milliseconds for the `HEAD` request and for a download receiving
   * no data. Default: `HF_HUB_ETAG_TIMEOUT` / `HF_HUB_DOWNLOAD_TIMEOUT` seconds, else 10 s.
   */
  timeoutMs?: number;
}

/** Result of resolving one Hub file; `commit` lets multi-file resolution pin a single snapshot. */
interface HubResolution {
  path: string;
  commit: string;
}

/** What `repoIdOrDir` designates. */
type Target = { kind: 'local'; dir: string } | { kind: 'hub'; repoId: string; repoType: HubRepoType; revision: string };

/** Metadata read from the `HEAD` request, as Python's `HfFileMetadata`. */
interface FileMetadata {
  commit: string;
  etag: string;
  size: number;
  /** URL to GET: the CDN `Location` for LFS files, else the (possibly redirected) resolve URL. */
  location: string;
}

/** Everything one Hub file resolution needs. */
interface Job {
  repoId: string;
  repoType: HubRepoType;
  revision: string;
  filename: string;
  paths: HubCachePaths;
  endpoint: string;
  token: string | undefined;
  options: ResolveOptions;
  env: Readonly<Record<string, string | undefined>>;
}

const USER_AGENT = `tpvjs-t5 (node/${process.versions.node})`;
const MAX_REDIRECTS = 10;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRIES = 5;

/**
 * Downloads in progress in this process, by blob path: a second request for the
 * same blob waits for the first instead of writing the same `.incomplete` file.
 * (Python additionally takes a file lock; we have no portable `flock` without a
 * native module, so concurrent *processes* rely on the atomic rename and the
 * final size check instead.)
 */
const inflight = new Map<string, Promise<void>>();

/**
 * Returns a local path for `filename` of a model (or, with
 * `options.repoType: 'dataset'`, a dataset) given as a Hub repo id or a local
 * directory, downloading it into the Hugging Face cache if needed.
 *
 * - Local directory (any existing directory wins, as in `transformers`):
 *   returns `<dir>/<filename>` if it exists, else `LOCAL_FILE_MISSING`.
 * - Hub id `name`, `org/name` or `org/name@revision`: returns
 *   `<cache>/models--org--name/snapshots/<commit>/<filename>` (a relative
 *   symlink into `blobs/`; `datasets--org--name` for a dataset), the same path
 *   Python's `hf_hub_download` returns.
 *
 * @example
 * ```ts
 * // Python: hf_hub_download("nyu-mll/glue", "sst2/train/0000.parquet",
 * //                         repo_type="dataset", revision="refs/convert/parquet")
 * const p = await resolveModelFile('nyu-mll/glue', 'sst2/train/0000.parquet', {
 *   repoType: 'dataset',
 *   revision: 'refs/convert/parquet',
 * });
 * ```
 *
 * @param repoIdOrDir - local directory, or Hub repo id with optional `@revision`
 * @param filename - path inside the repo, `/`-separated (e.g. `config.json`)
 * @param options - repo type; overrides for cache dir, endpoint, token, offline mode, revision; progress; abort
 * @returns absolute (if the cache dir / directory is absolute) path of the file
 * @throws {@link HubError} with code `NOT_FOUND`, `UNAUTHORIZED`, `OFFLINE_NOT_CACHED`,
 *   `NETWORK`, `BAD_RESPONSE`, `LOCAL_FILE_MISSING`, `BAD_REPO_ID` or `BAD_FILENAME`.
 */
export async function resolveModelFile(
  repoIdOrDir: string,
  filename: string,
  options: ResolveOptions = {},
): Promise<string> {
  const target = await classifyTarget(repoIdOrDir, options);
  if (target.kind === 'local') return resolveLocalFile(target.dir, filename);
  return (await resolveHubFile(target.repoId, target.repoType, target.revision, filename, options)).path;
}

/**
 * Resolves several files of one model (or dataset, with `options.repoType`), in order, returning their paths in the
 * same order. For a Hub id, the revision is resolved to a commit by the first
 * file and the other files are fetched at that commit, so all files come from
 * the same snapshot even if the branch moves meanwhile (and, once cached, they
 * need no request at all).
 *
 * @param repoIdOrDir - local directory, or Hub repo id with optional `@revision`
 * @param filenames - paths inside the repo
 * @param options - as for {@link resolveModelFile}
 * @throws {@link HubError} on the first file that fails.
 */
export async function resolveRepoFiles(
  repoIdOrDir: string,
  filenames: readonly string[],
  options: ResolveOptions = {},
): Promise<string[]> {
  const target = await classifyTarget(repoIdOrDir, options);
  const out: string[] = [];
  if (target.kind === 'local') {
    for (const f of filenames) out.push(await resolveLocalFile(target.dir, f));
    return out;
  }
  let revision = target.revision;
  for (const f of filenames) {
    const r = await resolveHubFile(target.repoId, target.repoType, revision, f, options);
    revision = r.commit;
    out.push(r.path);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Local directories and repo ids

/** Path-like strings are never Hub ids, so a missing directory gets a path error rather than a 404. */
function looksLikePath(s: string): boolean {
  return (
    s.startsWith('.') ||
    s.startsWith('/') ||
    s.startsWith('~') ||
    s.includes('\\') ||
    /^[A-Za-z]:/.test(s) ||
    s.split('@')[0]!.split('/').length > 2
  );
}

async function classifyTarget(repoIdOrDir: string, options: ResolveOptions): Promise<Target> {
  const repoType = options.repoType ?? 'model';
  validateRepoType(repoType);
  const asPath = expandHome(repoIdOrDir);
  try {
    if ((await stat(asPath)).isDirectory()) return { kind: 'local', dir: resolve(asPath) };
  } catch {
    // Not a local directory: a Hub id, or a missing directory.
  }
  if (looksLikePath(repoIdOrDir)) {
    throw new HubError(
      'LOCAL_FILE_MISSING',
      `${repoType === 'dataset' ? 'Dataset' : 'Model'} directory ${JSON.stringify(resolve(asPath))} does not exist (and ${JSON.stringify(repoIdOrDir)} is not a Hub repo id like ${repoType === 'dataset' ? '"nyu-mll/glue"' : '"google/flan-t5-base"'}).`,
    );
  }
  const parsed = parseRepoId(repoIdOrDir);
  if (parsed.revision !== undefined && options.revision !== undefined && parsed.revision !== options.revision) {
    throw new HubError(
      'BAD_REPO_ID',
      `Conflicting revisions for ${parsed.repoId}: "@${parsed.revision}" in the id and revision "${options.revision}" in the options. Give only one.`,
      { repoId: parsed.repoId, repoType, revision: parsed.revision },
    );
  }
  const revision = parsed.revision ?? options.revision ?? DEFAULT_REVISION;
  return { kind: 'hub', repoId: parsed.repoId, repoType, revision };
}

async function resolveLocalFile(dir: string, filename: string): Promise<string> {
  validateFilename(filename);
  const p = join(dir, ...filename.split('/'));
  try {
    if ((await stat(p)).isFile()) return p;
  } catch {
    // Reported below with the directory listing.
  }
  let listing = '';
  try {
    const names = (await readdir(dir)).sort();
    listing = names.length
      ? ` It contains: ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, … (${names.length} entries)` : ''}.`
      : ' It is empty.';
  } catch {
    // Listing is only a hint.
  }
  throw new HubError('LOCAL_FILE_MISSING', `Local directory ${dir} has no file ${JSON.stringify(filename)}.${listing}`, {
    filename,
  });
}

// ---------------------------------------------------------------------------
// Hub resolution

async function resolveHubFile(
  repoId: string,
  repoType: HubRepoType,
  revision: string,
  filename: string,
  options: ResolveOptions,
): Promise<HubResolution> {
  validateFilename(filename, repoId);
  const env = options.env ?? process.env;
  const paths = hubCachePaths(repoId, { revision, repoType, cacheDir: hubCacheDir(options) });

  // 1. A commit sha that is already cached needs no request (Python does the same).
  if (COMMIT_SHA_RE.test(revision)) {
    const pointer = paths.snapshotPath(revision, filename);
    if (await exists(pointer)) return { path: pointer, commit: revision };
  }

  // 2. Offline: the cache is all there is.
  if (isOffline(options)) {
    const hit = await lookupCache(paths, revision, filename);
    if (hit.kind === 'hit') return { path: hit.path, commit: hit.commit };
    if (hit.kind === 'no-exist') throw noExistError(repoId, repoType, revision, filename, hit.commit);
    throw new HubError(
      'OFFLINE_NOT_CACHED',
      `Cannot find ${filename} of ${repoName(repoType, repoId)} (revision ${revision}) in the local cache ${paths.repoDir}, and offline mode is on (HF_HUB_OFFLINE=1 or offline: true), so it cannot be downloaded. Run once online, or unset HF_HUB_OFFLINE.`,
      { repoId, repoType, revision, filename },
    );
  }

  const job: Job = {
    repoId,
    repoType,
    revision,
    filename,
    paths,
    endpoint: hubEndpoint(options),
    token: await hubToken(options),
    options,
    env,
  };

  // 3. Metadata from HEAD; on failures other than "this file/revision does not exist", fall back to the cache.
  let meta: FileMetadata;
  try {
    meta = await fetchMetadata(job);
  } catch (err) {
    if (!isHubError(err) || (err.code === 'NOT_FOUND' && isFinalNotFound(err)) || err.code === 'BAD_REPO_ID') throw err;
    const hit = await lookupCache(paths, revision, filename);
    if (hit.kind === 'hit') return { path: hit.path, commit: hit.commit };
    throw err;
  }

  // 4. Remember revision -> commit; the snapshot pointer may already be there.
  await mkdir(paths.blobsDir, { recursive: true });
  await writeRef(paths, revision, meta.commit);
  const pointer = paths.snapshotPath(meta.commit, filename);
  if (await exists(pointer)) return { path: pointer, commit: meta.commit };

  // 5./6. Blob already present (shared with another commit) or download it.
  const blobPath = paths.blobPath(meta.etag);
  if (!(await exists(blobPath))) {
    let pending = inflight.get(blobPath);
    if (!pending) {
      pending = downloadBlob(job, meta, blobPath).finally(() => inflight.delete(blobPath));
      inflight.set(blobPath, pending);
    }
    await pending;
  }
  await linkPointer(blobPath, pointer);
  return { path: pointer, commit: meta.commit };
}

/** 404s that the cache must not paper over: the repo answered and said the file or revision is not there. */
function isFinalNotFound(err: HubError): boolean {
  return err.hubErrorCode === 'EntryNotFound' || err.hubErrorCode === 'RevisionNotFound';
}

function noExistError(repoId: string, repoType: HubRepoType, revision: string, filename: string, commit: string): HubError {
  return new HubError(
    'NOT_FOUND',
    `File ${filename} does not exist in ${repoNoun(repoType)} ${repoId} at revision ${revision} (commit ${commit}); the Hub reported this earlier and it is remembered in the cache (.no_exist).`,
    { repoId, repoType, revision, filename, hubErrorCode: 'EntryNotFound', status: 404 },
  );
}

/** `repo` or `dataset repo`, for messages. */
function repoNoun(repoType: HubRepoType): string {
  return repoType === 'dataset' ? 'dataset repo' : 'repo';
}

/** `org/name` for a model, `dataset org/name` for a dataset, for messages. */
function repoName(repoType: HubRepoType, repoId: string): string {
  return repoType === 'dataset' ? `dataset ${repoId}` : repoId;
}

/**
 * The repo's path on the Hub, as Python's `REPO_TYPES_URL_PREFIXES`: models
 * have no prefix, datasets `datasets/`.
 */
function repoUrlPath(job: Job): string {
  return job.repoType === 'dataset' ? `datasets/${job.repoId}` : job.repoId;
}

/**
 * `{endpoint}/[datasets/]{repo}/resolve/{revision}/{filename}`, as Python's
 * `hf_hub_url`: the revision fully escaped (`quote(revision, safe="")`, so
 * `refs/convert/parquet` is one segment `refs%2Fconvert%2Fparquet`), the
 * filename escaped per `/`-separated segment.
 */
function resolveUrl(job: Job): string {
  const file = job.filename.split('/').map(encodeURIComponent).join('/');
  return `${job.endpoint}/${repoUrlPath(job)}/resolve/${encodeURIComponent(job.revision)}/${file}`;
}

/** Base headers; the token only goes to the endpoint's origin (CDN URLs are pre-signed, and must not see it). */
function requestHeaders(job: Job, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': USER_AGENT,
    // Without this the server may gzip and Content-Length would not be the file size (Python sets it too).
    'Accept-Encoding': 'identity',
    ...extra,
  };
  if (job.token !== undefined && sameOrigin(url, job.endpoint)) headers['Authorization'] = `Bearer ${job.token}`;
  return headers;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function timeoutMs(job: Job, envName: string): number {
  return job.options.timeoutMs ?? envSecondsMs(job.env, envName, DEFAULT_TIMEOUT_MS);
}

/** Combines the caller's signal with an internal one (timeout / stall). */
function withSignal(internal: AbortSignal, user: AbortSignal | undefined): AbortSignal {
  return user ? AbortSignal.any([internal, user]) : internal;
}

/** The caller aborted: rethrow their reason untouched instead of disguising it as a network error. */
function rethrowIfUserAbort(job: Job): void {
  const s = job.options.signal;
  if (s?.aborted) throw s.reason;
}

function networkError(job: Job, url: string, what: string, cause: unknown, hint?: string): HubError {
  const detail = cause instanceof Error ? describeCause(cause) : String(cause);
  const next =
    hint ??
    `The file is not in the cache (${job.paths.repoDir}); check your connection or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use cached files only.`;
  return new HubError(
    'NETWORK',
    `Could not ${what} ${job.filename} of ${repoName(job.repoType, job.repoId)} (revision ${job.revision}) from ${url}: ${detail}. ${next}`,
    { repoId: job.repoId, repoType: job.repoType, revision: job.revision, filename: job.filename, url, cause },
  );
}

/** `fetch failed` alone says nothing; the useful part (ECONNREFUSED, "other side closed") is in `cause`. */
function describeCause(err: Error): string {
  const c = (err as { cause?: unknown }).cause;
  if (c instanceof Error) {
    const code = (c as NodeJS.ErrnoException).code;
    return `${err.message} (${code ? `${code}: ` : ''}${c.message})`;
  }
  return err.message;
}

/** Cancels an unread body so the connection is released (undici keeps it busy otherwise). */
async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Nothing to release.
  }
}

/**
 * Maps a non-success Hub answer to a {@link HubError}, like Python's
 * `hf_raise_for_status`: `X-Error-Code` tells which of repo / revision / file is
 * missing; 401/403 mean private or gated (the Hub also answers 401 for repos that
 * do not exist, to not leak private names); 429/5xx are transient.
 */
function httpError(job: Job, res: Response, url: string): HubError {
  const status = res.status;
  const hubErrorCode = res.headers.get('x-error-code') ?? undefined;
  const serverMsg = res.headers.get('x-error-message');
  const base = { repoId: job.repoId, repoType: job.repoType, revision: job.revision, filename: job.filename, status, url, hubErrorCode };
  const noun = repoNoun(job.repoType);
  const where = `${noun} ${job.repoId}, revision ${job.revision}, file ${job.filename}`;
  const suffix = serverMsg ? ` (Hub says: ${serverMsg})` : '';
  if (status === 401 || status === 403) {
    const gated = hubErrorCode === 'GatedRepo';
    const tokenState =
      job.token === undefined
        ? 'No token was sent: set HF_TOKEN (or log in with `hf auth login`, which writes $HF_HOME/token, or pass options.token).'
        : 'A token was sent but it was refused or lacks access to this repo: check HF_TOKEN / $HF_HOME/token / options.token.';
    const why = gated
      ? `${capitalize(noun)} ${job.repoId} is gated: accept its terms at ${job.endpoint}/${repoUrlPath(job)} with your account, then use a token.`
      : `Access denied (HTTP ${status}) for ${where}. The repo may be private or gated, or may not exist (the Hub answers 401 for unknown repos too).`;
    return new HubError('UNAUTHORIZED', `${why} ${tokenState}${suffix}`, base);
  }
  if (status === 404) {
    const what =
      hubErrorCode === 'EntryNotFound'
        ? `File ${job.filename} not found in ${noun} ${job.repoId} at revision ${job.revision}.`
        : hubErrorCode === 'RevisionNotFound'
          ? `Revision ${job.revision} not found in ${noun} ${job.repoId} (while looking for ${job.filename}).`
          : hubErrorCode === 'RepoNotFound' || hubErrorCode === 'RepositoryNotFound'
            ? `${capitalize(noun)} ${job.repoId} not found on ${job.endpoint} (revision ${job.revision}, file ${job.filename}). Check the id${job.repoType === 'dataset' ? '' : " (a dataset needs repoType: 'dataset')"}; private repos need HF_TOKEN.`
            : `Not found (HTTP 404): ${where} on ${job.endpoint}.`;
    return new HubError('NOT_FOUND', what + suffix, base);
  }
  if (status === 429 || status >= 500) {
    return new HubError(
      'NETWORK',
      `The Hub is unavailable (HTTP ${status}) for ${where}; try again later.${suffix}`,
      base,
    );
  }
  return new HubError('BAD_RESPONSE', `Unexpected HTTP ${status} from ${url} for ${where}.${suffix}`, base);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Python's `_normalize_etag`: drop a weak `W/` prefix and the quotes. */
function normalizeEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  const v = etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return v || undefined;
}

/** Names from headers become file/folder names in the cache: only allow plain, non-dot names. */
function safeName(v: string | undefined): v is string {
  return v !== undefined && /^[A-Za-z0-9._-]+$/.test(v) && v !== '.' && v !== '..' && !v.endsWith('.incomplete');
}

/**
 * The `HEAD` request of Python's `get_hf_file_metadata`, with `redirect: 'manual'`:
 * same-origin redirects without `X-Linked-Etag` (renamed repos, e.g. `t5-base`
 * -> `google-t5/t5-base`) are followed; the LFS redirect (to the CDN, carrying
 * `X-Linked-Etag`/`X-Linked-Size`/`X-Repo-Commit`) is where we stop and read
 * the headers, keeping its `Location` as the URL to download.
 */
async function fetchMetadata(job: Job): Promise<FileMetadata> {
  let url = resolveUrl(job);
  const limit = timeoutMs(job, 'HF_HUB_ETAG_TIMEOUT');
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'HEAD',
        headers: requestHeaders(job, url),
        redirect: 'manual',
        signal: withSignal(AbortSignal.timeout(limit), job.options.signal),
      });
    } catch (err) {
      rethrowIfUserAbort(job);
      throw networkError(job, url, 'reach the Hub to resolve', err);
    }
    await discard(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url).toString();
      const isFileRedirect = res.headers.has('x-linked-etag') || !sameOrigin(next, url);
      if (!isFileRedirect) {
        if (hop >= MAX_REDIRECTS) throw new HubError('BAD_RESPONSE', `Too many redirects resolving ${url}.`, { url });
        url = next;
        continue;
      }
      return parseMetadata(job, res, url, next);
    }
    if (!res.ok) {
      const err = httpError(job, res, url);
      if (err.hubErrorCode === 'EntryNotFound') {
        // Python caches the non-existence, so offline lookups can answer "not there" instead of "not cached".
        const commit = res.headers.get('x-repo-commit') ?? undefined;
        if (safeName(commit)) {
          await markNoExist(job.paths, commit, job.filename);
          await writeRef(job.paths, job.revision, commit);
        }
      }
      throw err;
    }
    return parseMetadata(job, res, url, url);
  }
}

function parseMetadata(job: Job, res: Response, url: string, location: string): FileMetadata {
  const h = res.headers;
  const commit = h.get('x-repo-commit') ?? undefined;
  const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'));
  const sizeHeader = h.get('x-linked-size') ?? h.get('content-length');
  const size = sizeHeader !== null && /^\d+$/.test(sizeHeader.trim()) ? Number(sizeHeader) : undefined;
  const where = `${job.filename} of ${repoName(job.repoType, job.repoId)} (revision ${job.revision}) at ${url}`;
  const details = { repoId: job.repoId, repoType: job.repoType, revision: job.revision, filename: job.filename, url, status: res.status };
  if (commit === undefined) {
    throw new HubError(
      'BAD_RESPONSE',
      `No X-Repo-Commit header for ${where}: the server does not look like a Hugging Face Hub. Check HF_ENDPOINT and any proxy/firewall in between.`,
      details,
    );
  }
  if (!safeName(commit)) throw new HubError('BAD_RESPONSE', `Invalid X-Repo-Commit ${JSON.stringify(commit)} for ${where}.`, details);
  if (!safeName(etag)) {
    throw new HubError('BAD_RESPONSE', `Missing or invalid ETag for ${where}; cannot cache it reproducibly.`, details);
  }
  if (size === undefined) throw new HubError('BAD_RESPONSE', `No file size (X-Linked-Size / Content-Length) for ${where}.`, details);
  return { commit, etag, size, location };
}

// ---------------------------------------------------------------------------
// Blob download

/**
 * Python's `_download_to_tmp_and_move` + `http_get`: stream into
 * `<blob>.incomplete` (resuming with `Range` if it exists), retry network
 * failures from where they stopped, check the size, then rename into place.
 */
async function downloadBlob(job: Job, meta: FileMetadata, blobPath: string): Promise<void> {
  const incomplete = `${blobPath}.incomplete`;
  const maxRetries = job.options.maxRetries ?? DEFAULT_MAX_RETRIES;
  let bar: ProgressBar | undefined;
  let onProgress = job.options.onProgress;
  if (!onProgress && (job.options.progress ?? shouldShowProgress(job.env))) {
    const b = createProgressBar();
    bar = b;
    onProgress = (e) => b.update(e);
  }
  try {
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      const before = Math.max(0, await fileSize(incomplete));
      try {
        const outcome = await downloadAttempt(job, meta, incomplete, onProgress);
        if (outcome === 'done') break;
        // 'restart': the partial file was discarded; go again immediately.
      } catch (err) {
        rethrowIfUserAbort(job);
        if (!isHubError(err, 'NETWORK')) throw err;
        // Like Python, only attempts that made no progress count against the budget.
        const progressed = Math.max(0, await fileSize(incomplete)) > before;
        failures = progressed ? 0 : failures + 1;
        if (maxRetries <= 0 || failures > maxRetries || attempt >= 100 + maxRetries) throw err;
        await sleep(Math.min(250 * 2 ** Math.max(0, failures - 1), 4000), job.options.signal);
      }
    }
    const size = await fileSize(incomplete);
    if (size !== meta.size) {
      // Another writer or a lying server; never promote a wrong-sized file.
      await rm(incomplete, { force: true });
      throw new HubError(
        'BAD_RESPONSE',
        `Consistency check failed for ${job.filename} of ${repoName(job.repoType, job.repoId)}: expected ${meta.size} bytes, got ${size}. The partial file was deleted; retry.`,
        { repoId: job.repoId, repoType: job.repoType, revision: job.revision, filename: job.filename, url: meta.location },
      );
    }
    // Atomic on the same filesystem: the final name only ever holds a complete file.
    await rename(incomplete, blobPath);
  } finally {
    bar?.end();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      rej(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** GET with manual redirects, so the token is only sent while on the endpoint's origin. */
async function getFollowing(
  job: Job,
  startUrl: string,
  extra: Record<string, string>,
  signal: AbortSignal,
): Promise<{ res: Response; url: string }> {
  let url = startUrl;
  for (let hop = 0; ; hop++) {
    const res = await fetch(url, { method: 'GET', headers: requestHeaders(job, url, extra), redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await discard(res);
      if (hop >= MAX_REDIRECTS) throw new HubError('BAD_RESPONSE', `Too many redirects downloading ${startUrl}.`, { url });
      url = new URL(location, url).toString();
      continue;
    }
    return { res, url };
  }
}

/**
 * One GET of the blob. Returns `'done'` when `.incomplete` holds `meta.size`
 * bytes, `'restart'` when the partial file had to be dropped (416). Network
 * failures throw `NETWORK` and keep the partial file for the next attempt.
 */
async function downloadAttempt(
  job: Job,
  meta: FileMetadata,
  incomplete: string,
  onProgress: ProgressCallback | undefined,
): Promise<'done' | 'restart'> {
  let start = Math.max(0, await fileSize(incomplete));
  if (start > meta.size) {
    await rm(incomplete, { force: true });
    start = 0;
  }
  const emit = (loaded: number): void => onProgress?.({ file: job.filename, loaded, total: meta.size });
  if (start === meta.size) {
    // Already complete (e.g. interrupted right before the rename), or an empty file: nothing to fetch.
    await (await open(incomplete, 'a')).close();
    emit(start);
    return 'done';
  }

  const stall = new AbortController();
  const stallMs = timeoutMs(job, 'HF_HUB_DOWNLOAD_TIMEOUT');
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      stall.abort(new Error(`no data received for ${stallMs} ms`));
    }, stallMs);
  };
  const signal = withSignal(stall.signal, job.options.signal);
  const resumeHint = `The partial download is kept in ${incomplete}; calling again resumes it.`;
  const bad = (msg: string, url: string, status?: number): HubError =>
    new HubError('BAD_RESPONSE', msg, { repoId: job.repoId, repoType: job.repoType, revision: job.revision, filename: job.filename, url, status });

  arm();
  let url = meta.location;
  try {
    let res: Response;
    try {
      ({ res, url } = await getFollowing(job, meta.location, start > 0 ? { Range: `bytes=${start}-` } : {}, signal));
    } catch (err) {
      rethrowIfUserAbort(job);
      if (isHubError(err)) throw err;
      throw networkError(job, url, stalled ? 'download (timed out)' : 'download', err, resumeHint);
    }

    if (res.status === 416) {
      // Our partial file does not fit the remote one: start over.
      await discard(res);
      await rm(incomplete, { force: true });
      return 'restart';
    }
    if (!res.ok) {
      await discard(res);
      throw httpError(job, res, url);
    }

    let offset: number;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range')?.trim() ?? '');
      if (!m || Number(m[1]) !== start || (m[3] !== '*' && Number(m[3]) !== meta.size)) {
        await discard(res);
        await rm(incomplete, { force: true });
        throw bad(
          `Bad Content-Range ${JSON.stringify(res.headers.get('content-range'))} resuming ${job.filename} of ${repoName(job.repoType, job.repoId)} at byte ${start} (size ${meta.size}); the partial file was deleted, retry.`,
          url,
          206,
        );
      }
      offset = start;
    } else {
      // 200: the server ignored Range (or there was none); the body is the whole file.
      offset = 0;
      const len = res.headers.get('content-length');
      const encoding = (res.headers.get('content-encoding') ?? 'identity').toLowerCase();
      if (len !== null && encoding === 'identity' && Number(len) !== meta.size) {
        await discard(res);
        throw bad(
          `Size mismatch for ${job.filename} of ${repoName(job.repoType, job.repoId)}: the Hub announced ${meta.size} bytes but the download is ${len} bytes.`,
          url,
          res.status,
        );
      }
    }
    if (!res.body) throw bad(`Empty response body downloading ${job.filename} of ${repoName(job.repoType, job.repoId)}.`, url, res.status);

    // 'a' appends after the resumed bytes; 'w' truncates when the server sent the whole file.
    const fh = await open(incomplete, offset > 0 ? 'a' : 'w');
    let loaded = offset;
    emit(loaded);
    const reader = res.body.getReader();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          rethrowIfUserAbort(job);
          throw networkError(job, url, stalled ? 'download (stalled)' : 'download (connection lost)', err, resumeHint);
        }
        if (chunk.done) break;
        arm();
        await fh.write(chunk.value);
        loaded += chunk.value.byteLength;
        if (loaded > meta.size) {
          await reader.cancel().catch(() => {});
          await fh.close();
          await rm(incomplete, { force: true });
          throw bad(`Received more than the announced ${meta.size} bytes for ${job.filename} of ${repoName(job.repoType, job.repoId)}.`, url, res.status);
        }
        emit(loaded);
      }
      // Durable before the rename makes it visible under its final name.
      await fh.sync();
    } finally {
      await fh.close().catch(() => {});
    }
    if (loaded < meta.size) {
      throw networkError(
        job,
        url,
        'download',
        new Error(`connection closed after ${loaded} of ${meta.size} bytes`),
        resumeHint,
      );
    }
    return 'done';
  } finally {
    clearTimeout(timer);
  }
}
