import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine, type Engine } from '../../src/main/engine';
import { startLoopbackServer, SESSION_COOKIE, type LoopbackServer } from '../../src/main/transport/http';
import { createRouter } from '../../src/main/transport/router';
import { noiseImage, tempDir } from '../helpers/fixtures';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Raw requests, so that Host and Origin can be forged the way an attacker's page or DNS rebinding would. */
function request(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

describe('loopback door', () => {
  const tmp = tempDir();
  let engine: Engine;
  let server: LoopbackServer;
  let host: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const rendererDir = path.join(tmp.dir, 'renderer');
    mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Facet test</title>');
    writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(tmp.dir, 'secret.txt'), 'outside the renderer');
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog') });
    server = await startLoopbackServer({
      router: createRouter(engine.handlers),
      subscribe: engine.subscribe,
      resolveMedia: engine.resolveMedia,
      resolveThumbnail: engine.resolveThumbnail,
      rendererDir,
    });
    host = `127.0.0.1:${server.port}`;
    auth = { Host: host, Authorization: `Bearer ${server.token}` };
  });
  afterAll(async () => {
    await server.close();
    await engine.close();
    tmp.cleanup();
  });

  const call = (method: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    request(server.port, {
      method: 'POST',
      path: `/api/${method}`,
      headers: { ...auth, 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('listens on loopback only and refuses other hosts', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    await expect(
      startLoopbackServer({ router: createRouter(engine.handlers), subscribe: engine.subscribe, resolveMedia: engine.resolveMedia, rendererDir: tmp.dir, host: '0.0.0.0' }),
    ).rejects.toThrow(/only binds to 127.0.0.1/);
  });

  it('uses a fresh 256-bit token per run', async () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    const other = await startLoopbackServer({ router: createRouter(engine.handlers), subscribe: engine.subscribe, resolveMedia: engine.resolveMedia, rendererDir: tmp.dir });
    expect(other.token).not.toBe(server.token);
    await other.close();
  });

  it('answers a valid call with the token', async () => {
    const res = await call('app.info', {});
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, data: { name: 'Facet' } });
  });

  it('refuses calls without the token, or with a wrong one', async () => {
    for (const headers of [{ Authorization: '' }, { Authorization: 'Bearer nope' }, { Authorization: `Bearer ${server.token}x` }]) {
      const res = await call('app.info', {}, headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    }
    const page = await request(server.port, { headers: { Host: host } });
    expect(page.status).toBe(401);
    expect(page.body).not.toContain('Facet test');
  });

  it('refuses requests from another origin even with a valid token', async () => {
    const res = await call('app.info', {}, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'forbidden', message: 'Origin https://evil.example is not allowed.' });
    const ok = await call('app.info', {}, { Origin: `http://${host}` });
    expect(ok.status).toBe(200);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await call('app.info', {}, { Host: `rebind.example:${server.port}` });
    expect(res.status).toBe(403);
  });

  it('rejects a wrong shape with a typed validation error', async () => {
    const res = await call('jobs.start', { kind: 'store.ingest', params: { paths: ['relative/dir'] } });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ ok: false, error: { code: 'invalid_request', issues: [{ path: 'params.paths.0', message: 'must be an absolute path' }] } });
  });

  it('rejects bad JSON, the wrong content type, other verbs, big bodies and unknown methods', async () => {
    expect((await call('app.info', '{not json')).status).toBe(400);
    expect((await call('app.info', '{}', { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await request(server.port, { path: '/api/app.info', headers: auth })).status).toBe(405);
    expect((await call('app.info', JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    const unknown = await call('nope.nothing', {});
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('unknown_method');
  });

  it('signs a browser in from the printed URL with an HttpOnly SameSite cookie, and drops the token from the address', async () => {
    const login = await request(server.port, { path: `/?token=${server.token}`, headers: { Host: host } });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toContain(`${SESSION_COOKIE}=${server.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await request(server.port, { headers: { Host: host, Cookie: `${SESSION_COOKIE}=${server.token}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Facet test');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const wrong = await request(server.port, { path: '/?token=bad', headers: { Host: host } });
    expect(wrong.status).toBe(401);
  });

  it('serves only files inside the renderer folder', async () => {
    expect((await request(server.port, { path: '/assets/app.js', headers: auth })).status).toBe(200);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/nope.js']) {
      const res = await request(server.port, { path: p, headers: auth });
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('outside the renderer');
    }
  });

  it('serves catalogued originals by hash and nothing else', async () => {
    const file = path.join(tmp.dir, 'face.png');
    const data = await noiseImage(3);
    writeFileSync(file, data);
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [file], recursive: true } }).id);
    expect(job.state).toBe('succeeded');
    const [original] = engine.catalog.listOriginals(0, 1).items;
    const res = await request(server.port, { path: `/media/${original!.sha256}`, headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(Number(res.headers['content-length'])).toBe(data.length);
    expect((await request(server.port, { path: `/media/${'a'.repeat(64)}`, headers: auth })).status).toBe(404);
    expect((await request(server.port, { path: '/media/..%2f..%2fcatalog.sqlite', headers: auth })).status).toBe(400);
    // Its thumbnail comes from the catalog, as WebP; unknown hashes and non-hashes are refused.
    const thumb = await request(server.port, { path: `/thumbs/${original!.sha256}`, headers: auth });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect(Number(thumb.headers['content-length'])).toBeGreaterThan(0);
    expect((await request(server.port, { path: `/thumbs/${'b'.repeat(64)}`, headers: auth })).status).toBe(404);
    expect((await request(server.port, { path: '/thumbs/xyz', headers: auth })).status).toBe(400);
    expect((await request(server.port, { path: `/thumbs/${original!.sha256}` })).status).toBe(401);
  });

  it('pushes job events over an authenticated WebSocket and refuses others', async () => {
    const url = `ws://${host}/events`;
    const refused = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await refused({})).toBe(401);
    expect(await refused({ Authorization: `Bearer ${server.token}`, Origin: 'https://evil.example' })).toBe(403);

    const ws = new WebSocket(url, { headers: { Cookie: `${SESSION_COOKIE}=${server.token}`, Origin: `http://${host}` } });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const states: string[] = [];
    const done = new Promise<void>((resolve) => {
      ws.on('message', (raw) => {
        const event = JSON.parse(String(raw));
        states.push(event.job.state);
        if (event.job.state === 'succeeded') resolve();
      });
    });
    const started = await call('jobs.start', { kind: 'store.verify', params: {} });
    expect(started.status).toBe(200);
    await done;
    expect(states[0]).toMatch(/queued|running/);
    expect(states.at(-1)).toBe('succeeded');
    ws.close();
  });
});
