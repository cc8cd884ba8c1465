import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Handlers } from '../../src/main/engine';
import { createRouter } from '../../src/main/transport/router';
import { LATEST_SCHEMA_VERSION } from '../../src/main/engine/catalog/migrations';
import { METHOD_NAMES } from '../../src/shared/contract';
import { tempDir } from '../helpers/fixtures';

describe('router: the one validation point of every door', () => {
  const tmp = tempDir();
  let engine: Engine;
  let router: ReturnType<typeof createRouter>;

  beforeAll(() => {
    engine = createEngine({ catalogDir: tmp.dir });
    router = createRouter(engine.handlers);
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('answers a valid call with the engine data', async () => {
    const res = await router.handle('app.info', {});
    expect(res).toMatchObject({ ok: true, data: { name: 'Facet', catalogDir: tmp.dir, schemaVersion: LATEST_SCHEMA_VERSION } });
  });

  it('rejects an unknown method, naming the known ones', async () => {
    const res = await router.handle('jobs.explode', {});
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe('unknown_method');
    for (const m of METHOD_NAMES) expect(res.error.message).toContain(m);
  });

  it.each([
    ['a relative path', { kind: 'store.ingest', params: { paths: ['photos'] } }, 'params.paths.0', 'absolute'],
    ['no paths', { kind: 'store.ingest', params: { paths: [] } }, 'params.paths', 'at least one'],
    ['an unknown kind', { kind: 'store.format', params: {} }, 'kind', ''],
    ['an extra field', { kind: 'store.verify', params: { force: true } }, 'params', ''],
    ['a wrong type', { kind: 'store.ingest', params: { paths: ['/x'], recursive: 'yes' } }, 'params.recursive', ''],
  ])('rejects %s with a typed validation error and issue paths', async (_label, payload, path, words) => {
    const res = await router.handle('jobs.start', payload);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe('invalid_request');
    const issue = res.error.issues?.find((i) => i.path === path);
    expect(issue, JSON.stringify(res.error.issues)).toBeDefined();
    expect(issue?.message).toContain(words);
  });

  it('rejects a non-object payload', async () => {
    for (const payload of ['x', 42, [1], null]) {
      const res = await router.handle('jobs.get', payload);
      expect(res.ok).toBe(false);
    }
  });

  it('fills defaults before the engine sees a request', async () => {
    const res = await router.handle('catalog.originals', {});
    expect(res).toEqual({ ok: true, data: { total: 0, items: [] } });
  });

  it('maps engine errors to their contract code', async () => {
    const res = await router.handle('jobs.get', { id: 'job-doesnotexist' });
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('refuses to return a response that breaks the contract', async () => {
    const logged: string[] = [];
    const broken = {
      ...engine.handlers,
      'catalog.stats': () => ({ originals: 'many' }) as unknown as { originals: number; bytes: number },
    } satisfies Handlers;
    const res = await createRouter(broken, { log: (m) => logged.push(m) }).handle('catalog.stats', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(logged).toEqual(['Response of catalog.stats broke the contract']);
  });
});
