/**
 * subjects.maps (CAM beside PCAM on a characterized person's portrait) and the characterization
 * job's live loss curve, on real LFW portraits with the real models. The maps are checked against
 * an independent recomputation from the stored metric and the same feature maps.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { featureMaps, metricCentre, storedMetric } from '../../src/main/engine/analysis/characterize';
import { positiveShares } from '../../src/main/engine/analysis/characterize-maps';
import { camMap, pcamMap, trainCam } from '../../src/main/engine/analysis/pcam';
import { applySimilarity } from '../../src/main/engine/vision/align';
import { createRouter } from '../../src/main/transport/router';
import type { CharacterizeResult, FacetEvent, Res } from '../../src/shared/contract';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const LFW = path.join(SHARED_DATA, 'lfw/images');
type Maps = Res<'subjects.maps'>;

describe.skipIf(!hasSharedData)('CAM and PCAM maps of a characterized person, and the live loss curve', () => {
  const tmp = tempDir();
  let engine: Engine;
  let router: ReturnType<typeof createRouter>;
  let result: CharacterizeResult;
  const curves: number[][] = [];

  beforeAll(async () => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    router = createRouter(engine.handlers);
    const src = path.join(tmp.dir, 'people');
    for (const [person, count] of [['Colin_Powell', 5], ['Tony_Blair', 1], ['Serena_Williams', 1], ['Jennifer_Aniston', 1], ['Gerhard_Schroeder', 1]] as const) {
      mkdirSync(path.join(src, person), { recursive: true });
      for (let n = 1; n <= count; n++) copyFileSync(path.join(LFW, person, `${person}_000${n}.jpg`), path.join(src, person, `${person}_000${n}.jpg`));
    }
    const ingest = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [src], subjectFromFolder: true, analyze: true } }).id);
    expect(ingest.state).toBe('succeeded');
    const stop = engine.subscribe((e: FacetEvent) => {
      if (e.job.kind === 'subject.characterize' && e.job.progress.curve) curves.push(e.job.progress.curve.values);
    });
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params: { subject: 'Colin_Powell', epochs: 200, seed: 2 } }).id);
    stop();
    if (job.kind !== 'subject.characterize' || !job.result) throw new Error(`characterization failed: ${job.error?.message}`);
    result = job.result;
  }, 240_000);
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  const maps = async (request: Record<string, unknown>) => router.handle('subjects.maps', request);

  it('reports the hinge loss of every epoch in its progress, ending with the result\'s losses', () => {
    expect(curves.length).toBeGreaterThan(0);
    const last = curves.at(-1)!;
    expect(last).toEqual(result.losses);
    expect(result.losses).toHaveLength(200);
    // Each event's curve extends the one before (throttled events skip epochs, never reorder them).
    for (let i = 1; i < curves.length; i++) expect(curves[i]!.slice(0, curves[i - 1]!.length)).toEqual(curves[i - 1]);
  });

  it('returns CAM and PCAM on the feature grid, normalized to shares of their positive mass, and they differ', async () => {
    const res = await maps({ subject: 'Colin_Powell', sha256: result.mostRepresentative });
    if (!res.ok) throw new Error(JSON.stringify(res.error));
    const m = res.data as Maps;
    expect(m.role).toBe('most');
    expect(m.representativeness).toBeCloseTo(result.portraits[0]!.representativeness, 6);
    expect(m.grid).toEqual({ width: 7, height: 7 });
    expect(m.crop).toEqual({ width: 224, height: 224 });
    for (const map of [m.cam, m.pcam]) {
      expect(map).toHaveLength(49);
      expect(map.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(map.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    const l1 = m.cam.reduce((s, v, i) => s + Math.abs(v - m.pcam[i]!), 0);
    expect(l1).toBeGreaterThan(0.1);
    // Hair: a coarse coverage grid over the crop, with some hair on an LFW portrait.
    expect(m.hair.width * m.hair.height).toBe(m.hair.coverage.length);
    expect(m.hair.coverage.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(m.hair.coverage.filter((v) => v > 0.5).length).toBeGreaterThan(10);
    // The crop's centre falls inside the portrait's primary face box.
    const faces = engine.handlers['faces.list']({ sha256: m.sha256, landmarks: false }) as Res<'faces.list'>;
    const box = faces.faces[faces.primary!]!.box;
    const [cx, cy] = applySimilarity(m.cropToPhoto, [112, 112]);
    expect(cx).toBeGreaterThan(box.x);
    expect(cx).toBeLessThan(box.x + box.width);
    expect(cy).toBeGreaterThan(box.y);
    expect(cy).toBeLessThan(box.y + box.height);
  });

  it('agrees with a recomputation from the stored metric and the same feature maps', async () => {
    const inference = engine.inference();
    const entry = inference.registry.get('faceres');
    const mine = [...result.portraits.map((p) => p.sha256)].sort();
    const { maps: fm } = await featureMaps(engine.catalog, inference, entry, [...mine, ...result.arbitrary]);
    const shape = { z: 1024, w: 7, h: 7 };
    const stored = storedMetric(engine.catalog, 'Colin_Powell', entry.sha256)!;
    const metric = stored.model;
    // The stored centre (where weighted look-alikes measure from) is the person's portraits' mean under the metric.
    expect([...stored.portraits].sort()).toEqual(mine);
    const centre = metricCentre(metric, fm.slice(0, mine.length));
    for (const k of [0, 1]) expect(Math.abs(stored.centre![k]! - centre[k]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(centre[k]!)));
    const cam = trainCam(fm.slice(0, mine.length), fm.slice(mine.length), shape);
    for (const sha of [result.leastRepresentative, result.arbitrary[0]!]) {
      const res = await maps({ subject: 'Colin_Powell', sha256: sha });
      if (!res.ok) throw new Error(JSON.stringify(res.error));
      const m = res.data as Maps;
      expect(m.role).toBe(sha === result.leastRepresentative ? 'least' : 'arbitrary');
      const f = fm[[...mine, ...result.arbitrary].indexOf(sha)]!;
      const pcam = positiveShares(pcamMap(metric, f, 0));
      const camRef = positiveShares(camMap(cam, f, shape));
      m.pcam.forEach((v, i) => expect(v).toBeCloseTo(pcam[i]!, 5));
      m.cam.forEach((v, i) => expect(v).toBeCloseTo(camRef[i]!, 4));
    }
  }, 60_000);

  it('refuses what it cannot answer, with clear errors', async () => {
    const shaOfOther = result.arbitrary[0]!;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ subject: 'Tony_Blair', sha256: shaOfOther }, 'not_found', /"Tony_Blair" has no characterization/],
      [{ subject: 'Colin_Powell', sha256: 'f'.repeat(64) }, 'not_found', /no original ffffffffffff/],
      [{ subject: 'Colin_Powell', sha256: 'xyz' }, 'invalid_request', /SHA-256/],
      [{ subject: 'Colin_Powell', sha256: shaOfOther, recognizer: 'blazeface' }, 'invalid_request', /not a recognizer/],
    ];
    for (const [request, code, message] of cases) {
      const res = await maps(request);
      expect(res.ok).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe(code);
        expect(`${res.error.message} ${JSON.stringify(res.error.issues ?? [])}`).toMatch(message);
      }
    }
  });

  it('cancels training between epochs (the runtime trainer yields after each), keeping the curve so far', async () => {
    const job = engine.jobs.start({ kind: 'subject.characterize', params: { subject: 'Colin_Powell', epochs: 5000, seed: 9 } });
    await new Promise<void>((resolve) => {
      const stop = engine.subscribe((e) => {
        if (e.job.id === job.id && (e.job.progress.curve?.values.length ?? 0) >= 5) {
          stop();
          resolve();
        }
      });
    });
    engine.jobs.cancel(job.id);
    const done = await engine.jobs.waitFor(job.id);
    expect(done.state).toBe('cancelled');
    expect(done.progress.curve!.values.length).toBeGreaterThanOrEqual(5);
    expect(done.progress.curve!.values.length).toBeLessThan(5000);
    // A clean stop, not the grace-period kill: the job returned what it had learned so far.
    if (done.kind !== 'subject.characterize') throw new Error('wrong kind');
    expect(done.result!.losses).toEqual(done.progress.curve!.values);
  }, 120_000);
});
