/**
 * The engine's look-alike search switches from exact to the HNSW index above its size limit (set
 * low here), says so in the response, gives the same ranking on a small real catalog, keeps the
 * characterization-weighted variant working, and keeps the built index in the catalog's cache.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Res } from '../../src/shared/contract';
import { createEngine, type Engine } from '../../src/main/engine';
import { defaultExactLimit } from '../../src/main/engine/analysis/lookalikes';
import { createRouter } from '../../src/main/transport/router';
import { REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

type LookalikesRes = Res<'lookalikes.query'>;
const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const LFW = path.join(SHARED_DATA, 'lfw/images');
const QUERY = { path: path.join(LFW, 'Colin_Powell', 'Colin_Powell_0001.jpg') };

describe('look-alike search: exact below the limit, HNSW index above', () => {
  const tmp = tempDir();
  const catalogDir = path.join(tmp.dir, 'catalog');
  let engine: Engine | undefined;
  const call = async (e: Engine, payload: unknown): Promise<LookalikesRes> => {
    const r = (await createRouter(e.handlers).handle('lookalikes.query', payload)) as { ok: boolean; data?: LookalikesRes; error?: { message: string } };
    if (!r.ok) throw new Error(r.error?.message);
    return r.data!;
  };

  beforeAll(async () => {
    engine = createEngine({ catalogDir, modelsDir: MODELS_DIR });
    const src = path.join(tmp.dir, 'people');
    const copy = (person: string, count: number) => {
      mkdirSync(path.join(src, person), { recursive: true });
      for (let n = 1; n <= count; n++) {
        const name = `${person}_${String(n).padStart(4, '0')}.jpg`;
        copyFileSync(path.join(LFW, person, name), path.join(src, person, name));
      }
    };
    copy('Colin_Powell', 6);
    copy('George_W_Bush', 4);
    copy('Tony_Blair', 3);
    for (const p of readdirSync(LFW).filter((p) => existsSync(path.join(LFW, p, `${p}_0001.jpg`))).slice(0, 6)) copy(p, 1);
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [src], subjectFromFolder: true, analyze: true } }).id);
    expect(job.state).toBe('succeeded');
  }, 240_000);
  afterAll(async () => {
    await engine?.close();
    tmp.cleanup();
  });

  it('switches at the limit, says which search answered, and ranks the same', async () => {
    const exact = await call(engine!, { face: QUERY, limit: 8 });
    expect(exact.searched).toBeGreaterThan(10);
    // faceres embeddings have 1024 values.
    expect(exact.search).toEqual({ method: 'exact', exactLimit: defaultExactLimit(1024), index: 'none', candidates: exact.searched });
    expect(exact.results).toHaveLength(8);
    expect(exact.results.every((h) => h.subject !== 'Colin_Powell')).toBe(true);
    await engine!.close();

    // The same catalog with a limit below its size: the first query starts the build and is answered exactly.
    engine = createEngine({ catalogDir, modelsDir: MODELS_DIR, lookalikeExactLimit: 5 });
    const first = await call(engine, { face: QUERY, limit: 8 });
    expect(first.search).toEqual({ method: 'exact', exactLimit: 5, index: 'building', candidates: exact.searched });
    expect(first.results).toEqual(exact.results);
    let later = first;
    await expect
      .poll(async () => (later = await call(engine!, { face: QUERY, limit: 8 })).search.method, { timeout: 30_000, interval: 100 })
      .toBe('hnsw');
    // A catalog this small fits in the candidates: every face is re-ranked exactly, so nothing differs.
    expect(later.search).toEqual({ method: 'hnsw', exactLimit: 5, index: 'ready', candidates: exact.searched });
    expect(later.results.map((h) => [h.faceId, h.score])).toEqual(exact.results.map((h) => [h.faceId, h.score]));
    const saved = readdirSync(path.join(catalogDir, 'cache', 'lookalikes'));
    expect(saved.filter((f) => f.startsWith('lookalikes-faceres-') && f.endsWith('.usearch'))).toHaveLength(1);
  }, 120_000);

  it('re-ranks the index candidates by the characterization metric (weighted)', async () => {
    const job = await engine!.jobs.waitFor(engine!.jobs.start({ kind: 'subject.characterize', params: { subject: 'Colin_Powell', arbitrary: 6, epochs: 60, seed: 3, trainer: 'typescript' } }).id);
    expect(job.state).toBe('succeeded');
    const weighted = await call(engine!, { face: QUERY, limit: 4, weighted: true });
    expect(weighted.search.method).toBe('hnsw');
    expect(weighted.weighted).toBe(true);
    const distances = weighted.results.map((h) => h.metricDistance!);
    expect(distances).toHaveLength(4);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(weighted.results.every((h) => h.subject !== 'Colin_Powell')).toBe(true);
  }, 120_000);
});
