/**
 * Backward graphs of the bundled recognizers on real aligned LFW faces: the vanilla gradient
 * against central finite differences of f(x) = <seed, embedding(x)>, batch 2 against batch 1, and
 * every rule giving a finite, non-constant map with the feature map's signal in its shape.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignedFace } from '../../src/main/engine/analysis/aligned-face';
import { Catalog } from '../../src/main/engine/catalog/catalog';
import { InferenceService } from '../../src/main/engine/models/inference';
import { buildBackwardModel, type BackwardRule } from '../../src/main/engine/saliency/backward';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { normals } from '../helpers/math';

const MODELS = path.join(REPO_ROOT, 'resources/models');
const lfw = (person: string): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_0001.jpg`);

/** Box blur of an NHWC map (radius r), so directions built from it are smooth. */
function blur(map: Float32Array, S: number, r: number): Float32Array {
  const pass = (src: Float32Array, horizontal: boolean): Float32Array => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          let n = 0;
          for (let d = -r; d <= r; d++) {
            const [yy, xx] = horizontal ? [y, x + d] : [y + d, x];
            if (yy < 0 || xx < 0 || yy >= S || xx >= S) continue;
            acc += src[(yy * S + xx) * 3 + c]!;
            n++;
          }
          out[(y * S + x) * 3 + c] = acc / n;
        }
    return out;
  };
  return pass(pass(map, true), false);
}

const rms = (a: Float32Array): number => Math.sqrt(a.reduce((p, q) => p + q * q, 0) / a.length);

describe.skipIf(!hasSharedData)('backward graphs of the bundled recognizers', () => {
  const tmp = tempDir();
  let catalog: Catalog;
  let inference: InferenceService;
  beforeAll(() => {
    catalog = Catalog.open(path.join(tmp.dir, 'catalog'));
    inference = new InferenceService({ modelsDir: MODELS });
  });
  afterAll(async () => {
    await inference.close();
    catalog.close();
    tmp.cleanup();
  });

  describe.each(['faceres', 'mobileface', 'faceapi-resnet'])('%s', (id) => {
    let S = 0;
    let faces: Float32Array[] = [];
    let forward: ort.InferenceSession;
    let forwardBytes: Uint8Array;
    beforeAll(async () => {
      const entry = inference.registry.get(id);
      S = entry.input.width;
      faces = [];
      for (const person of ['Colin_Powell', 'Serena_Williams']) faces.push((await alignedFace({ path: lfw(person) }, { catalog, inference }, entry, 'centre')).crop);
      forwardBytes = readFileSync(path.join(MODELS, entry.file));
      forward = await ort.InferenceSession.create(forwardBytes, { executionProviders: ['cpu'] });
    });
    afterAll(async () => forward?.release());

    const embed = async (x: Float32Array): Promise<Float32Array> =>
      (await forward.run({ image: new ort.Tensor('float32', x, [1, S, S, 3]) }))['embedding']!.data as Float32Array;

    const run = async (session: ort.InferenceSession, xs: Float32Array[], seeds: Float32Array[]): Promise<Record<string, ort.Tensor>> => {
      const cat = (a: Float32Array[]): Float32Array => {
        const out = new Float32Array(a.reduce((n, v) => n + v.length, 0));
        a.reduce((off, v) => (out.set(v, off), off + v.length), 0);
        return out;
      };
      return session.run({
        image: new ort.Tensor('float32', cat(xs), [xs.length, S, S, 3]),
        seed: new ort.Tensor('float32', cat(seeds), [seeds.length, seeds[0]!.length]),
      });
    };

    it('the gradient agrees with central finite differences, and batch 2 with batch 1', async () => {
      const session = await ort.InferenceSession.create(await buildBackwardModel(forwardBytes, { rule: 'gradient', from: 'embedding', at: ['feature_map'] }), {
        executionProviders: ['cpu'],
      });
      try {
        const D = (await embed(faces[0]!)).length;
        const seeds = [Float32Array.from(normals(D, 0, 1, 17)), Float32Array.from(normals(D, 0, 1, 18))];
        const single = await Promise.all(faces.map((x, b) => run(session, [x], [seeds[b]!])));
        const grad = single[0]!['signal']!.data as Float32Array;
        const x = faces[0]!;
        // Directions: a random smooth field plus the blurred gradient (so the derivative along
        // each is well above float32 noise; a random direction alone is nearly orthogonal to the
        // gradient), scaled to at most 1 per pixel. h = 0.02 grey levels: the recognizers are
        // piecewise linear (ReLU/clip/PReLU), so the finite difference errs only where a unit
        // switches inside [x - h d, x + h d], which shrinks with h, while float32 rounding of f
        // (about 1e-7 relative) divided by 2h stays far below the derivatives at this h.
        const g = blur(grad, S, Math.round(S / 16));
        const gs = rms(g);
        const h = 0.02;
        for (let k = 0; k < 3; k++) {
          const noise = blur(Float32Array.from(normals(x.length, 0, 1, 100 + k)), S, Math.round(S / 10));
          const ns = rms(noise);
          const dir = noise.map((v, i) => v / ns + g[i]! / gs);
          let m = 0;
          for (const v of dir) m = Math.max(m, Math.abs(v));
          dir.forEach((v, i) => (dir[i] = v / m));
          const f = async (e: number): Promise<number> => {
            const emb = await embed(x.map((v, i) => v + e * dir[i]!));
            return emb.reduce((acc, v, i) => acc + v * seeds[0]![i]!, 0);
          };
          const fd = ((await f(h)) - (await f(-h))) / (2 * h);
          const analytic = grad.reduce((acc, v, i) => acc + v * dir[i]!, 0);
          expect(Math.abs(fd - analytic) / Math.abs(analytic), `direction ${k}: fd ${fd} analytic ${analytic}`).toBeLessThan(5e-2);
        }
        const pair = await run(session, faces, seeds);
        for (const name of ['signal', 'signal:feature_map', 'embedding']) {
          const both = pair[name]!.data as Float32Array;
          const n = both.length / 2;
          for (let b = 0; b < 2; b++) {
            const one = single[b]![name]!.data as Float32Array;
            let diff = 0;
            let scale = 0;
            for (let i = 0; i < n; i++) {
              diff = Math.max(diff, Math.abs(both[b * n + i]! - one[i]!));
              scale = Math.max(scale, Math.abs(one[i]!));
            }
            expect(diff / scale, `${name}, image ${b}`).toBeLessThan(1e-5);
          }
        }
      } finally {
        await session.release();
      }
    });

    it.each(['gradient', 'guided', 'deconvnet', 'excitation'] as BackwardRule[])('%s gives a finite, non-constant map', async (rule) => {
      const session = await ort.InferenceSession.create(await buildBackwardModel(forwardBytes, { rule, from: 'embedding', at: ['feature_map'] }), { executionProviders: ['cpu'] });
      try {
        const x = faces[0]!;
        const emb = await embed(x);
        // Excitation starts from a distribution: the embedding's positive part, normalized.
        let seed = Float32Array.from(normals(emb.length, 0, 1, 5));
        if (rule === 'excitation') {
          seed = emb.map((v) => Math.max(v, 0));
          const s = seed.reduce((a, b) => a + b, 0);
          seed = seed.map((v) => v / s);
        }
        const out = await run(session, [x], [seed]);
        const fm = (await forward.run({ image: new ort.Tensor('float32', x, [1, S, S, 3]) }))['feature_map']!;
        expect(out['signal']!.dims).toEqual([1, S, S, 3]);
        expect(out['signal:feature_map']!.dims).toEqual(fm.dims);
        expect(out['feature_map']!.dims).toEqual(fm.dims);
        for (const name of ['signal', 'signal:feature_map']) {
          const v = out[name]!.data as Float32Array;
          expect(v.every(Number.isFinite), `${name} finite`).toBe(true);
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          expect(Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), `${name} varies`).toBeGreaterThan(0);
        }
        if (rule === 'excitation') {
          const sig = out['signal']!.data as Float32Array;
          expect(sig.every((v) => v >= 0), 'probabilities are non-negative').toBe(true);
          expect(sig.reduce((a, b) => a + b, 0), 'no more mass than the seed').toBeLessThanOrEqual(1 + 1e-4);
        }
      } finally {
        await session.release();
      }
    });
  });
});
