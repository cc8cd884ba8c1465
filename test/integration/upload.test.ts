import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { receiveUpload, uploadsDir } from '../../src/main/engine/catalog/uploads';
import { startLoopbackServer, type LoopbackServer } from '../../src/main/transport/http';
import { createRouter } from '../../src/main/transport/router';
import { noiseImage, tempDir } from '../helpers/fixtures';

interface Reply {
  status: number;
  body: { ok: boolean; data?: { path: string; bytes: number; batch: string }; error?: { code: string; message: string } };
}

function post(port: number, pathname: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Reply['body'] }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** The loopback door's upload path: what a browser sends instead of a path, then imported like any file. */
describe('uploads over the loopback door', () => {
  const tmp = tempDir();
  let engine: Engine;
  let server: LoopbackServer;
  let headers: Record<string, string>;
  const LIMIT = 64 * 1024;

  beforeAll(async () => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog') });
    server = await startLoopbackServer({
      router: createRouter(engine.handlers),
      subscribe: engine.subscribe,
      resolveMedia: engine.resolveMedia,
      // A small limit, so that going over it does not take 256 MiB.
      receiveUpload: (r, body) => receiveUpload(engine.catalog.dir, { ...r, maxBytes: LIMIT }, body),
      rendererDir: tmp.dir,
    });
    headers = { Host: `127.0.0.1:${server.port}`, Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/octet-stream' };
  });
  afterAll(async () => {
    await server.close();
    await engine.close();
    tmp.cleanup();
  });

  const upload = (name: string, body: Buffer, batch = 'batch-0001', extra: Record<string, string> = {}): Promise<Reply> =>
    post(server.port, `/upload?batch=${batch}&name=${encodeURIComponent(name)}`, { ...headers, ...extra }, body);

  it('stores an upload byte for byte under the catalog, keeping one folder level for subjects', async () => {
    const data = await noiseImage(3);
    const res = await upload('dropped/Ada_Lovelace/Ada_Lovelace_0001.png', data);
    expect(res.status).toBe(200);
    expect(res.body.data!.bytes).toBe(data.length);
    expect(res.body.data!.path).toBe(path.join(uploadsDir(engine.catalog.dir), 'batch-0001', 'Ada_Lovelace', 'Ada_Lovelace_0001.png'));
    expect(readFileSync(res.body.data!.path).equals(data)).toBe(true);
  });

  it('refuses an upload over the limit with a clear error, keeping nothing of it', async () => {
    const big = Buffer.alloc(LIMIT + 1, 7);
    const res = await upload('huge.png', big);
    expect(res.status).toBe(413);
    expect(res.body.error!.message).toMatch(/huge\.png is 0\.06 MiB, over the 0\.06 MiB upload limit/);
    expect(existsSync(path.join(uploadsDir(engine.catalog.dir), 'batch-0001', 'huge.png'))).toBe(false);
    // Chunked (no declared length): refused once the bytes pass the limit.
    const chunked = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/upload?batch=batch-0001&name=stream.png', headers: { ...headers, 'Transfer-Encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Reply['body'] }));
      });
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(LIMIT / 2));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error!.message).toContain('stream.png');
    expect(existsSync(path.join(uploadsDir(engine.catalog.dir), 'batch-0001', 'stream.png'))).toBe(false);
  });

  it("refuses a declared length over the import's own 256 MiB limit before reading a byte", async () => {
    const real = await startLoopbackServer({ router: createRouter(engine.handlers), subscribe: engine.subscribe, resolveMedia: engine.resolveMedia, receiveUpload: engine.receiveUpload, rendererDir: tmp.dir });
    try {
      const res = await new Promise<Reply>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: real.port, method: 'POST', path: '/upload?batch=batch-0002&name=scan.tif', headers: { ...headers, Host: `127.0.0.1:${real.port}`, Authorization: `Bearer ${real.token}`, 'Content-Length': String(300 * 2 ** 20) } },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Reply['body'] }));
          },
        );
        req.on('error', reject);
        req.write(Buffer.alloc(1024)); // the rest is never sent: the reply must come anyway
      });
      expect(res.status).toBe(413);
      expect(res.body.error!.message).toBe('scan.tif is 300 MiB, over the 256 MiB upload limit; import it by its path instead, or make it smaller');
    } finally {
      await real.close();
    }
  });

  it.each([
    ['a traversal', 'batch-0001', '../../etc/passwd', 400, /not an acceptable file name/],
    ['no name', 'batch-0001', '', 400, /no file name/],
    ['a bad batch', '../x', 'a.png', 400, /batch must be/],
  ])('refuses %s', async (_what, batch, name, status, message) => {
    const res = await upload(name, Buffer.from('x'), batch);
    expect(res.status).toBe(status);
    expect(res.body.error!.message).toMatch(message);
  });

  it('refuses uploads that are not octet-stream, without a session, or from another site', async () => {
    expect((await upload('a.png', Buffer.from('x'), 'batch-0001', { 'Content-Type': 'multipart/form-data' })).status).toBe(415);
    expect((await upload('a.png', Buffer.from('x'), 'batch-0001', { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await upload('a.png', Buffer.from('x'), 'batch-0001', { Origin: 'https://evil.example' })).status).toBe(403);
  });

  it('imports uploads by path: subjects from their folder, a per-file error for a bad file, staged copies removed', async () => {
    const good = await upload('Grace_Hopper/Grace_Hopper_0001.png', await noiseImage(11), 'batch-0003');
    const bad = await upload('Grace_Hopper/notes.png', Buffer.from('this is not an image'), 'batch-0003');
    const job = engine.jobs.start({ kind: 'store.ingest', params: { paths: [good.body.data!.path, bad.body.data!.path], subjectFromFolder: true } });
    const done = await engine.jobs.waitFor(job.id);
    expect(done.state).toBe('succeeded');
    if (done.kind !== 'store.ingest') throw new Error('wrong kind');
    expect(done.result!.added).toBe(1);
    expect(done.result!.errors).toEqual([{ path: bad.body.data!.path, message: expect.stringMatching(/image|format|unsupported/i) }]);
    const page = await engine.handlers['catalog.originals']({ offset: 0, limit: 10, query: 'Grace', faces: 'any', sort: 'name' });
    expect(page.items.map((i) => [i.originalName, i.subject])).toEqual([['Grace_Hopper_0001.png', 'Grace_Hopper']]);
    expect(existsSync(good.body.data!.path)).toBe(false);
    expect(existsSync(bad.body.data!.path)).toBe(true);
  });
});
