/**
 * Reviewer records on real analysed portraits: primary face, annotations, decisions with the
 * evidence Facet computed (not what the client claims), supersession, and the analyses cache.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { getAnalysis, putAnalysis } from '../../src/main/engine/catalog/analyses';
import { createRouter } from '../../src/main/transport/router';
import { REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const DEMO = path.join(REPO_ROOT, 'node_modules/@vladmandic/face-api/demo');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

describe('review records', () => {
  const tmp = tempDir();
  let engine: Engine;
  type Reply = { ok: boolean; data?: never; error?: { code: string; message: string } };
  let call: (method: string, payload: unknown) => Promise<Reply>;
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    const router = createRouter(engine.handlers);
    call = (method, payload) => router.handle(method, payload) as Promise<Reply>;
    const files = [lfw('Colin_Powell', 1), lfw('Colin_Powell', 2), path.join(DEMO, 'sample1.jpg')];
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: files, analyze: true, recognizers: ['faceres', 'mobileface'] } }).id);
    expect(job.state).toBe('succeeded');
    for (const o of engine.catalog.listOriginals(0, 10).items) sha[o.originalName] = o.sha256;
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('lists faces largest first; the primary face can be changed (audited) and drives verification', async () => {
    const group = sha['sample1.jpg']!;
    const listed = await call('faces.list', { sha256: group });
    const { primary, faces } = listed.data as unknown as { primary: number; faces: { idx: number; box: { width: number; height: number } }[] };
    expect(primary).toBe(0);
    expect(faces.length).toBeGreaterThanOrEqual(3);
    expect(faces[0]!.box.width * faces[0]!.box.height).toBeGreaterThanOrEqual(faces[1]!.box.width * faces[1]!.box.height);
    expect((await call('faces.setPrimary', { sha256: group, face: 99 })).error?.message).toMatch(/has no face 99/);
    expect((await call('faces.setPrimary', { sha256: group, face: 2 })).ok).toBe(true);
    expect(((await call('faces.list', { sha256: group })).data as unknown as { primary: number }).primary).toBe(2);
    const v = await call('verify.pair', { a: { sha256: group }, b: { sha256: group, face: 0 }, recognizers: ['faceres'] });
    const r = v.data as unknown as { a: { face: number; source: string }; b: { face: number }; systems: { score: number }[] };
    expect([r.a.face, r.b.face, r.a.source]).toEqual([2, 0, 'catalog']);
    expect(r.systems[0]!.score).toBeLessThan(0.6); // two different people in one photo
    expect(engine.catalog.audit.list(5).map((e) => e.action)).toContain('portrait.primary');
  });

  it('annotations attach to existing targets only, with author and region', async () => {
    const target = { kind: 'portrait', id: sha['Colin_Powell_0001.jpg'] };
    const added = await call('annotations.add', { target, body: 'scar above the left eyebrow', region: { x: 100, y: 90, width: 20, height: 10 } });
    expect(added.ok, JSON.stringify(added.error)).toBe(true);
    const list = (await call('annotations.list', { target })).data as unknown as { body: string; author: string; region: unknown }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ body: 'scar above the left eyebrow', region: { x: 100, y: 90, width: 20, height: 10 } });
    expect(list[0]!.author.length).toBeGreaterThan(0);
    expect((await call('annotations.add', { target: { kind: 'face', id: '99999' }, body: 'x' })).error).toMatchObject({ code: 'not_found' });
    expect((await call('annotations.add', { target: { kind: 'portrait', id: '42' }, body: 'x' })).error?.code).toBe('invalid_request');
    expect((await call('annotations.add', { target, body: '   ' })).error?.code).toBe('invalid_request');
  });

  it('records decisions with recomputed evidence; a revision supersedes, nothing is ever edited', async () => {
    const faceOf = async (name: string) => ((await call('faces.list', { sha256: sha[name] })).data as unknown as { faces: { id: number }[] }).faces[0]!.id;
    const a = await faceOf('Colin_Powell_0001.jpg');
    const b = await faceOf('Colin_Powell_0002.jpg');
    const examiner = 'Ana Ruiz';
    expect((await call('assessments.record', { faceA: a, faceB: b, examiner, kind: 'skipped' })).ok).toBe(true);
    const first = await call('decisions.record', { faceA: a, faceB: b, conclusion: 'inconclusive', rationale: 'lighting differs', examiner });
    expect(first.ok, JSON.stringify(first.error)).toBe(true);
    const d1 = first.data as unknown as { id: number; evidence: { systems: { system: string; score: number; decision: string }[] } };
    // Evidence is what Facet computes for the pair: both models, and the same person scores high.
    expect(d1.evidence.systems.map((s) => s.system)).toEqual(expect.arrayContaining(['faceres', 'mobileface']));
    expect(d1.evidence.systems.find((s) => s.system === 'faceres')!.score).toBeGreaterThan(0.5);
    const second = await call('decisions.record', { faceA: b, faceB: a, conclusion: 'same', rationale: 'ear shape and moles agree', supersedes: d1.id, examiner });
    expect(second.ok, JSON.stringify(second.error)).toBe(true);
    expect((await call('decisions.record', { faceA: a, faceB: b, conclusion: 'different', rationale: 'again', supersedes: d1.id, examiner })).error?.code).toBe('conflict');
    expect((await call('decisions.record', { faceA: a, faceB: a, conclusion: 'same', rationale: 'self', examiner })).error?.message).toMatch(/two different faces/);
    expect((await call('decisions.record', { faceA: a, faceB: b, conclusion: 'maybe', rationale: 'x', examiner })).error?.code).toBe('invalid_request');
    const list = (await call('decisions.list', { face: a, examiner })).data as unknown as { id: number; supersededBy: number | null; conclusion: string }[];
    expect(list.map((d) => [d.conclusion, d.supersededBy])).toEqual([
      ['same', null],
      ['inconclusive', list[0]!.id],
    ]);
    // Behind Facet's back, the table refuses edits and deletions.
    expect(() => engine.catalog.db.prepare("UPDATE decisions SET conclusion = 'different'").run()).toThrow(/never edited/);
    expect(() => engine.catalog.db.prepare('DELETE FROM decisions').run()).toThrow(/never deleted/);
    expect(engine.catalog.audit.verify().ok).toBe(true);
  });

  it('caches analyses by exactly what produced them', () => {
    const spec = { kind: 'pair-difference', inputs: { a: 1, b: 2 }, params: { patch: 16, stride: 4 }, models: { faceres: 'a'.repeat(64) } };
    expect(getAnalysis(engine.catalog, spec)).toBeUndefined();
    const id = putAnalysis(engine.catalog, spec, { max: 0.5 }, Uint8Array.from([1, 2, 3]));
    // Key order does not matter; any change of parameter or model hash misses.
    const hit = getAnalysis(engine.catalog, { ...spec, params: { stride: 4, patch: 16 } });
    expect(hit).toMatchObject({ id, result: { max: 0.5 } });
    expect([...hit!.payload!]).toEqual([1, 2, 3]);
    expect(getAnalysis(engine.catalog, { ...spec, params: { patch: 16, stride: 2 } })).toBeUndefined();
    expect(getAnalysis(engine.catalog, { ...spec, models: { faceres: 'b'.repeat(64) } })).toBeUndefined();
    expect(putAnalysis(engine.catalog, spec, { max: 0.6 })).toBe(id);
  });
});
