/**
 * Finding a model's weights in a local directory or a Hub repo: `model.safetensors`, else the shards
 * of `model.safetensors.index.json`.
 */
import { isHubError, resolveModelFile, type ResolveOptions } from '../hub/index.js';
import { SAFETENSORS_INDEX_NAME, SAFETENSORS_WEIGHTS_NAME, T5Checkpoint } from './checkpoint.js';
import { T5WeightsError } from './errors.js';

function isMissingFile(err: unknown): boolean {
  return isHubError(err, 'NOT_FOUND') || isHubError(err, 'LOCAL_FILE_MISSING');
}

/**
 * Opens the checkpoint of `repoIdOrDir` (a local directory or a Hub id, resolved with the Hub
 * layer's `resolveModelFile`), preferring a single `model.safetensors` and falling back to a sharded
 * one. Shards are resolved (downloaded) as the index names them.
 *
 * @throws {@link T5WeightsError} `NO_WEIGHTS` when neither file exists (PyTorch pickles
 *   such as `pytorch_model.bin` are not read), `BAD_INDEX` / `BAD_FILE` for broken files; Hub
 *   failures other than "file not found" propagate as `HubError`
 */
export async function openT5Checkpoint(repoIdOrDir: string, options: ResolveOptions = {}): Promise<T5Checkpoint> {
  let single: string | undefined;
  try {
    single = await resolveModelFile(repoIdOrDir, SAFETENSORS_WEIGHTS_NAME, options);
  } catch (err) {
    if (!isMissingFile(err)) throw err;
  }
  if (single !== undefined) return T5Checkpoint.openFile(single);
  let index: string;
  try {
    index = await resolveModelFile(repoIdOrDir, SAFETENSORS_INDEX_NAME, options);
  } catch (err) {
    if (!isMissingFile(err)) throw err;
    throw new T5WeightsError('NO_WEIGHTS', `found neither ${SAFETENSORS_WEIGHTS_NAME} nor ${SAFETENSORS_INDEX_NAME}; ` +
      'only safetensors checkpoints are supported (convert a pytorch_model.bin with transformers\' save_pretrained(safe_serialization=True))',
      { source: repoIdOrDir, cause: err });
  }
  return T5Checkpoint.openIndex(index, (file) => resolveModelFile(repoIdOrDir, file, options));
}
