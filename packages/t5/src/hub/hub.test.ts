import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createProgressBar,
  formatBytes,
  formatDuration,
  HubError,
  hubCachePaths,
  isHubError,
  parseRepoId,
  renderProgressLine,
  resolveModelFile,
  resolveRepoFiles,
  type DownloadProgress,
  type HubErrorCode,
  type ResolveOptions,
} from './index.js';
import { FakeHub, gitSha1, randomSha, sha256 } from './__tests__/fake-hub.js';

// Fixture bytes are generated, so the tests do not depend on files outside the repo.
const MODEL = randomBytes(300_000);
const CONFIG = Buffer.from(JSON.stringify({ model_type: 't5', d_model: 8, num_layers: 2, vocab_size: 32 }, null, 2));
const MODEL_V1 = randomBytes(50_000);
const NESTED = randomBytes(1234);
const MAIN = randomSha();
const V1 = randomSha();
const PRIVATE_SHA = randomSha();
const T5_SHA = randomSha();
// Dataset repos: a parquet export on refs/convert/parquet (LFS) next to a main branch (regular file).
const SHARD = randomBytes(40_000);
const README = Buffer.from('---\nlicense: mit\n---\n# tiny dataset\n');
const DS_MAIN = randomSha();
const DS_PARQUET = randomSha();

let hub: FakeHub;
let home: string; // $HF_HOME of the test; the cache is $HF_HOME/hub

function repos() {
  return {
    'org/tiny-t5': {
      revisions: {
        main: {
          commit: MAIN,
          files: {
            'config.json': { data: CONFIG },
            'model.safetensors': { data: MODEL, lfs: true },
            'empty.txt': { data: Buffer.alloc(0) },
            'sub/dir/nested.bin': { data: NESTED, lfs: true },
          },
        },
        v1: { commit: V1, files: { 'config.json': { data: CONFIG }, 'model.safetensors': { data: MODEL_V1, lfs: true } } },
      },
    },
    'org/private-t5': {
      privateToken: 'hf_secret',
      revisions: { main: { commit: PRIVATE_SHA, files: { 'model.safetensors': { data: MODEL, lfs: true } } } },
    },
    't5-base': { renamedTo: 'google-t5/t5-base' },
    'google-t5/t5-base': { revisions: { main: { commit: T5_SHA, files: { 'config.json': { data: CONFIG } } } } },
  };
}

function datasets() {
  return {
    'org/tiny-ds': {
      revisions: {
        main: { commit: DS_MAIN, files: { 'README.md': { data: README }, 'data/train.csv': { data: CONFIG } } },
        'refs/convert/parquet': {
          commit: DS_PARQUET,
          files: {
            'default/train/0000.parquet': { data: SHARD, lfs: true },
            'default/validation/0000.parquet': { data: README },
          },
        },
      },
    },
    // Same id as a model repo, other content: model and dataset ids are separate namespaces.
    'org/tiny-t5': { revisions: { main: { commit: DS_MAIN, files: { 'config.json': { data: README } } } } },
    'org/old-ds': { renamedTo: 'org/tiny-ds' },
  };
}

/** Options isolated from the host: own HF_HOME (so no real token file is read), no progress bar, fast retries. */
function opts(extra: ResolveOptions = {}): ResolveOptions {
  return { endpoint: hub.url, env: { HF_HOME: home }, progress: false, ...extra };
}

const cacheDir = () => join(home, 'hub');
const repoDir = (name = 'models--org--tiny-t5') => join(cacheDir(), name);

async function expectHubError(p: Promise<unknown>, code: HubErrorCode): Promise<HubError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected HubError ${code}`).toBeInstanceOf(HubError);
  expect((err as HubError).code).toBe(code);
  return err as HubError;
}

/** Compares file contents by hash: deep-equality on 300 kB Buffers is very slow in vitest. */
async function digest(p: string): Promise<string> {
  return sha256(await readFile(p));
}

async function existsNoFollow(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tpv-hub-'));
  hub = await FakeHub.start(repos(), { datasets: datasets() });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await hub.close();
  await rm(home, { recursive: true, force: true });
});

describe('fresh download', () => {
  it('produces the exact Python huggingface_hub layout', async () => {
    const modelPath = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts());
    const configPath = await resolveModelFile('org/tiny-t5', 'config.json', opts());
    const emptyPath = await resolveModelFile('org/tiny-t5', 'empty.txt', opts());

    const modelEtag = sha256(MODEL); // LFS: X-Linked-Etag, not the pointer's ETag
    const configEtag = gitSha1(CONFIG); // regular file: ETag without quotes
    expect(modelPath).toBe(join(repoDir(), 'snapshots', MAIN, 'model.safetensors'));
    expect(configPath).toBe(join(repoDir(), 'snapshots', MAIN, 'config.json'));

    expect(await readlink(modelPath)).toBe(`../../blobs/${modelEtag}`);
    expect(await readlink(configPath)).toBe(`../../blobs/${configEtag}`);
    expect(await readlink(emptyPath)).toBe(`../../blobs/${gitSha1(Buffer.alloc(0))}`);
    expect(await digest(join(repoDir(), 'blobs', modelEtag))).toBe(modelEtag);
    expect(await digest(configPath)).toBe(sha256(CONFIG));
    expect((await readFile(emptyPath)).length).toBe(0);
    expect(await readFile(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(MAIN); // no trailing newline, like Python
    expect(await existsNoFollow(join(repoDir(), 'blobs', `${modelEtag}.incomplete`))).toBe(false);

    // Python's protocol: HEAD on the resolve URL without following the CDN redirect, then GET the CDN location.
    expect(hub.requests.slice(0, 2).map((r) => `${r.method} ${r.path}`)).toEqual([
      `HEAD /org/tiny-t5/resolve/main/model.safetensors`,
      `GET /cdn/${modelEtag}`,
    ]);
    expect(hub.requests[0]!.headers['accept-encoding']).toBe('identity');
  });

  it('links nested filenames with a relative symlink one level deeper per folder', async () => {
    const p = await resolveModelFile('org/tiny-t5', 'sub/dir/nested.bin', opts());
    expect(p).toBe(join(repoDir(), 'snapshots', MAIN, 'sub', 'dir', 'nested.bin'));
    expect(await readlink(p)).toBe(`../../../../blobs/${sha256(NESTED)}`);
    expect(await digest(p)).toBe(sha256(NESTED));
  });

  it('second call only sends HEAD, no GET', async () => {
    const first = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts());
    const getsBefore = hub.count('GET');
    const second = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts());
    expect(second).toBe(first);
    expect(hub.count('GET')).toBe(getsBefore);
    expect(hub.requests.at(-1)!.method).toBe('HEAD');
  });

  it('de-duplicates concurrent downloads of the same blob', async () => {
    const [a, b] = await Promise.all([
      resolveModelFile('org/tiny-t5', 'model.safetensors', opts()),
      resolveModelFile('org/tiny-t5', 'model.safetensors', opts()),
    ]);
    expect(a).toBe(b);
    expect(hub.count('GET', '/cdn/')).toBe(1);
    expect(await digest(a)).toBe(sha256(MODEL));
  });

  it('follows a relative redirect of a renamed repo and caches under the requested id (t5-base)', async () => {
    const p = await resolveModelFile('t5-base', 'config.json', opts());
    expect(p).toBe(join(cacheDir(), 'models--t5-base', 'snapshots', T5_SHA, 'config.json'));
    expect(await digest(p)).toBe(sha256(CONFIG));
    expect(hub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'HEAD /t5-base/resolve/main/config.json',
      'HEAD /google-t5/t5-base/resolve/main/config.json',
      'GET /google-t5/t5-base/resolve/main/config.json',
    ]);
  });
});

describe('revisions', () => {
  it('supports org/name@revision and writes refs/<revision>', async () => {
    const p = await resolveModelFile('org/tiny-t5@v1', 'model.safetensors', opts());
    expect(p).toBe(join(repoDir(), 'snapshots', V1, 'model.safetensors'));
    expect(await digest(p)).toBe(sha256(MODEL_V1));
    expect(await readFile(join(repoDir(), 'refs', 'v1'), 'utf8')).toBe(V1);
    expect(hub.requests[0]!.path).toBe('/org/tiny-t5/resolve/v1/model.safetensors');
    // options.revision means the same
    expect(await resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ revision: 'v1' }))).toBe(p);
  });

  it('a cached commit sha needs no request at all', async () => {
    await resolveModelFile('org/tiny-t5', 'config.json', opts());
    const n = hub.requests.length;
    const p = await resolveModelFile(`org/tiny-t5@${MAIN}`, 'config.json', opts());
    expect(p).toBe(join(repoDir(), 'snapshots', MAIN, 'config.json'));
    expect(hub.requests.length).toBe(n);
  });

  it('rejects conflicting @revision and options.revision', async () => {
    await expectHubError(resolveModelFile('org/tiny-t5@v1', 'config.json', opts({ revision: 'main' })), 'BAD_REPO_ID');
  });
});

describe('resume and failures', () => {
  it('resumes from a partial .incomplete with a Range request', async () => {
    const etag = sha256(MODEL);
    await mkdir(join(repoDir(), 'blobs'), { recursive: true });
    await writeFile(join(repoDir(), 'blobs', `${etag}.incomplete`), MODEL.subarray(0, 123_456));
    const events: DownloadProgress[] = [];

    const p = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ onProgress: (e) => events.push(e) }));

    const get = hub.requests.find((r) => r.method === 'GET')!;
    expect(get.headers.range).toBe('bytes=123456-');
    expect(await digest(p)).toBe(sha256(MODEL));
    expect(await existsNoFollow(join(repoDir(), 'blobs', `${etag}.incomplete`))).toBe(false);
    expect(events[0]).toEqual({ file: 'model.safetensors', loaded: 123_456, total: MODEL.length });
    expect(events.at(-1)).toEqual({ file: 'model.safetensors', loaded: MODEL.length, total: MODEL.length });
    for (let i = 1; i < events.length; i++) expect(events[i]!.loaded).toBeGreaterThanOrEqual(events[i - 1]!.loaded);
  });

  it('restarts from zero when the server ignores Range (200 instead of 206)', async () => {
    hub.faults.ignoreRange = true;
    const etag = sha256(MODEL);
    await mkdir(join(repoDir(), 'blobs'), { recursive: true });
    await writeFile(join(repoDir(), 'blobs', `${etag}.incomplete`), MODEL.subarray(0, 1000));
    const p = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts());
    expect(await digest(p)).toBe(sha256(MODEL));
  });

  it('a dropped connection leaves nothing at the final path; the next call resumes', async () => {
    hub.faults.dropGets = 1;
    hub.faults.dropAfter = 100_000;
    const etag = sha256(MODEL);
    const blob = join(repoDir(), 'blobs', etag);
    const pointer = join(repoDir(), 'snapshots', MAIN, 'model.safetensors');

    const err = await expectHubError(resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ maxRetries: 0 })), 'NETWORK');
    expect(err.message).toContain('resumes');
    expect(await existsNoFollow(blob)).toBe(false);
    expect(await existsNoFollow(pointer)).toBe(false);
    const partial = (await stat(`${blob}.incomplete`)).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(MODEL.length);

    const p = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ maxRetries: 0 }));
    const gets = hub.requests.filter((r) => r.method === 'GET');
    expect(gets.at(-1)!.headers.range).toBe(`bytes=${partial}-`);
    expect(p).toBe(pointer);
    expect(await digest(p)).toBe(sha256(MODEL));
  });

  it('retries a dropped download within one call by default (resuming)', async () => {
    hub.faults.dropGets = 1;
    hub.faults.dropAfter = 64_000;
    const p = await resolveModelFile('org/tiny-t5', 'model.safetensors', opts());
    expect(await digest(p)).toBe(sha256(MODEL));
    const gets = hub.requests.filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(2);
    expect(gets[1]!.headers.range).toMatch(/^bytes=\d+-$/);
  });

  it('a size that does not match the announced size is BAD_RESPONSE and is never promoted', async () => {
    hub.faults.sizeLie = 10;
    await expectHubError(resolveModelFile('org/tiny-t5', 'model.safetensors', opts()), 'BAD_RESPONSE');
    expect(await existsNoFollow(join(repoDir(), 'blobs', sha256(MODEL)))).toBe(false);
    expect(await existsNoFollow(join(repoDir(), 'snapshots', MAIN, 'model.safetensors'))).toBe(false);
  });

  it('server gone and file not cached: NETWORK', async () => {
    const endpoint = await deadEndpoint();
    const err = await expectHubError(resolveModelFile('org/tiny-t5', 'config.json', opts({ endpoint })), 'NETWORK');
    expect(err.message).toContain('HF_HUB_OFFLINE');
  });
});

describe('offline mode', () => {
  it('reads the cache through refs/<revision> without any request', async () => {
    const online = await resolveModelFile('org/tiny-t5', 'config.json', opts());
    const n = hub.requests.length;
    expect(await resolveModelFile('org/tiny-t5', 'config.json', opts({ offline: true }))).toBe(online);
    expect(await resolveModelFile('org/tiny-t5', 'config.json', opts({ env: { HF_HOME: home, HF_HUB_OFFLINE: '1' } }))).toBe(
      online,
    );
    expect(hub.requests.length).toBe(n);
  });

  it('fails with OFFLINE_NOT_CACHED when the file is not cached', async () => {
    const err = await expectHubError(
      resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ env: { HF_HOME: home, HF_HUB_OFFLINE: '1' } })),
      'OFFLINE_NOT_CACHED',
    );
    expect(err.message).toMatch(/offline/i);
    expect(err.message).toContain('org/tiny-t5');
    expect(err.message).toContain('model.safetensors');
    expect(hub.requests).toHaveLength(0);
  });

  it('options.offline=false overrides HF_HUB_OFFLINE=1', async () => {
    const p = await resolveModelFile(
      'org/tiny-t5',
      'config.json',
      opts({ offline: false, env: { HF_HOME: home, HF_HUB_OFFLINE: '1' } }),
    );
    expect(await digest(p)).toBe(sha256(CONFIG));
  });
});

describe('HTTP errors', () => {
  it('404 for a missing file: NOT_FOUND naming repo, revision and file; non-existence is cached', async () => {
    const err = await expectHubError(resolveModelFile('org/tiny-t5', 'tokenizer.json', opts()), 'NOT_FOUND');
    expect(err.message).toContain('org/tiny-t5');
    expect(err.message).toContain('main');
    expect(err.message).toContain('tokenizer.json');
    expect(err.hubErrorCode).toBe('EntryNotFound');
    expect(err.status).toBe(404);
    expect(await existsNoFollow(join(repoDir(), '.no_exist', MAIN, 'tokenizer.json'))).toBe(true);
    // Offline, the cached non-existence answers NOT_FOUND instead of OFFLINE_NOT_CACHED.
    await expectHubError(resolveModelFile('org/tiny-t5', 'tokenizer.json', opts({ offline: true })), 'NOT_FOUND');
  });

  it('404 for a missing repo or revision: NOT_FOUND', async () => {
    const repoErr = await expectHubError(resolveModelFile('org/nope', 'config.json', opts()), 'NOT_FOUND');
    expect(repoErr.message).toContain('org/nope');
    expect(repoErr.hubErrorCode).toBe('RepositoryNotFound');
    const revErr = await expectHubError(resolveModelFile('org/tiny-t5@v9', 'config.json', opts()), 'NOT_FOUND');
    expect(revErr.message).toContain('v9');
    expect(revErr.hubErrorCode).toBe('RevisionNotFound');
  });

  it('401 without or with a wrong token: UNAUTHORIZED telling to set HF_TOKEN', async () => {
    const err = await expectHubError(resolveModelFile('org/private-t5', 'model.safetensors', opts()), 'UNAUTHORIZED');
    expect(err.message).toContain('HF_TOKEN');
    expect(err.message).toContain('org/private-t5');
    expect(err.status).toBe(401);
    expect(hub.requests[0]!.headers.authorization).toBeUndefined();
    await expectHubError(resolveModelFile('org/private-t5', 'model.safetensors', opts({ token: 'hf_wrong' })), 'UNAUTHORIZED');
  });
});

describe('tokens', () => {
  it('reads HF_TOKEN from the environment', async () => {
    const p = await resolveModelFile('org/private-t5', 'model.safetensors', opts({ env: { HF_HOME: home, HF_TOKEN: 'hf_secret' } }));
    expect(await digest(p)).toBe(sha256(MODEL));
    expect(hub.requests[0]!.headers.authorization).toBe('Bearer hf_secret');
  });

  it('reads $HF_HOME/token like Python (trimmed)', async () => {
    await writeFile(join(home, 'token'), 'hf_secret\n');
    const p = await resolveModelFile('org/private-t5', 'model.safetensors', opts());
    expect(await digest(p)).toBe(sha256(MODEL));
    expect(hub.requests[0]!.headers.authorization).toBe('Bearer hf_secret');
  });

  it('token: false sends no token even if HF_TOKEN is set', async () => {
    await expectHubError(
      resolveModelFile('org/private-t5', 'model.safetensors', opts({ token: false, env: { HF_HOME: home, HF_TOKEN: 'hf_secret' } })),
      'UNAUTHORIZED',
    );
  });

  it('does not send the token to a CDN on another origin', async () => {
    await hub.close();
    hub = await FakeHub.start(repos(), { separateCdn: true });
    const p = await resolveModelFile('org/private-t5', 'model.safetensors', opts({ token: 'hf_secret' }));
    expect(await digest(p)).toBe(sha256(MODEL));
    const head = hub.requests.find((r) => r.server === 'hub')!;
    const cdnGet = hub.requests.find((r) => r.server === 'cdn')!;
    expect(head.headers.authorization).toBe('Bearer hf_secret');
    expect(cdnGet.headers.authorization).toBeUndefined();
  });
});

describe('environment variables (process.env)', () => {
  it('honours HF_ENDPOINT, HF_HOME and HF_TOKEN', async () => {
    vi.stubEnv('HF_ENDPOINT', `${hub.url}/`);
    vi.stubEnv('HF_HOME', home);
    vi.stubEnv('HF_HUB_CACHE', undefined);
    vi.stubEnv('HUGGINGFACE_HUB_CACHE', undefined);
    vi.stubEnv('HF_HUB_OFFLINE', undefined);
    vi.stubEnv('TRANSFORMERS_OFFLINE', undefined);
    vi.stubEnv('HF_TOKEN', 'hf_secret');
    vi.stubEnv('TPV_PROGRESS', '0');
    const p = await resolveModelFile('org/private-t5', 'model.safetensors');
    expect(p).toBe(join(home, 'hub', 'models--org--private-t5', 'snapshots', PRIVATE_SHA, 'model.safetensors'));
    expect(hub.requests[0]!.path).toBe('/org/private-t5/resolve/main/model.safetensors');
    expect(hub.requests[0]!.headers.authorization).toBe('Bearer hf_secret');
  });

  it('HF_HUB_CACHE wins over HF_HOME, and options.cacheDir over both', () => {
    const env = { HF_HOME: '/h', HF_HUB_CACHE: '/c' };
    expect(hubCachePaths('google/flan-t5-base', { env }).repoDir).toBe(join('/c', 'models--google--flan-t5-base'));
    expect(hubCachePaths('google/flan-t5-base', { env: { HF_HOME: '/h' } }).cacheDir).toBe(join('/h', 'hub'));
    expect(hubCachePaths('google/flan-t5-base', { env, cacheDir: '/x' }).cacheDir).toBe('/x');
  });
});

describe('cache written by Python', () => {
  /** Builds what `hf_hub_download` leaves behind, by hand. */
  async function prepopulate(): Promise<string> {
    const dir = repoDir();
    const etag = gitSha1(CONFIG);
    await mkdir(join(dir, 'blobs'), { recursive: true });
    await mkdir(join(dir, 'refs'), { recursive: true });
    await mkdir(join(dir, 'snapshots', MAIN), { recursive: true });
    await writeFile(join(dir, 'blobs', etag), CONFIG);
    await writeFile(join(dir, 'refs', 'main'), MAIN);
    await symlink(`../../blobs/${etag}`, join(dir, 'snapshots', MAIN, 'config.json'));
    return join(dir, 'snapshots', MAIN, 'config.json');
  }

  it('is reused online with only a HEAD', async () => {
    const pointer = await prepopulate();
    expect(await resolveModelFile('org/tiny-t5', 'config.json', opts())).toBe(pointer);
    expect(hub.count('GET')).toBe(0);
  });

  it('is reused offline and when the Hub cannot be reached', async () => {
    const pointer = await prepopulate();
    expect(await resolveModelFile('org/tiny-t5', 'config.json', opts({ offline: true }))).toBe(pointer);
    expect(await resolveModelFile('org/tiny-t5', 'config.json', opts({ endpoint: await deadEndpoint() }))).toBe(pointer);
    expect(hub.requests).toHaveLength(0);
  });

  it('reuses a blob shared with another commit without downloading it', async () => {
    await prepopulate();
    const p = await resolveModelFile('org/tiny-t5@v1', 'config.json', opts());
    expect(p).toBe(join(repoDir(), 'snapshots', V1, 'config.json'));
    expect(await readlink(p)).toBe(`../../blobs/${gitSha1(CONFIG)}`);
    expect(hub.count('GET')).toBe(0);
  });
});

describe('local directories and validation', () => {
  it('returns dir/filename for a local directory, LOCAL_FILE_MISSING otherwise', async () => {
    const dir = join(home, 'my-model');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), CONFIG);
    expect(await resolveModelFile(dir, 'config.json')).toBe(join(dir, 'config.json'));
    const err = await expectHubError(resolveModelFile(dir, 'model.safetensors'), 'LOCAL_FILE_MISSING');
    expect(err.message).toContain('model.safetensors');
    expect(err.message).toContain('config.json'); // lists what is there
    await expectHubError(resolveModelFile(join(home, 'missing-dir'), 'config.json'), 'LOCAL_FILE_MISSING');
    await expectHubError(resolveModelFile('./definitely/not/here', 'config.json'), 'LOCAL_FILE_MISSING');
    expect(hub.requests).toHaveLength(0);
  });

  it('rejects invalid repo ids and filenames', async () => {
    for (const id of ['bad--name', '-x', 'org/na me', 'org/name.git', 'a/b@', 'org/x@../../etc']) {
      await expectHubError(resolveModelFile(id, 'config.json', opts()), 'BAD_REPO_ID');
    }
    for (const f of ['../x', '/etc/passwd', 'a/../b', 'a\\b', '']) {
      await expectHubError(resolveModelFile('org/tiny-t5', f, opts()), 'BAD_FILENAME');
    }
    expect(hub.requests).toHaveLength(0);
    expect(parseRepoId('google/flan-t5-base@refs/pr/1')).toEqual({ repoId: 'google/flan-t5-base', revision: 'refs/pr/1' });
    expect(parseRepoId('t5-base')).toEqual({ repoId: 't5-base', revision: undefined });
  });
});

describe('resolveRepoFiles and hubCachePaths', () => {
  it('resolves several files from one snapshot; once cached only the first needs a HEAD', async () => {
    const files = ['config.json', 'model.safetensors'];
    const paths = await resolveRepoFiles('org/tiny-t5', files, opts());
    expect(paths).toEqual(files.map((f) => join(repoDir(), 'snapshots', MAIN, f)));
    // The second file was fetched by commit sha, pinning the snapshot.
    expect(hub.requests.some((r) => r.path === `/org/tiny-t5/resolve/${MAIN}/model.safetensors`)).toBe(true);
    const n = hub.requests.length;
    expect(await resolveRepoFiles('org/tiny-t5', files, opts())).toEqual(paths);
    expect(hub.requests.slice(n).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('works on local directories too', async () => {
    const dir = join(home, 'local');
    await mkdir(dir);
    await writeFile(join(dir, 'a'), 'x');
    await writeFile(join(dir, 'b'), 'y');
    expect(await resolveRepoFiles(dir, ['a', 'b'])).toEqual([join(dir, 'a'), join(dir, 'b')]);
  });

  it('hubCachePaths gives the Python layout', () => {
    const p = hubCachePaths('google/flan-t5-base@v2', { cacheDir: '/cache' });
    expect(p.repoId).toBe('google/flan-t5-base');
    expect(p.revision).toBe('v2');
    expect(p.repoDir).toBe(join('/cache', 'models--google--flan-t5-base'));
    expect(p.blobsDir).toBe(join(p.repoDir, 'blobs'));
    expect(p.refFile).toBe(join(p.repoDir, 'refs', 'v2'));
    expect(p.snapshotPath('abc', 'sub/f.bin')).toBe(join(p.repoDir, 'snapshots', 'abc', 'sub', 'f.bin'));
    expect(p.blobPath('e')).toBe(join(p.repoDir, 'blobs', 'e'));
    expect(hubCachePaths('t5-base', { cacheDir: '/cache' }).repoDir).toBe(join('/cache', 'models--t5-base'));
    expect(hubCachePaths('t5-base', { cacheDir: '/cache' }).revision).toBe('main');
  });
});

describe('progress', () => {
  it('formats bytes, durations and a single line', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000)).toBe('1.50 MB');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(NaN)).toBe('--:--');
    const line = renderProgressLine({ file: 'model.safetensors', loaded: 50e6, total: 100e6, bytesPerSecond: 10e6, width: 100 });
    expect(line).toContain('model.safetensors');
    expect(line).toContain(' 50%');
    expect(line).toContain('50.0 MB/100 MB');
    expect(line).toContain('10.0 MB/s');
    expect(line).toContain('ETA 0:05');
    expect(line.length).toBeLessThan(100);
    expect(line).not.toContain('\n');
  });

  it('draws on one line with \\r and ends with a newline', () => {
    let out = '';
    let t = 0;
    const bar = createProgressBar({ stream: { write: (s: string) => (out += s), isTTY: true, columns: 80 }, now: () => t, minIntervalMs: 0 });
    bar.update({ file: 'f', loaded: 0, total: 1000 });
    t = 1000;
    bar.update({ file: 'f', loaded: 500, total: 1000 });
    t = 2000;
    bar.update({ file: 'f', loaded: 1000, total: 1000 });
    bar.end();
    expect(out.split('\r').length).toBeGreaterThan(2);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    expect(out).toContain('500 B/s');
    expect(out).toContain('100%');
  });

  it('draws the default bar on stderr when TPV_PROGRESS=1', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });
    await resolveModelFile('org/tiny-t5', 'model.safetensors', opts({ progress: undefined, env: { HF_HOME: home, TPV_PROGRESS: '1' } }));
    const out = writes.join('');
    expect(out).toContain('model.safetensors');
    expect(out).toContain('100%');
    expect(out.endsWith('\n')).toBe(true);
  });
});

/** An endpoint on a port nothing listens on (connection refused), to simulate no network. */
async function deadEndpoint(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

// Keeps the guard exported API exercised.
it('isHubError narrows by code', () => {
  const e = new HubError('NETWORK', 'x');
  expect(isHubError(e)).toBe(true);
  expect(isHubError(e, 'NETWORK')).toBe(true);
  expect(isHubError(e, 'NOT_FOUND')).toBe(false);
  expect(isHubError(new Error('x'))).toBe(false);
});

describe('dataset repos (repoType: dataset)', () => {
  const dsDir = () => join(cacheDir(), 'datasets--org--tiny-ds');
  const PARQUET_REV = 'refs/convert/parquet';
  const ds = (extra: ResolveOptions = {}) => opts({ repoType: 'dataset', ...extra });

  it('fresh download: /datasets/ URL, datasets--org--name layout, escaped refs/convert/parquet, nested ref file', async () => {
    const file = 'default/train/0000.parquet';
    const p = await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV }));

    expect(p).toBe(join(dsDir(), 'snapshots', DS_PARQUET, 'default', 'train', '0000.parquet'));
    expect(await readlink(p)).toBe(`../../../../blobs/${sha256(SHARD)}`);
    expect(await digest(p)).toBe(sha256(SHARD));
    // Python's _cache_commit_hash_for_specific_revision: Path(storage) / "refs" / revision, with subfolders.
    expect(await readFile(join(dsDir(), 'refs', 'refs', 'convert', 'parquet'), 'utf8')).toBe(DS_PARQUET);
    expect(await existsNoFollow(join(cacheDir(), 'models--org--tiny-ds'))).toBe(false);
    // Python's hf_hub_url: "datasets/" prefix, quote(revision, safe="").
    expect(hub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `HEAD /datasets/org/tiny-ds/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet`,
      `GET /cdn/${sha256(SHARD)}`,
    ]);
    expect(hub.requests[0]!.repoType).toBe('dataset');

    // Regular (non-LFS) file on the default branch: refs/main, ETag = git sha1.
    const readme = await resolveModelFile('org/tiny-ds', 'README.md', ds());
    expect(readme).toBe(join(dsDir(), 'snapshots', DS_MAIN, 'README.md'));
    expect(await readlink(readme)).toBe(`../../blobs/${gitSha1(README)}`);
    expect(await readFile(join(dsDir(), 'refs', 'main'), 'utf8')).toBe(DS_MAIN);
    expect(hub.requests.at(-1)!.path).toBe('/datasets/org/tiny-ds/resolve/main/README.md');

    // hubCachePaths agrees with what was written.
    const paths = hubCachePaths('org/tiny-ds', { cacheDir: cacheDir(), repoType: 'dataset', revision: PARQUET_REV });
    expect(paths.repoType).toBe('dataset');
    expect(paths.repoDir).toBe(dsDir());
    expect(paths.refFile).toBe(join(dsDir(), 'refs', 'refs', 'convert', 'parquet'));
    expect(paths.snapshotPath(DS_PARQUET, file)).toBe(p);

    // Second call: HEAD only.
    const gets = hub.count('GET');
    expect(await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV }))).toBe(p);
    expect(hub.count('GET')).toBe(gets);
  });

  it('@revision in the id works the same as options.revision', async () => {
    const p = await resolveModelFile(`org/tiny-ds@${PARQUET_REV}`, 'default/validation/0000.parquet', ds());
    expect(p).toBe(join(dsDir(), 'snapshots', DS_PARQUET, 'default', 'validation', '0000.parquet'));
    expect(hub.requests[0]!.path).toBe('/datasets/org/tiny-ds/resolve/refs%2Fconvert%2Fparquet/default/validation/0000.parquet');
  });

  it('offline: reuses the cache through refs/refs/convert/parquet without any request', async () => {
    const file = 'default/train/0000.parquet';
    const online = await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV }));
    const n = hub.requests.length;
    expect(await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV, offline: true }))).toBe(online);
    expect(
      await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV, env: { HF_HOME: home, HF_HUB_OFFLINE: '1' } })),
    ).toBe(online);
    // Also when the Hub cannot be reached.
    expect(await resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV, endpoint: await deadEndpoint() }))).toBe(online);
    expect(hub.requests.length).toBe(n);

    // Not cached (other revision, or the model namespace): OFFLINE_NOT_CACHED naming the dataset.
    const err = await expectHubError(resolveModelFile('org/tiny-ds', 'README.md', ds({ offline: true })), 'OFFLINE_NOT_CACHED');
    expect(err.message).toContain('dataset org/tiny-ds');
    expect(err.repoType).toBe('dataset');
    await expectHubError(resolveModelFile('org/tiny-ds', file, opts({ revision: PARQUET_REV, offline: true })), 'OFFLINE_NOT_CACHED');
    expect(hub.requests.length).toBe(n);
  });

  it('reuses a dataset cache written by Python (refs/refs/convert/parquet) offline', async () => {
    const etag = sha256(SHARD);
    await mkdir(join(dsDir(), 'blobs'), { recursive: true });
    await mkdir(join(dsDir(), 'refs', 'refs', 'convert'), { recursive: true });
    await mkdir(join(dsDir(), 'snapshots', DS_PARQUET, 'default', 'train'), { recursive: true });
    await writeFile(join(dsDir(), 'blobs', etag), SHARD);
    await writeFile(join(dsDir(), 'refs', 'refs', 'convert', 'parquet'), DS_PARQUET);
    const pointer = join(dsDir(), 'snapshots', DS_PARQUET, 'default', 'train', '0000.parquet');
    await symlink(`../../../../blobs/${etag}`, pointer);
    expect(await resolveModelFile('org/tiny-ds', 'default/train/0000.parquet', ds({ revision: PARQUET_REV, offline: true }))).toBe(
      pointer,
    );
    expect(hub.requests).toHaveLength(0);
  });

  it('404 for a missing dataset file: NOT_FOUND, remembered in datasets--…/.no_exist, also offline', async () => {
    const file = 'default/train/0001.parquet';
    const err = await expectHubError(resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV })), 'NOT_FOUND');
    expect(err.hubErrorCode).toBe('EntryNotFound');
    expect(err.status).toBe(404);
    expect(err.repoType).toBe('dataset');
    expect(err.message).toContain('dataset repo org/tiny-ds');
    expect(err.message).toContain(PARQUET_REV);
    expect(err.message).toContain(file);
    expect(await existsNoFollow(join(dsDir(), '.no_exist', DS_PARQUET, 'default', 'train', '0001.parquet'))).toBe(true);
    expect(await readFile(join(dsDir(), 'refs', 'refs', 'convert', 'parquet'), 'utf8')).toBe(DS_PARQUET);
    const offline = await expectHubError(resolveModelFile('org/tiny-ds', file, ds({ revision: PARQUET_REV, offline: true })), 'NOT_FOUND');
    expect(offline.hubErrorCode).toBe('EntryNotFound');
  });

  it('model and dataset ids are separate namespaces', async () => {
    // A dataset id asked as a model (the default) is not found, and the other way round.
    const asModel = await expectHubError(resolveModelFile('org/tiny-ds', 'README.md', opts()), 'NOT_FOUND');
    expect(asModel.hubErrorCode).toBe('RepositoryNotFound');
    expect(asModel.message).toContain("repoType: 'dataset'");
    const asDataset = await expectHubError(resolveModelFile('org/private-t5', 'model.safetensors', ds()), 'NOT_FOUND');
    expect(asDataset.message).toContain('Dataset repo org/private-t5 not found');
    // Same id in both: two cache folders with their own content.
    const model = await resolveModelFile('org/tiny-t5', 'config.json', opts());
    const dataset = await resolveModelFile('org/tiny-t5', 'config.json', ds());
    expect(model).toBe(join(repoDir(), 'snapshots', MAIN, 'config.json'));
    expect(dataset).toBe(join(cacheDir(), 'datasets--org--tiny-t5', 'snapshots', DS_MAIN, 'config.json'));
    expect(await digest(model)).toBe(sha256(CONFIG));
    expect(await digest(dataset)).toBe(sha256(README));
  });

  it('follows a renamed dataset repo and caches under the requested id', async () => {
    const p = await resolveModelFile('org/old-ds', 'README.md', ds());
    expect(p).toBe(join(cacheDir(), 'datasets--org--old-ds', 'snapshots', DS_MAIN, 'README.md'));
    expect(hub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'HEAD /datasets/org/old-ds/resolve/main/README.md',
      'HEAD /datasets/org/tiny-ds/resolve/main/README.md',
      'GET /datasets/org/tiny-ds/resolve/main/README.md',
    ]);
  });

  it('resolveRepoFiles pins one dataset snapshot by commit', async () => {
    const files = ['default/train/0000.parquet', 'default/validation/0000.parquet'];
    const paths = await resolveRepoFiles('org/tiny-ds', files, ds({ revision: PARQUET_REV }));
    expect(paths).toEqual(files.map((f) => join(dsDir(), 'snapshots', DS_PARQUET, ...f.split('/'))));
    expect(hub.requests.some((r) => r.path === `/datasets/org/tiny-ds/resolve/${DS_PARQUET}/default/validation/0000.parquet`)).toBe(
      true,
    );
    const n = hub.requests.length;
    expect(await resolveRepoFiles('org/tiny-ds', files, ds({ revision: PARQUET_REV }))).toEqual(paths);
    expect(hub.requests.slice(n).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('rejects an unknown repo type without any request', async () => {
    const bad = { repoType: 'datasets' } as unknown as ResolveOptions;
    await expectHubError(resolveModelFile('org/tiny-ds', 'README.md', opts(bad)), 'BAD_REPO_ID');
    expect(() => hubCachePaths('org/tiny-ds', bad as { repoType: 'dataset' })).toThrow(HubError);
    expect(hub.requests).toHaveLength(0);
  });

  it('hubCachePaths defaults to the model layout', () => {
    expect(hubCachePaths('nyu-mll/glue', { cacheDir: '/cache' }).repoDir).toBe(join('/cache', 'models--nyu-mll--glue'));
    expect(hubCachePaths('nyu-mll/glue', { cacheDir: '/cache' }).repoType).toBe('model');
    const p = hubCachePaths('nyu-mll/glue@refs/convert/parquet', { cacheDir: '/cache', repoType: 'dataset' });
    expect(p.repoDir).toBe(join('/cache', 'datasets--nyu-mll--glue'));
    expect(p.revision).toBe('refs/convert/parquet');
    expect(p.refFile).toBe(join('/cache', 'datasets--nyu-mll--glue', 'refs', 'refs', 'convert', 'parquet'));
  });
});
