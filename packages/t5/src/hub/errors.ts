/**
 * Typed errors of the Hub download layer.
 *
 * One class with a string `code` rather than a class per failure: callers
 * (`fromPretrained`, CLIs) mostly want to branch on "what went wrong" and show
 * the message, and a discriminant survives structured cloning / logging where
 * `instanceof` on subclasses does not.
 *
 * @module
 */

import type { HubRepoType } from './repo-id.js';

/**
 * Why a Hub lookup failed.
 *
 * - `NOT_FOUND`: the Hub answered 404 for the repo, the revision or the file
 *   (see {@link HubError.hubErrorCode} for which), or the cache remembers that
 *   the file does not exist at that commit (`.no_exist/`).
 * - `UNAUTHORIZED`: 401/403: private or gated repo and no/insufficient token.
 * - `OFFLINE_NOT_CACHED`: offline mode is on and the file is not in the cache.
 * - `NETWORK`: the Hub could not be reached (connection error, timeout, 5xx,
 *   429, connection dropped mid-download) and no cached copy was usable.
 * - `BAD_RESPONSE`: the server answered something we cannot trust (missing
 *   `X-Repo-Commit`/ETag/size headers, size mismatch, bad `Content-Range`).
 * - `LOCAL_FILE_MISSING`: a local directory (or path-like argument) was given
 *   and the directory or the file in it does not exist.
 * - `BAD_REPO_ID`: the repo id or revision is not valid.
 * - `BAD_FILENAME`: the requested filename is absolute or escapes the repo
 *   (`..`); rejected because it is joined onto cache paths.
 */
export type HubErrorCode =
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'OFFLINE_NOT_CACHED'
  | 'NETWORK'
  | 'BAD_RESPONSE'
  | 'LOCAL_FILE_MISSING'
  | 'BAD_REPO_ID'
  | 'BAD_FILENAME';

/** Context attached to a {@link HubError}; every field is optional because not every failure has it. */
export interface HubErrorDetails {
  /** Repo id as requested, e.g. `google/flan-t5-base`. */
  repoId?: string;
  /** Kind of repo (`model` / `dataset`), when a Hub repo was involved. */
  repoType?: HubRepoType;
  /** Revision as requested (branch, tag or commit sha). */
  revision?: string;
  /** File path inside the repo. */
  filename?: string;
  /** HTTP status, when the failure came from an HTTP answer. */
  status?: number;
  /** URL that was requested. */
  url?: string;
  /** Raw `X-Error-Code` header of the Hub (`EntryNotFound`, `RevisionNotFound`, `RepoNotFound`, `GatedRepo`...). */
  hubErrorCode?: string;
  /** Underlying error (fetch failure, fs error, ...). */
  cause?: unknown;
}

/**
 * Error thrown by every function of the Hub layer. Branch on {@link HubError.code};
 * the message is written for humans (it names the repo, revision and file and
 * says what to do).
 */
export class HubError extends Error {
  override readonly name = 'HubError';
  /** Machine-readable reason; see {@link HubErrorCode}. */
  readonly code: HubErrorCode;
  /** Repo id involved, if any. */
  readonly repoId: string | undefined;
  /** Kind of repo involved (`model` / `dataset`), if known. */
  readonly repoType: HubRepoType | undefined;
  /** Revision involved, if any. */
  readonly revision: string | undefined;
  /** Repo-relative filename involved, if any. */
  readonly filename: string | undefined;
  /** HTTP status that caused the error, if any. */
  readonly status: number | undefined;
  /** URL that was requested, if any. */
  readonly url: string | undefined;
  /** The Hub's `X-Error-Code` header, if any (distinguishes repo / revision / file 404s). */
  readonly hubErrorCode: string | undefined;

  /**
   * @param code - machine-readable reason
   * @param message - human-readable explanation including what to do about it
   * @param details - context; `cause` is passed to the standard `Error` cause
   */
  constructor(code: HubErrorCode, message: string, details: HubErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.repoId = details.repoId;
    this.repoType = details.repoType;
    this.revision = details.revision;
    this.filename = details.filename;
    this.status = details.status;
    this.url = details.url;
    this.hubErrorCode = details.hubErrorCode;
  }
}

/**
 * Type guard for {@link HubError}, optionally narrowed to one code.
 * Checks `name`/`code` as well as `instanceof` so that errors crossing a
 * duplicated module instance (e.g. vitest aliasing src vs dist) still match.
 *
 * @param err - anything caught
 * @param code - if given, also require this code
 */
export function isHubError(err: unknown, code?: HubErrorCode): err is HubError {
  const ok =
    err instanceof HubError ||
    (err instanceof Error && err.name === 'HubError' && typeof (err as { code?: unknown }).code === 'string');
  return ok && (code === undefined || (err as HubError).code === code);
}
