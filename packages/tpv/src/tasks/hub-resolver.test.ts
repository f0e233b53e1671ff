import { readFile, readlink, mkdtemp, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ResolveOptions } from '@tpvjs/t5';
import { FakeHub, randomSha, sha256 } from '../../../t5/src/hub/__tests__/fake-hub.js';
import { TaskError } from './errors.js';
import { hubDatasetResolver } from './hub-resolver.js';
import { loadHubDataset, loadHubTaskSplits } from './loaders.js';
import { getSplits } from './sampling.js';

const TINY_PARQUET = fileURLToPath(new URL('./__fixtures__/tiny.parquet', import.meta.url));

/** What `__fixtures__/make_tiny_parquet.py` encodes: SST-2's columns `sentence`/`label`/`idx`. */
const TINY_ROWS = [
  { sentence: 'a great movie , truly', label: 1, idx: 0 },
  { sentence: null, label: 0, idx: 1 },
  { sentence: 'boring "quoted", with commas\nand a newline', label: 0, idx: 2 },
  { sentence: 'café ☕ a great movie , truly', label: 1, idx: 3 },
  { sentence: 'a great movie , truly', label: 1, idx: 4 },
];

const PARQUET_SHA = randomSha();
let parquet: Buffer;
let hub: FakeHub;
let cacheDir: string;

/** Isolated from the host: no token, no HF_* variables, no progress bar. */
function options(extra: ResolveOptions = {}): ResolveOptions {
  return { endpoint: hub.url, cacheDir, env: {}, token: false, progress: false, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<TaskError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TaskError) return e;
    throw e;
  }
  throw new Error('expected a TaskError');
}

beforeEach(async () => {
  parquet = await readFile(TINY_PARQUET);
  cacheDir = await mkdtemp(join(tmpdir(), 'tpv-hub-resolver-'));
  // nyu-mll/glue's parquet export for sst2: train in two shards, validation in one (LFS, like the real Hub).
  hub = await FakeHub.start(
    {},
    {
      datasets: {
        'nyu-mll/glue': {
          revisions: {
            main: { commit: randomSha(), files: { 'README.md': { data: Buffer.from('# glue\n') } } },
            'refs/convert/parquet': {
              commit: PARQUET_SHA,
              files: {
                'sst2/train/0000.parquet': { data: parquet, lfs: true },
                'sst2/train/0001.parquet': { data: parquet, lfs: true },
                'sst2/validation/0000.parquet': { data: parquet, lfs: true },
              },
            },
          },
        },
      },
    },
  );
});

afterEach(async () => {
  await hub.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('hubDatasetResolver', () => {
  it('loadHubTaskSplits("sst2_text") downloads the parquet export into the Python cache layout, then works offline', async () => {
    const rows = await loadHubTaskSplits('sst2_text', { resolver: hubDatasetResolver(options()) });

    expect(Object.keys(rows).sort()).toEqual(['train', 'validation']);
    expect(rows.train).toEqual([...TINY_ROWS, ...TINY_ROWS]);
    expect(rows.validation).toEqual(TINY_ROWS);

    // Python's hf_hub_download(repo_type="dataset", revision="refs/convert/parquet") layout.
    const repoDir = join(cacheDir, 'datasets--nyu-mll--glue');
    const shard = join(repoDir, 'snapshots', PARQUET_SHA, 'sst2', 'train', '0000.parquet');
    expect(await readlink(shard)).toBe(`../../../../blobs/${sha256(parquet)}`);
    expect(await readFile(join(repoDir, 'refs', 'refs', 'convert', 'parquet'), 'utf8')).toBe(PARQUET_SHA);
    // The probes past the last shard are remembered, so offline runs stop at the same place.
    expect((await lstat(join(repoDir, '.no_exist', PARQUET_SHA, 'sst2', 'train', '0002.parquet'))).isFile()).toBe(true);
    expect((await lstat(join(repoDir, '.no_exist', PARQUET_SHA, 'sst2', 'validation', '0001.parquet'))).isFile()).toBe(true);

    // Dataset URLs with the revision escaped as one segment; the two identical shards share one blob download.
    const heads = hub.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    expect(heads[0]).toBe('/datasets/nyu-mll/glue/resolve/refs%2Fconvert%2Fparquet/sst2/train/0000.parquet');
    expect(heads.every((p) => p.startsWith('/datasets/nyu-mll/glue/resolve/refs%2Fconvert%2Fparquet/sst2/'))).toBe(true);
    expect(hub.count('GET', '/cdn/')).toBe(1);

    // Offline (and with the Hub gone): same rows from the cache, no request.
    const n = hub.requests.length;
    await hub.close();
    const offline = await loadHubTaskSplits('sst2_text', { resolver: hubDatasetResolver(options({ offline: true })) });
    expect(offline).toEqual(rows);
    const viaEnv = await loadHubTaskSplits('sst2_text', {
      resolver: hubDatasetResolver(options({ env: { HF_HUB_OFFLINE: '1' } })),
    });
    expect(viaEnv).toEqual(rows);
    expect(hub.requests.length).toBe(n);

    // The rows feed the task's split rules (test = original validation).
    const s = getSplits('sst2_text', offline, { largeValidationSize: 2 });
    expect(s.test).toHaveLength(5);
    expect(s.validation).toHaveLength(2);
    expect(s.train).toHaveLength(8);
  });

  it('passes repoType "dataset" and the loader revision; options.revision only fills in when none is given', async () => {
    const resolver = hubDatasetResolver(options({ revision: 'main' }));
    const readme = await resolver('nyu-mll/glue', 'README.md', { repoType: 'dataset' });
    expect(readme).toContain(join('datasets--nyu-mll--glue', 'snapshots'));
    expect(hub.requests[0]!.path).toBe('/datasets/nyu-mll/glue/resolve/main/README.md');
    const rows = await loadHubDataset('nyu-mll/glue', { config: 'sst2', split: 'validation', resolver, shards: 1 });
    expect(rows).toEqual(TINY_ROWS);
    expect(hub.requests.at(-2)!.path).toBe('/datasets/nyu-mll/glue/resolve/refs%2Fconvert%2Fparquet/sst2/validation/0000.parquet');
  });

  it('a dataset missing on the Hub, or not cached offline, is a LOAD_ERROR carrying the Hub message', async () => {
    const missing = await rejection(loadHubTaskSplits('mnli_text', { resolver: hubDatasetResolver(options()) }));
    expect(missing.code).toBe('LOAD_ERROR');
    expect(missing.message).toContain('mnli/train/0000.parquet');
    expect(missing.message).toContain('not found');

    const notCached = await rejection(
      loadHubTaskSplits('sst2_text', { resolver: hubDatasetResolver(options({ offline: true })) }),
    );
    expect(notCached.code).toBe('LOAD_ERROR');
    expect(notCached.message).toMatch(/offline/i);
  });
});
