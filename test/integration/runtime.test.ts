import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/main/engine';
import { InferenceService } from '../../src/main/engine/models/inference';
import { chooseProvider } from '../../src/main/engine/models/providers';
import { ModelRegistry } from '../../src/main/engine/models/registry';
import { REPO_ROOT, tempDir } from '../helpers/fixtures';
import { facePhotos, rgbFloat } from '../helpers/images';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');

describe('inference runtime', () => {
  const tmp = tempDir();
  const service = new InferenceService({ modelsDir: MODELS_DIR, maxBatch: 4 });
  afterAll(async () => {
    await service.close();
    tmp.cleanup();
  });

  it('chooses a provider and says why the faster ones were not used', async () => {
    const choice = await chooseProvider('auto');
    expect(['cuda', 'webgpu', 'cpu']).toContain(choice.provider);
    expect(choice.attempts.at(-1)).toMatchObject({ provider: choice.provider, ok: true });
    for (const failed of choice.attempts.slice(0, -1)) {
      expect(failed.ok).toBe(false);
      expect(failed.reason.length).toBeGreaterThan(10);
    }
    // A forced CPU choice never tries the GPU providers.
    expect((await chooseProvider('cpu')).attempts.map((a) => a.provider)).toEqual(['cpu']);
  });

  it('batches concurrent single-image requests and gives each caller its own result', async () => {
    const photos = facePhotos().slice(0, 3);
    const images = await Promise.all(photos.map((p) => rgbFloat(p.file, 224, 224, p.region)));
    const single = await Promise.all(images.map((img) => service.run('faceres', img.slice())));
    const separately: Float32Array[] = [];
    for (const img of images) separately.push((await service.runBatch('faceres', img.slice(), 1))['embedding']!.data);
    single.forEach((out, i) => {
      expect(out['embedding']!.dims).toEqual([1, 1024]);
      expect(out['feature_map']!.dims).toEqual([1, 1024, 7, 7]);
      const a = out['embedding']!.data;
      const b = separately[i]!;
      let max = 0;
      for (let k = 0; k < a.length; k++) max = Math.max(max, Math.abs(a[k]! - b[k]!));
      expect(max).toBeLessThan(1e-4);
    });
    // Different people, different embeddings: the split did not mix callers up.
    expect(single[0]!['embedding']!.data[0]).not.toBe(single[2]!['embedding']!.data[0]);
    const info = await service.info();
    expect(info.sessions.map((s) => s.id)).toContain('faceres');
  });

  it('runs fixed-batch graphs (blazeface, selfie) one image at a time, even when called concurrently', async () => {
    const photos = facePhotos().slice(0, 3);
    const images = await Promise.all(photos.map((p) => rgbFloat(p.file, 256, 256)));
    const together = await Promise.all(images.map((img) => service.run('blazeface', img.slice())));
    const alone = await service.run('blazeface', images[2]!.slice());
    expect(together).toHaveLength(3);
    expect(together[2]!['scores_16']!.data).toEqual(alone['scores_16']!.data);
    await expect(service.runBatch('blazeface', new Float32Array(2 * 256 * 256 * 3), 2)).rejects.toThrow(/blazeface runs one image at a time; got a batch of 2/);
  });

  it('rejects wrong input sizes and unknown models clearly', async () => {
    await expect(service.run('faceres', new Float32Array(10))).rejects.toThrow(/faceres takes 224x224x3 values; got 10/);
    expect(() => service.registry.get('arcface-xl')).toThrow(/No model "arcface-xl". Known: .*faceres/);
  });

  it('refuses a model file that does not match its manifest hash', () => {
    const dir = path.join(tmp.dir, 'models');
    cpSync(MODELS_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.onnx') || src.endsWith('iris.onnx') });
    const file = path.join(dir, 'iris.onnx');
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(file, bytes);
    const registry = new ModelRegistry(dir);
    expect(() => registry.load('iris')).toThrow(/does not match the manifest's SHA-256/);
    expect(registry.status(true).find((s) => s.entry.id === 'iris')?.verified).toBe(false);
    expect(registry.status().find((s) => s.entry.id === 'faceres')?.present).toBe(false);
    copyFileSync(path.join(MODELS_DIR, 'iris.onnx'), file);
    expect(new ModelRegistry(dir).load('iris').length).toBeGreaterThan(0);
  });

  it('doctor reports models, hashes and the provider through the contract', async () => {
    const engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    try {
      const report = await engine.handlers['app.doctor']({ verify: true });
      expect(report.problems).toEqual([]);
      expect(report.runtime?.provider).toBeDefined();
      expect(report.models.map((m) => m.id)).toEqual(expect.arrayContaining(['faceres', 'mobileface', 'blazeface', 'facemesh']));
      expect(report.models.every((m) => m.verified)).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
