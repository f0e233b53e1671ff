/**
 * A local HTTP server that answers like huggingface.co's `resolve` endpoint, for
 * tests without network access. It reproduces the parts the client depends on:
 *
 * - `HEAD`/`GET /{repo}/resolve/{revision}/{file}` for model repos and
 *   `/datasets/{repo}/resolve/{revision}/{file}` for dataset repos (separate
 *   namespaces, as on the Hub). The revision is one URL segment, so
 *   `refs/convert/parquet` must arrive escaped (`refs%2Fconvert%2Fparquet`).
 *   Regular files are served
 *   directly with `ETag: "<git blob sha1>"` and `X-Repo-Commit`; "LFS" files
 *   answer `302` to `/cdn/<sha256>` with `X-Linked-Etag`, `X-Linked-Size`,
 *   `X-Repo-Commit` (the CDN may be this server or a second one, to get a
 *   different origin).
 * - `Range: bytes=N-` -> `206` with `Content-Range` (or `416`).
 * - `404` + `X-Error-Code: RepositoryNotFound | RevisionNotFound | EntryNotFound`.
 * - `401` for private repos without the right `Authorization: Bearer`.
 * - `307` relative redirect for renamed repos (like `t5-base` -> `google-t5/t5-base`).
 * - Fault injection: drop the connection mid-body, ignore `Range`, lie about the size.
 *
 * Lives in `__tests__/` so it is excluded from the package build.
 */

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One file of a fake repo. */
export interface FakeFile {
  data: Buffer;
  /** Served through the CDN redirect, like Git LFS files on the Hub. */
  lfs?: boolean;
}

/** One revision (branch/tag) of a fake repo. */
export interface FakeRevision {
  commit: string;
  files: Record<string, FakeFile>;
}

/** A fake repo: its revisions, or a rename target. */
export interface FakeRepo {
  revisions?: Record<string, FakeRevision>;
  /** Token required in `Authorization: Bearer`, making the repo private. */
  privateToken?: string;
  /** Answer every request with a relative 307 to this repo id (renamed repo). */
  renamedTo?: string;
}

/** Options of {@link FakeHub.start}. */
export interface FakeHubOptions {
  /** Serve the LFS blobs from a second server (another origin), like the real CDN. */
  separateCdn?: boolean;
  /** Dataset repos, by repo id, served under `/datasets/{repo}/...`. */
  datasets?: Record<string, FakeRepo>;
}

/** A request the server saw. */
export interface RecordedRequest {
  server: 'hub' | 'cdn';
  /** Kind of repo the path addressed (`/datasets/...` is `dataset`); absent for CDN and unknown paths. */
  repoType?: 'model' | 'dataset';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** Knobs tests flip to inject faults. */
export interface FakeHubFaults {
  /** The next N body GETs send `dropAfter` bytes, then the socket is destroyed. */
  dropGets: number;
  /** Bytes sent before dropping. */
  dropAfter: number;
  /** Answer 200 with the whole file even when `Range` is asked. */
  ignoreRange: boolean;
  /** Added to the advertised size (X-Linked-Size / Content-Length of HEAD). */
  sizeLie: number;
}

/** Random hex string, for commit shas. */
export function randomSha(): string {
  return randomBytes(20).toString('hex');
}

/** Git's blob sha1 (what the Hub uses as ETag of regular files). */
export function gitSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** Hex sha256 (what the Hub uses as X-Linked-Etag of LFS files). */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A running fake Hub. Call {@link FakeHub.close} in `afterEach`. */
export class FakeHub {
  /** Base URL to use as endpoint, e.g. `http://127.0.0.1:41234`. */
  url = '';
  /** Base URL of the CDN (same as `url` unless `separateCdn`). */
  cdnUrl = '';
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Fault injection, mutable by tests. */
  readonly faults: FakeHubFaults = { dropGets: 0, dropAfter: 0, ignoreRange: false, sizeLie: 0 };
  private readonly blobs = new Map<string, Buffer>();
  private readonly servers: Server[] = [];

  private constructor(
    readonly repos: Record<string, FakeRepo>,
    readonly datasets: Record<string, FakeRepo> = {},
  ) {
    for (const repo of [...Object.values(repos), ...Object.values(datasets)]) {
      for (const rev of Object.values(repo.revisions ?? {})) {
        for (const f of Object.values(rev.files)) if (f.lfs) this.blobs.set(sha256(f.data), f.data);
      }
    }
  }

  /**
   * Starts the server(s) on 127.0.0.1 with random ports.
   *
   * @param repos - model repos, by repo id
   * @param options - `datasets` (dataset repos, by repo id), `separateCdn`
   */
  static async start(repos: Record<string, FakeRepo>, options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = new FakeHub(repos, options.datasets);
    const hubServer = createServer((req, res) => hub.handle('hub', req, res));
    hub.url = await listen(hubServer);
    hub.servers.push(hubServer);
    if (options.separateCdn) {
      const cdn = createServer((req, res) => hub.handle('cdn', req, res));
      hub.cdnUrl = await listen(cdn);
      hub.servers.push(cdn);
    } else {
      hub.cdnUrl = hub.url;
    }
    return hub;
  }

  /** Requests filtered by method (and optionally by a path substring). */
  count(method: string, pathPart = ''): number {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length;
  }

  /** Stops the servers, closing kept-alive connections so tests do not hang. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private handle(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { server, method, path, headers: req.headers };
    this.requests.push(record);
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405).end();

    if (path.startsWith('/cdn/')) {
      const blob = this.blobs.get(path.slice('/cdn/'.length));
      if (!blob) return void res.writeHead(404).end();
      return this.sendBody(req, res, blob, { 'Content-Type': 'application/octet-stream' });
    }
    if (server === 'cdn') return void res.writeHead(404).end();

    const i = path.indexOf('/resolve/');
    if (i < 0) return void res.writeHead(404).end();
    const repoPath = decodeURIComponent(path.slice(1, i));
    const isDataset = repoPath.startsWith('datasets/');
    const prefix = isDataset ? 'datasets/' : '';
    const repoId = repoPath.slice(prefix.length);
    record.repoType = isDataset ? 'dataset' : 'model';
    const [revRaw = '', ...fileParts] = path.slice(i + '/resolve/'.length).split('/');
    const revision = decodeURIComponent(revRaw);
    const file = fileParts.map(decodeURIComponent).join('/');

    const table = isDataset ? this.datasets : this.repos;
    const repo = Object.hasOwn(table, repoId) ? table[repoId] : undefined;
    if (!repo) return void res.writeHead(404, { 'X-Error-Code': 'RepositoryNotFound', 'X-Error-Message': 'Repository not found' }).end();
    if (repo.renamedTo) {
      return void res.writeHead(307, { Location: `/${prefix}${repo.renamedTo}/resolve/${revRaw}/${fileParts.join('/')}` }).end();
    }
    if (repo.privateToken !== undefined && req.headers.authorization !== `Bearer ${repo.privateToken}`) {
      return void res.writeHead(401, { 'X-Error-Message': 'Invalid credentials in Authorization header' }).end();
    }
    const revs = repo.revisions ?? {};
    const rev = revs[revision] ?? Object.values(revs).find((r) => r.commit === revision);
    if (!rev) return void res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound', 'X-Error-Message': 'Invalid rev id' }).end();
    const f = rev.files[file];
    if (!f) {
      return void res
        .writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found', 'X-Repo-Commit': rev.commit })
        .end();
    }
    if (f.lfs) {
      const oid = sha256(f.data);
      return void res
        .writeHead(302, {
          Location: `${this.cdnUrl}/cdn/${oid}`,
          'X-Repo-Commit': rev.commit,
          'X-Linked-Etag': `"${oid}"`,
          'X-Linked-Size': String(f.data.length + this.faults.sizeLie),
          // The pointer file's etag: must be ignored in favour of X-Linked-Etag.
          ETag: `"${gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\n`))}"`,
        })
        .end();
    }
    return this.sendBody(req, res, f.data, {
      'X-Repo-Commit': rev.commit,
      ETag: `"${gitSha1(f.data)}"`,
      'Content-Type': 'application/octet-stream',
    });
  }

  private sendBody(req: IncomingMessage, res: ServerResponse, data: Buffer, headers: Record<string, string>): void {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    let status = 200;
    const h: Record<string, string> = { ...headers, 'Accept-Ranges': 'bytes' };
    if (m && !this.faults.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) return void res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
      status = 206;
      h['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    const advertised = req.method === 'HEAD' ? data.length + this.faults.sizeLie : body.length;
    h['Content-Length'] = String(advertised);
    res.writeHead(status, h);
    if (req.method === 'HEAD') return void res.end();
    if (this.faults.dropGets > 0) {
      this.faults.dropGets--;
      res.write(body.subarray(0, this.faults.dropAfter), () => {
        // Give the client time to receive and write the bytes, then cut the connection.
        setTimeout(() => res.socket?.destroy(), 50);
      });
      return;
    }
    res.end(body);
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}
