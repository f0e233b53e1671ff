/**
 * Access to a T5 checkpoint stored as one `model.safetensors` or as shards listed by
 * `model.safetensors.index.json`. Only headers are read when opening; tensor data is read one
 * tensor at a time, on request.
 */
import { readFileSync } from 'node:fs';
import { SafetensorsError, SafetensorsFile, type SafetensorsDtype } from '@tpvjs/tensor';
import { T5WeightsError } from './errors.js';

/** Name of a single-file checkpoint, as `transformers` saves it. */
export const SAFETENSORS_WEIGHTS_NAME = 'model.safetensors';
/** Name of the shard index of a sharded checkpoint. */
export const SAFETENSORS_INDEX_NAME = 'model.safetensors.index.json';

/** Header information for one tensor of a checkpoint. */
export interface CheckpointEntry {
  /** Storage type in the file. */
  readonly dtype: SafetensorsDtype;
  /** Row-major dimensions. */
  readonly shape: readonly number[];
  /** The shard file holding it. */
  readonly file: string;
}

function wrapFileError(err: unknown, path: string): never {
  if (err instanceof SafetensorsError) {
    throw new T5WeightsError('BAD_FILE', err.message, { source: path, cause: err, ...(err.tensor !== undefined ? { tensor: err.tensor } : {}) });
  }
  throw err;
}

/**
 * An open checkpoint: a name → shard map plus the open shard files. Call {@link T5Checkpoint.close}
 * when done (the loader does).
 */
export class T5Checkpoint {
  readonly #files: SafetensorsFile[];
  readonly #where: Map<string, SafetensorsFile>;
  /** Where the checkpoint came from (a file or an index file), for messages. */
  readonly source: string;

  private constructor(files: SafetensorsFile[], where: Map<string, SafetensorsFile>, source: string) {
    this.#files = files;
    this.#where = where;
    this.source = source;
  }

  /**
   * Opens a single `model.safetensors`.
   * @throws {@link T5WeightsError} `BAD_FILE` if the file is missing, unreadable or corrupt
   */
  static openFile(path: string): T5Checkpoint {
    let f: SafetensorsFile;
    try {
      f = SafetensorsFile.open(path);
    } catch (err) {
      wrapFileError(err, path);
    }
    return new T5Checkpoint([f], new Map(f.names().map((n) => [n, f])), path);
  }

  /**
   * Opens a sharded checkpoint from its index. `resolveShard` turns a shard file name from the
   * index into a local path (for a Hub model it downloads the shard).
   * @throws {@link T5WeightsError} `BAD_INDEX` for a malformed index or a tensor missing from the
   *   shard the index names, `BAD_FILE` for an unreadable shard
   */
  static async openIndex(indexPath: string, resolveShard: (filename: string) => string | Promise<string>): Promise<T5Checkpoint> {
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (cause) {
      throw new T5WeightsError('BAD_INDEX', `cannot read the shard index: ${(cause as Error).message}`, { source: indexPath, cause });
    }
    const map = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new T5WeightsError('BAD_INDEX', "the shard index has no 'weight_map' object", { source: indexPath });
    }
    const entries = Object.entries(map as Record<string, unknown>);
    for (const [name, file] of entries) {
      if (typeof file !== 'string' || file.length === 0) {
        throw new T5WeightsError('BAD_INDEX', `weight_map entry for '${name}' is not a file name`, { source: indexPath, tensor: name });
      }
    }
    const byFile = new Map<string, SafetensorsFile>();
    const where = new Map<string, SafetensorsFile>();
    try {
      // Open each shard once, in first-mention order, so a download happens once per shard.
      for (const [name, file] of entries as [string, string][]) {
        let f = byFile.get(file);
        if (!f) {
          const local = await resolveShard(file);
          try {
            f = SafetensorsFile.open(local);
          } catch (err) {
            wrapFileError(err, local);
          }
          byFile.set(file, f);
        }
        if (!f.has(name)) {
          throw new T5WeightsError('BAD_INDEX', `the index puts '${name}' in '${file}', which does not contain it`, { source: indexPath, tensor: name });
        }
        where.set(name, f);
      }
    } catch (err) {
      for (const f of byFile.values()) f.close();
      throw err;
    }
    return new T5Checkpoint([...byFile.values()], where, indexPath);
  }

  /** Tensor names (in file order for a single file, index order for shards). */
  names(): string[] {
    return [...this.#where.keys()];
  }

  /** Whether the checkpoint holds `name`. */
  has(name: string): boolean {
    return this.#where.has(name);
  }

  /** dtype, shape and shard of `name` (header only, no data read). */
  entry(name: string): CheckpointEntry {
    const f = this.#file(name);
    const e = f.entry(name);
    return { dtype: e.dtype, shape: e.shape, file: f.path ?? this.source };
  }

  /**
   * Reads one tensor widened to float32 (F16/BF16 exactly, F64 rounded to nearest). Only this
   * tensor's bytes are read.
   */
  readFloat32(name: string): { shape: number[]; data: Float32Array } {
    const f = this.#file(name);
    try {
      return f.readFloat32(name);
    } catch (err) {
      return wrapFileError(err, f.path ?? this.source);
    }
  }

  /** Closes every shard; idempotent. */
  close(): void {
    for (const f of this.#files) f.close();
  }

  #file(name: string): SafetensorsFile {
    const f = this.#where.get(name);
    if (!f) throw new T5WeightsError('MISSING_TENSOR', `no tensor '${name}' in the checkpoint`, { source: this.source, tensor: name });
    return f;
  }
}
