import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/main/engine/models/inference';
import { warpSimilarity } from '../../src/main/engine/vision/align';
import { decodeRgb } from '../../src/main/engine/vision/image';
import { featherMask, gaussianBlur, partSwap } from '../../src/main/engine/vision/part-swap';
import { meshToCrop, partMasks, type PartName } from '../../src/main/engine/vision/parts';
import { analyzeFaces, recognizerAlignment } from '../../src/main/engine/vision/pipeline';
import { hasSharedData, REPO_ROOT, SHARED_DATA } from '../helpers/fixtures';
import { cosine } from '../helpers/math';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);
const S = 112;

describe('separable Gaussian blur', () => {
  it('keeps the sum away from borders, is symmetric, and is exactly 0 beyond 3 sigma', () => {
    const img = new Float32Array(41 * 41);
    img[20 * 41 + 20] = 1;
    const out = gaussianBlur(img, 41, 41, 2);
    expect(out.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(out[20 * 41 + 17]).toBeCloseTo(out[20 * 41 + 23]!, 7);
    expect(out[17 * 41 + 20]).toBeCloseTo(out[20 * 41 + 17]!, 7);
    expect(out[20 * 41 + 26]).toBeGreaterThan(0); // 6 px = 3 sigma: inside the kernel
    expect(out[20 * 41 + 27]).toBe(0);
    // A constant image stays constant up to the borders (renormalized there).
    const flat = gaussianBlur(new Float32Array(20 * 10).fill(7), 20, 10, 3);
    for (const v of flat) expect(v).toBeCloseTo(7, 5);
  });
});

describe.skipIf(!hasSharedData)('part swaps between two real faces', () => {
  const inference = new InferenceService({ modelsDir: MODELS_DIR });
  afterAll(() => inference.close());
  let a: Float32Array;
  let b: Float32Array;
  let masks: Map<PartName, Float32Array>;

  const crop = async (person: string, n: number): Promise<{ crop: Float32Array; masks: Map<PartName, Float32Array> }> => {
    const img = await decodeRgb(lfw(person, n));
    const [face] = await analyzeFaces(img, inference, { recognizers: [] });
    if (!face) throw new Error(`no face in ${person}`);
    const { transform } = recognizerAlignment(inference.registry.get('mobileface'), face.detection, face.landmarks.five);
    const parts = partMasks(meshToCrop(face.landmarks.mesh, transform), S, S);
    return { crop: warpSimilarity(img, transform, S, S), masks: new Map(parts.map((p) => [p.name, p.mask])) };
  };

  beforeAll(async () => {
    const A = await crop('George_W_Bush', 1);
    const B = await crop('Colin_Powell', 1);
    a = A.crop;
    b = B.crop;
    masks = A.masks;
  });

  /** Pixels within `r` (Chebyshev) of any masked pixel. */
  const near = (mask: Float32Array, r: number): Uint8Array => {
    const out = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (mask[y * S + x] === 0) continue;
        for (let v = Math.max(0, y - r); v <= Math.min(S - 1, y + r); v++) for (let u = Math.max(0, x - r); u <= Math.min(S - 1, x + r); u++) out[v * S + u] = 1;
      }
    }
    return out;
  };
  const maskedMean = (img: Float32Array, mask: Float32Array, c: number): number => {
    let s = 0;
    let w = 0;
    for (let i = 0; i < mask.length; i++) {
      s += (mask[i] as number) * (img[i * 3 + c] as number);
      w += mask[i] as number;
    }
    return s / w;
  };

  it('leaves A untouched far from the mask and puts colour-matched B inside it', () => {
    for (const part of ['eyes', 'nose', 'mouth'] as const) {
      const mask = masks.get(part)!;
      const out = partSwap(a, b, S, S, mask);
      // The default feather reaches 3 px beyond the mask at 112 px.
      const reach = near(mask, 3);
      let far = 0;
      let changedFar = 0;
      for (let i = 0; i < S * S; i++) {
        if (reach[i]) continue;
        far++;
        for (let c = 0; c < 3; c++) if (out[i * 3 + c] !== a[i * 3 + c]) changedFar++;
      }
      expect(far, part).toBeGreaterThan((S * S) / 2);
      expect(changedFar, `${part}: pixels changed far from the mask`).toBe(0);

      // Colour-matched B, computed here from plain masked statistics (mean, sd per channel).
      const matched = new Float32Array(b.length);
      for (let c = 0; c < 3; c++) {
        const sd = (img: Float32Array, m: number): number => Math.sqrt(maskedMean(img.map((v, j) => (j % 3 === c ? (v - m) ** 2 : 0)), mask, c));
        const ma = maskedMean(a, mask, c);
        const mb = maskedMean(b, mask, c);
        const g = sd(a, ma) / sd(b, mb);
        for (let i = 0; i < S * S; i++) matched[i * 3 + c] = Math.min(255, Math.max(0, ma + g * ((b[i * 3 + c] as number) - mb)));
      }
      const alpha = featherMask(mask, S, S, 3);
      let core = 0;
      let toB = 0;
      let toA = 0;
      for (let i = 0; i < S * S; i++) {
        if ((mask[i] as number) < 1 || (alpha[i] as number) < 0.9) continue;
        core++;
        for (let c = 0; c < 3; c++) {
          toB += Math.abs((out[i * 3 + c] as number) - (matched[i * 3 + c] as number));
          toA += Math.abs((out[i * 3 + c] as number) - (a[i * 3 + c] as number));
        }
      }
      console.log(`${part}: core ${core} px, mean |A'-B'| ${(toB / core / 3).toFixed(2)}, |A'-A| ${(toA / core / 3).toFixed(2)}`);
      expect(core, part).toBeGreaterThan(20);
      expect(toB, part).toBeLessThan(toA / 3);
    }
  });

  it('colour matching keeps the masked mean of A; without it the colour of B comes along', () => {
    const mask = masks.get('cheeks')!;
    const matched = partSwap(a, b, S, S, mask);
    const raw = partSwap(a, b, S, S, mask, { colourMatch: false });
    let rawShift = 0;
    for (let c = 0; c < 3; c++) {
      const ma = maskedMean(a, mask, c);
      expect(Math.abs(maskedMean(matched, mask, c) - ma), `channel ${c}`).toBeLessThan(1);
      rawShift = Math.max(rawShift, Math.abs(maskedMean(raw, mask, c) - ma));
    }
    console.log(`cheeks: largest channel-mean shift without colour matching ${rawShift.toFixed(1)} grey levels`);
    expect(rawShift).toBeGreaterThan(5); // Bush and Powell differ in skin tone and lighting
  });

  it('an empty mask returns A exactly, and bad sizes are refused', () => {
    const out = partSwap(a, b, S, S, new Float32Array(S * S));
    expect(out).not.toBe(a);
    expect(out).toEqual(a);
    expect(() => partSwap(a, b.subarray(3), S, S, new Float32Array(S * S))).toThrow(/112x112x3/);
    expect(() => partSwap(a, b, S, S, new Float32Array(10))).toThrow(/mask/);
  });

  it('mobileface sees a swapped-eyes face as still mostly A', async () => {
    const embed = async (x: Float32Array): Promise<Float32Array> => (await inference.run('mobileface', x))['embedding']!.data;
    const swapped = partSwap(a, b, S, S, masks.get('eyes')!);
    const [ea, eb, es] = [await embed(a), await embed(b), await embed(swapped)];
    const self = cosine(ea, es);
    const other = cosine(ea, eb);
    console.log(`mobileface cos(A, A') ${self.toFixed(3)}, cos(A, B) ${other.toFixed(3)}, cos(A', B) ${cosine(es, eb).toFixed(3)}`);
    expect(self).toBeLessThan(0.999); // the swap changed what the network sees ...
    expect(self).toBeGreaterThan(other); // ... but A' is still closer to A than B is
  });
});
