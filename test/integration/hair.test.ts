/** Hair in aligned crops, from the person segmentation minus the face, checked on real portraits. */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alignedFace } from '../../src/main/engine/analysis/aligned-face';
import { Catalog } from '../../src/main/engine/catalog/catalog';
import { InferenceService } from '../../src/main/engine/models/inference';
import { hairMask } from '../../src/main/engine/vision/hair';
import { partMasks } from '../../src/main/engine/vision/parts';
import { REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

describe('hair masks', () => {
  const tmp = tempDir();
  const catalog = Catalog.open(path.join(tmp.dir, 'catalog'));
  const inference = new InferenceService({ modelsDir: path.join(REPO_ROOT, 'resources/models') });
  afterAll(async () => {
    await inference.close();
    catalog.close();
    tmp.cleanup();
  });

  it('lies above and around the face, never on it, and covers a plausible share of the crop', async () => {
    const entry = inference.registry.get('faceres');
    for (const person of ['George_W_Bush', 'Colin_Powell']) {
      const face = await alignedFace({ path: path.join(SHARED_DATA, 'lfw/images', person, `${person}_0001.jpg`) }, { catalog, inference }, entry, 'centre');
      const hair = await hairMask(face.crop255, 224, face.mesh, inference);
      const area = hair.reduce((a, b) => a + b, 0) / hair.length;
      expect(area, person).toBeGreaterThan(0.03);
      expect(area, person).toBeLessThan(0.5);
      // No facial part under the hair mask.
      for (const part of partMasks(face.mesh, 224, 224).filter((p) => p.name !== 'outline')) {
        let shared = 0;
        for (let i = 0; i < hair.length; i++) shared += hair[i]! * part.mask[i]!;
        expect(shared, `${person} ${part.name}`).toBe(0);
      }
      // Its centre of mass is above the eyes.
      let sy = 0;
      for (let i = 0; i < hair.length; i++) sy += hair[i]! * Math.floor(i / 224);
      const eyesY = (face.mesh[33]![1] + face.mesh[263]![1]) / 2;
      expect(sy / (area * hair.length), person).toBeLessThan(eyesY);
    }
  }, 60_000);
});
