import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { createRouter } from '../../src/main/transport/router';
import type { CatalogItem } from '../../src/shared/contract';
import { tempDir } from '../helpers/fixtures';
import { seedCatalog, syntheticRows, type SyntheticRow } from '../helpers/synthetic-catalog';

/** Paging, filtering and sorting of catalog.originals in SQL, on 10k synthetic portraits with a known ground truth. */
describe('catalog.originals: pages, filters and sorts 10k portraits in SQL', () => {
  const tmp = tempDir();
  let engine: Engine;
  let router: ReturnType<typeof createRouter>;
  const rows = syntheticRows(10_000, 7);
  const bySha = new Map(rows.map((r) => [r.sha256, r]));

  beforeAll(() => {
    engine = createEngine({ catalogDir: tmp.dir });
    seedCatalog(engine.catalog, rows);
    router = createRouter(engine.handlers);
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  const page = async (request: Record<string, unknown>): Promise<{ total: number; items: CatalogItem[] }> => {
    const res = await router.handle('catalog.originals', request);
    if (!res.ok) throw new Error(JSON.stringify(res.error));
    return res.data as { total: number; items: CatalogItem[] };
  };
  /** Every item matching a request, page by page. */
  const all = async (request: Record<string, unknown>): Promise<CatalogItem[]> => {
    const out: CatalogItem[] = [];
    for (let offset = 0; ; offset += 500) {
      const p = await page({ ...request, offset, limit: 500 });
      out.push(...p.items);
      if (out.length >= p.total) {
        expect(out.length).toBe(p.total);
        return out;
      }
    }
  };
  const primary = (r: SyntheticRow) => r.faces?.[0];

  it('pages through everything once, newest import first, with subject and primary-face quality', async () => {
    const items = await all({});
    expect(items.length).toBe(10_000);
    expect(new Set(items.map((i) => i.sha256)).size).toBe(10_000);
    const dates = items.map((i) => i.importedAt);
    expect(dates).toEqual([...dates].sort().reverse());
    for (const item of items.slice(0, 300)) {
      const r = bySha.get(item.sha256)!;
      expect(item.subject).toBe(r.subject);
      expect(item.faces).toBe(r.faces?.length ?? 0);
      expect(item.quality?.detectorScore ?? null).toBe(primary(r)?.score ?? null);
      if (r.faces?.length) expect(item.quality!.sharpness).toBeCloseTo(primary(r)!.sharpness, 6);
    }
  });

  it('filters by subject name (part of it, any case)', async () => {
    const name = rows.find((r) => r.subject)!.subject!;
    const expected = rows.filter((r) => r.subject === name).map((r) => r.sha256).sort();
    const got = await all({ subject: name.toLowerCase() });
    expect(got.map((i) => i.sha256).sort()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);
    // Part of a name: every Person_0001x.
    const part = await all({ subject: 'son_0001' });
    expect(part.length).toBe(rows.filter((r) => r.subject?.includes('son_0001')).length);
    expect(part.every((i) => i.subject!.includes('son_0001'))).toBe(true);
  });

  it('filters by quality signals of the primary face, combined', async () => {
    const want = { minDetectorScore: 0.8, minFaceSize: 100, minInterOcular: 40, minSharpness: 150 };
    const expected = rows
      .filter((r) => {
        const f = primary(r);
        return f && f.score >= want.minDetectorScore && f.width >= want.minFaceSize && f.interOcular >= want.minInterOcular && f.sharpness >= want.minSharpness;
      })
      .map((r) => r.sha256)
      .sort();
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(5000);
    const got = await all(want);
    expect(got.map((i) => i.sha256).sort()).toEqual(expected);
  });

  it('filters by whether faces were found, and by import date (a bare end date covers its day)', async () => {
    expect((await page({ faces: 'without', limit: 1 })).total).toBe(rows.filter((r) => r.faces?.length === 0).length);
    expect((await page({ faces: 'unanalysed', limit: 1 })).total).toBe(rows.filter((r) => r.faces === null).length);
    expect((await page({ faces: 'with', limit: 1 })).total).toBe(rows.filter((r) => r.faces?.length).length);
    const from = '2026-01-10';
    const to = '2026-01-20';
    const expected = rows.filter((r) => r.importedAt >= from && r.importedAt < '2026-01-21').length;
    expect(expected).toBeGreaterThan(500);
    const got = await all({ importedFrom: from, importedTo: to });
    expect(got.length).toBe(expected);
    expect(got.every((i) => i.importedAt >= from && i.importedAt < '2026-01-21')).toBe(true);
  });

  it('sorts by name, subject, detector score, face size and sharpness; faceless portraits last', async () => {
    const byName = (await page({ sort: 'name', limit: 50 })).items.map((i) => i.originalName);
    expect(byName).toEqual(rows.map((r) => r.name).sort().slice(0, 50));
    const scores = (await all({ sort: 'detector-score' })).map((i) => i.quality?.detectorScore ?? null);
    const withFace = scores.filter((s): s is number => s !== null);
    expect(withFace).toEqual([...withFace].sort((a, b) => b - a));
    expect(scores.slice(withFace.length).every((s) => s === null)).toBe(true);
    const sizes = (await page({ sort: 'face-size', limit: 100 })).items.map((i) => i.quality!.boxWidth);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const sharp = (await page({ sort: 'sharpness', limit: 100, offset: 1000 })).items.map((i) => i.quality!.sharpness!);
    expect(sharp).toEqual([...sharp].sort((a, b) => b - a));
    const subj = (await page({ sort: 'subject', limit: 100 })).items.map((i) => i.subject!);
    expect(subj).toEqual([...subj].sort());
  });

  it('uses the indexes for the quality filters rather than scanning every face', () => {
    const plan = engine.catalog.db
      .prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM faces f WHERE json_extract(f.quality, '$.sharpness') >= 390")
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING (COVERING )?INDEX faces_sharpness/);
  });

  it('rejects bad filters with a clear error and loses nothing', async () => {
    for (const [request, path] of [
      [{ minDetectorScore: 2 }, 'minDetectorScore'],
      [{ importedFrom: 'last tuesday' }, 'importedFrom'],
      [{ importedFrom: '2026-02-01', importedTo: '2026-01-01' }, 'importedFrom'],
      [{ sort: 'random' }, 'sort'],
      [{ limit: 5000 }, 'limit'],
      [{ subjectName: 'x' }, '(root)'],
    ] as const) {
      const res = await router.handle('catalog.originals', request);
      expect(res.ok).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe('invalid_request');
        expect(res.error.issues?.map((i) => i.path)).toContain(path);
      }
    }
    expect((await page({ limit: 1 })).total).toBe(10_000);
  });
});
