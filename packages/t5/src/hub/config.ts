/**
 * Environment handling for the Hub layer, mirroring Python `huggingface_hub`'s
 * `constants.py` so that the same environment gives the same cache, endpoint,
 * token and offline behaviour in both ecosystems.
 *
 * Everything is read at call time (not at import time) so that tests and
 * long-running processes can change `process.env` between calls.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A process-environment-like record; defaults to `process.env`. */
export type HubEnv = Readonly<Record<string, string | undefined>>;

/** Settings that override the environment; all optional. */
export interface HubConfigOptions {
  /** Cache root (the folder that holds `models--org--name/`). Overrides `HF_HUB_CACHE` / `HF_HOME`. */
  cacheDir?: string;
  /** Hub base URL. Overrides `HF_ENDPOINT` (default `https://huggingface.co`). */
  endpoint?: string;
  /**
   * Access token sent as `Authorization: Bearer`. Overrides `HF_TOKEN` and the
   * `$HF_HOME/token` file. `false` sends no token at all (like Python's `token=False`).
   */
  token?: string | false;
  /** Never touch the network; resolve from the cache only. Overrides `HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Environment to read instead of `process.env` (useful for tests and sandboxes). */
  env?: HubEnv;
}

/** Python's default endpoint. */
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Python's `ENV_VARS_TRUE_VALUES`. */
const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

/** `true` for the values Python's `_is_true` accepts (`1`, `ON`, `YES`, `TRUE`, any case). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toUpperCase());
}

/** Expands a leading `~` like Python's `os.path.expanduser`, because HF_HOME is often written as `~/...`. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return join(homedir(), p.slice(2));
  return p;
}

/** Non-empty env value, else undefined (Python treats `HF_HOME=""` as unset via `or`). */
function nonEmpty(env: HubEnv, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v !== '' ? v : undefined;
}

/** `$HF_HOME`, default `$XDG_CACHE_HOME/huggingface`, default `~/.cache/huggingface` (as in Python). */
export function hfHome(env: HubEnv = process.env): string {
  const home = nonEmpty(env, 'HF_HOME');
  if (home !== undefined) return expandHome(home);
  const xdg = nonEmpty(env, 'XDG_CACHE_HOME');
  return join(xdg !== undefined ? expandHome(xdg) : join(homedir(), '.cache'), 'huggingface');
}

/**
 * The Hub cache root: `options.cacheDir`, else `$HF_HUB_CACHE`, else the legacy
 * `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, the same order as Python.
 */
export function hubCacheDir(options: Pick<HubConfigOptions, 'cacheDir' | 'env'> = {}): string {
  if (options.cacheDir !== undefined) return expandHome(options.cacheDir);
  const env = options.env ?? process.env;
  const explicit = nonEmpty(env, 'HF_HUB_CACHE') ?? nonEmpty(env, 'HUGGINGFACE_HUB_CACHE');
  return explicit !== undefined ? expandHome(explicit) : join(hfHome(env), 'hub');
}

/** Endpoint without trailing slashes (Python does `.rstrip("/")`, and we append paths). */
export function hubEndpoint(options: Pick<HubConfigOptions, 'endpoint' | 'env'> = {}): string {
  const env = options.env ?? process.env;
  const raw = options.endpoint ?? nonEmpty(env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT;
  return raw.replace(/\/+$/, '');
}

/**
 * Whether offline mode is on: `options.offline`, else `HF_HUB_OFFLINE` or the
 * legacy `TRANSFORMERS_OFFLINE` (Python reads both).
 */
export function isOffline(options: Pick<HubConfigOptions, 'offline' | 'env'> = {}): boolean {
  if (options.offline !== undefined) return options.offline;
  const env = options.env ?? process.env;
  return envFlag(env['HF_HUB_OFFLINE']) || envFlag(env['TRANSFORMERS_OFFLINE']);
}

/**
 * The token to send, or `undefined`: `options.token`, else `$HF_TOKEN`, else the
 * legacy `$HUGGING_FACE_HUB_TOKEN`, else the file `$HF_TOKEN_PATH` (default
 * `$HF_HOME/token`, which `huggingface-cli login` / `hf auth login` write).
 * Whitespace is trimmed because the file usually ends with a newline.
 */
export async function hubToken(options: Pick<HubConfigOptions, 'token' | 'env'> = {}): Promise<string | undefined> {
  if (options.token === false) return undefined;
  if (typeof options.token === 'string') return options.token.trim() || undefined;
  const env = options.env ?? process.env;
  const fromEnv = (nonEmpty(env, 'HF_TOKEN') ?? nonEmpty(env, 'HUGGING_FACE_HUB_TOKEN'))?.trim();
  if (fromEnv) return fromEnv;
  const tokenPath = expandHome(nonEmpty(env, 'HF_TOKEN_PATH') ?? join(hfHome(env), 'token'));
  try {
    return (await readFile(tokenPath, 'utf8')).trim() || undefined;
  } catch {
    // No token file is the normal case for public models.
    return undefined;
  }
}

/**
 * Reads a positive number of seconds from the environment (Python's
 * `HF_HUB_ETAG_TIMEOUT` / `HF_HUB_DOWNLOAD_TIMEOUT`), returned in milliseconds.
 */
export function envSecondsMs(env: HubEnv, name: string, fallbackMs: number): number {
  const v = Number(env[name]);
  return Number.isFinite(v) && v > 0 ? v * 1000 : fallbackMs;
}
