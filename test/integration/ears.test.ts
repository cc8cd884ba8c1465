/**
 * Ears where visible, on real LFW crops: beside the face on the right side of the image for the
 * subject's left ear and vice versa, outside the face, and withdrawn when the ear region is
 * covered (painted hair-dark: still "person" to the segmenter, but not skin) or when the head is
 * turned away from that side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignedFace, type AlignedFace } from '../../src/main/engine/analysis/aligned-face';
import { Catalog } from '../../src/main/engine/catalog/catalog';
import { InferenceService } from '../../src/main/engine/models/inference';
import { earMasks } from '../../src/main/engine/vision/ears';
import { personMask } from '../../src/main/engine/vision/hair';
import { fillPolygon, MESH_PARTS } from '../../src/main/engine/vision/parts';
import { REPO_ROOT, SHARED_DATA, hasSharedData } from '../helpers/fixtures';

describe.skipIf(!hasSharedData)('ear masks', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-ears-'));
  let catalog: Catalog;
  let inference: InferenceService;
  const size = 112;
  const face = async (person: string): Promise<AlignedFace> =>
    alignedFace({ path: path.join(SHARED_DATA, 'lfw/images', person, `${person}_0001.jpg`) }, { catalog, inference }, inference.registry.get('mobileface'), 'centre');
  beforeAll(() => {
    catalog = Catalog.open(work);
    inference = new InferenceService({ modelsDir: path.join(REPO_ROOT, 'resources/models') });
  });
  afterAll(async () => {
    await inference.close();
    catalog.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('finds both ears of a frontal face beside it, outside the face oval', async () => {
    const f = await face('Donald_Rumsfeld');
    const ears = earMasks(f.crop255, size, f.mesh, await personMask(f.crop255, size, inference));
    expect(ears.map((e) => e.visible)).toEqual([true, true]);
    const oval = fillPolygon(MESH_PARTS.faceOval.map((i) => f.mesh[i]!), size, size);
    const noseX = f.mesh[1]![0];
    for (const e of ears) {
      let n = 0;
      let cx = 0;
      let inside = 0;
      e.mask.forEach((v, p) => {
        if (!v) return;
        n++;
        cx += p % size;
        inside += oval[p]! > 0.5 ? 1 : 0;
      });
      expect(n).toBe(e.area);
      expect(inside).toBe(0);
      // The subject's right ear is on the image's left.
      if (e.side === 'right') expect(cx / n).toBeLessThan(noseX - 25);
      else expect(cx / n).toBeGreaterThan(noseX + 25);
    }
  });

  it('withdraws an ear that is covered or turned away', async () => {
    const f = await face('Donald_Rumsfeld');
    const person = await personMask(f.crop255, size, inference);
    // Paint the image-left quarter hair-dark: the subject's right ear is covered.
    const covered = Float32Array.from(f.crop255);
    for (let p = 0; p < size * size; p++) {
      if (p % size < 28) covered.set([55, 40, 30], p * 3);
    }
    const [right, left] = earMasks(covered, size, f.mesh, person);
    expect(right!.visible).toBe(false);
    expect(right!.reason).toMatch(/covered/);
    expect(left!.visible).toBe(true);
    // Tony Blair's first LFW portrait is turned to his right: that ear is behind his head.
    const t = await face('Tony_Blair');
    const [tr] = earMasks(t.crop255, size, t.mesh, await personMask(t.crop255, size, inference));
    expect(tr!.visible).toBe(false);
    expect(tr!.reason).toMatch(/turned/);
    expect(tr!.area).toBe(0);
  });

  it('rejects landmarks that are not a FaceMesh', () => {
    expect(() => earMasks(new Float32Array(size * size * 3), size, [[0, 0]], new Float32Array(size * size))).toThrow(/468/);
  });
});
