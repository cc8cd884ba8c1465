/**
 * Pair-difference maps on real faces with the real recognizer, judged against ground truth we
 * construct: identical faces differ nowhere, and a face with one part swapped in from another
 * person differs there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { alignedFace, type AlignedFace } from '../../src/main/engine/analysis/aligned-face';
import { maxDelta } from '../../src/main/engine/analysis/pair-diff';
import { diffFaces, INTERACTIVE, loadThetas } from '../../src/main/engine/analysis/pair-diff-service';
import { toModelRange } from '../../src/main/engine/vision/pipeline';
import { partMasks, PART_NAMES } from '../../src/main/engine/vision/parts';
import { partSwap } from '../../src/main/engine/vision/part-swap';
import { createRouter } from '../../src/main/transport/router';
import { REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

describe('pair-difference maps on real faces', () => {
  const tmp = tempDir();
  let engine: Engine;
  type Reply = { ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };
  let call: (method: string, payload: unknown) => Promise<Reply>;
  beforeAll(() => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    const router = createRouter(engine.handlers);
    call = (method, payload) => router.handle(method, payload) as Promise<Reply>;
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('a face against itself differs nowhere', async () => {
    const r = await call('diff.pair', { a: { path: lfw('Tony_Blair', 1) }, b: { path: lfw('Tony_Blair', 1) } });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.data!.distance as number).toBeLessThan(1e-5);
    expect(r.data!.maxDelta as number).toBeLessThan(1e-4);
  });

  it('part swaps: the swapped part is where the map puts the difference', async () => {
    const entry = engine.inference().registry.get(INTERACTIVE.recognizer);
    const { width, height } = entry.input;
    const ctx = { catalog: engine.catalog, inference: engine.inference() };
    const thetas = loadThetas(MODELS_DIR);
    const people: [string, string][] = [
      ['Colin_Powell', 'Tony_Blair'],
      ['George_W_Bush', 'Serena_Williams'],
    ];
    let hits = 0;
    let trials = 0;
    for (const [pa, pb] of people) {
      const a = await alignedFace({ path: lfw(pa, 1) }, ctx, entry, 'centre');
      const b = await alignedFace({ path: lfw(pb, 1) }, ctx, entry, 'centre');
      const masks = partMasks(a.mesh, width, height);
      for (const part of ['eyes', 'nose', 'mouth', 'chin'] as const) {
        const mask = masks[PART_NAMES.indexOf(part)]!.mask;
        const swapped = partSwap(a.crop255, b.crop255, width, height, mask, { inside: true });
        // The ground truth: nothing outside the part changed.
        for (let p = 0; p < mask.length; p++) if (!mask[p]) expect(swapped[p * 3]).toBe(a.crop255[p * 3]);
        const aPrime: AlignedFace = { ...a, crop255: swapped, crop: toModelRange(swapped, entry.input.range) };
        const r = await diffFaces(a, aPrime, entry, ctx.inference, INTERACTIVE, thetas);
        const rank = r.parts.find((p) => p.part === part)!.rank;
        trials++;
        if (rank === 1) hits++;
        expect(rank, `${pa} with ${pb}'s ${part}: ${r.parts.map((p) => p.part).join(' > ')}`).toBeLessThanOrEqual(2);
        // Outside every face part the map stays near zero compared with its peak.
        expect(maxDelta(r.delta)).toBeGreaterThan(0);
      }
    }
    console.log(`part swaps: swapped part ranked first in ${hits}/${trials}`);
    expect(hits).toBeGreaterThanOrEqual(trials - 1);
  }, 120_000);

  it('writes overlays with a legend, the map and JSON; a second request comes from the catalog', async () => {
    const out = path.join(tmp.dir, 'diff');
    const req = { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('Colin_Powell', 1) }, outDir: out };
    const first = await call('diff.pair', req);
    expect(first.ok, JSON.stringify(first.error)).toBe(true);
    const d = first.data!;
    expect(d.cached).toBe(false);
    expect((d.map as number[]).length).toBe(112 * 112);
    expect((d.map as number[]).every((v) => v >= 0 && v <= 1)).toBe(true);
    expect((d.parts as { part: string }[]).map((p) => p.part).sort()).toEqual([...PART_NAMES].sort());
    for (const name of ['overlay-a.png', 'overlay-b.png']) {
      const meta = await sharp(path.join(out, name)).metadata();
      expect(meta.width).toBe(250);
      expect(meta.height).toBeGreaterThan(250); // the legend sits under the photo
    }
    expect((await sharp(path.join(out, 'heatmap.png')).metadata()).width).toBe(224);
    const json = JSON.parse(readFileSync(path.join(out, 'diff.json'), 'utf8')) as { signedDelta: number[]; distance: number };
    expect(json.signedDelta).toHaveLength(112 * 112);
    expect(json.signedDelta.some((v) => v < 0)).toBe(true); // the signed map keeps what makes them similar
    const stored = () => (engine.catalog.db.prepare("SELECT count(*) AS n FROM analyses WHERE kind = 'pair-difference'").get() as { n: number }).n;
    const before = stored();
    const again = await call('diff.pair', { ...req, outDir: undefined });
    expect(again.data!.cached).toBe(true);
    expect(again.data!.map).toEqual(d.map);
    expect(stored()).toBe(before);
  }, 60_000);

  it('one-sided maps and clear errors', async () => {
    const oneSided = await call('diff.pair', { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('Colin_Powell', 1) }, mode: 'a' });
    expect(oneSided.ok, JSON.stringify(oneSided.error)).toBe(true);
    expect((oneSided.data!.settings as { mode: string }).mode).toBe('a');
    const big = await call('diff.pair', { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('Colin_Powell', 1) }, patch: 120 });
    expect(big.error?.message).toMatch(/does not fit mobileface's 112-pixel crop/);
    const det = await call('diff.pair', { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('Colin_Powell', 1) }, recognizer: 'blazeface' });
    expect(det.error?.message).toMatch(/not a recognizer/);
    const missing = await call('diff.pair', { a: { path: path.join(tmp.dir, 'none.jpg') }, b: { path: lfw('Colin_Powell', 1) } });
    expect(missing.error?.message).toMatch(/first image: cannot read/);
  }, 60_000);
});
