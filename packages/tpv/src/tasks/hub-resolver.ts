/**
 * The Hub client of `@tpvjs/t5` as the {@link HubFileResolver} the task
 * loaders take, so that `loadHubTaskSplits` / `loadHubDataset` download the
 * datasets-server parquet export (`refs/convert/parquet`) into the shared
 * Hugging Face cache, exactly where Python's
 * `hf_hub_download(repo_id, filename, repo_type="dataset", revision=...)` puts
 * it (`datasets--org--name/...`), with resume, tokens and offline mode.
 */

import { resolveModelFile, type ResolveOptions } from '@tpvjs/t5';

import type { HubFileResolver } from './loaders.js';

/**
 * A {@link HubFileResolver} backed by the `@tpvjs/t5` Hub client, fetching
 * from dataset repos.
 *
 * Every option of the Hub client applies (`endpoint`, `cacheDir`, `token`,
 * `offline`, `env`, `onProgress`, `progress`, `signal`, `maxRetries`,
 * `timeoutMs`). `repoType` is always `dataset`, and the revision a loader asks
 * for (by default `refs/convert/parquet`) wins over `options.revision`, which
 * only applies when the loader gives none. A file the Hub does not have
 * rejects with a `HubError` `NOT_FOUND`, which is how `loadHubDataset`
 * finds the end of a split's shards (also offline, from the cache's
 * `.no_exist` markers). As with models, a repo id that names an existing
 * local directory reads `<dir>/<filename>` (the revision is then ignored).
 *
 * @example
 * ```ts
 * const rows = await loadHubTaskSplits('sst2_text', { resolver: hubDatasetResolver() });
 * // offline, from the cache only:
 * await loadHubTaskSplits('sst2_text', { resolver: hubDatasetResolver({ offline: true }) });
 * ```
 *
 * @param options - Hub client options (see `ResolveOptions` of `@tpvjs/t5`).
 * @returns a resolver for `loadHubDataset` / `loadHubTaskSplits`.
 */
export function hubDatasetResolver(options: ResolveOptions = {}): HubFileResolver {
  return (repoId, filename, request) =>
    resolveModelFile(repoId, filename, {
      ...options,
      repoType: request.repoType,
      ...(request.revision !== undefined ? { revision: request.revision } : {}),
    });
}
