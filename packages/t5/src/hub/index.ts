/**
 * Hub download layer: resolve model (and dataset) files from a local directory
 * or the Hugging Face Hub, sharing Python `huggingface_hub`'s cache.
 *
 * @module
 */

export { resolveModelFile, resolveRepoFiles, type ResolveOptions } from './download.js';
export { hubCachePaths, repoFolderName, type HubCachePaths, type HubCachePathOptions } from './cache.js';
export { DEFAULT_ENDPOINT, hfHome, hubCacheDir, hubEndpoint, hubToken, isOffline, type HubConfigOptions, type HubEnv } from './config.js';
export { HubError, isHubError, type HubErrorCode, type HubErrorDetails } from './errors.js';
export { parseRepoId, DEFAULT_REVISION, HUB_REPO_TYPES, type HubRepoType, type ParsedRepoId } from './repo-id.js';
export {
  createProgressBar,
  formatBytes,
  formatDuration,
  renderProgressLine,
  shouldShowProgress,
  type DownloadProgress,
  type ProgressBar,
  type ProgressBarOptions,
  type ProgressCallback,
  type ProgressLine,
  type ProgressStream,
} from './progress.js';
