import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/main/engine/models/inference';
import { applySimilarity, type Point } from '../../src/main/engine/vision/align';
import { decodeRgb } from '../../src/main/engine/vision/image';
import { analyzeFaces, recognizerAlignment } from '../../src/main/engine/vision/pipeline';
import { convexHull, fillPolygon, meshToCrop, offsetContour, partMasks, PART_NAMES, type PartMask, type PartName } from '../../src/main/engine/vision/parts';
import { hasSharedData, REPO_ROOT, SHARED_DATA } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);
const count = (m: Float32Array): number => m.reduce((s, v) => s + v, 0);

describe('polygon rasterizer', () => {
  it('fills pixels whose centres lie inside: exact counts for a square and a triangle', () => {
    const sq = fillPolygon([[2, 3], [8, 3], [8, 7], [2, 7]], 10, 10);
    expect(count(sq)).toBe(24); // columns 2..7, rows 3..6
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(sq[y * 10 + x], `${x},${y}`).toBe(x >= 2 && x <= 7 && y >= 3 && y <= 6 ? 1 : 0);
    // x/20 + y/10 < 1: row j keeps centres i + 0.5 < 19 - 2j, i.e. 19 - 2j pixels; 19 + 17 + ... + 1 = 100.
    const tri = fillPolygon([[0, 0], [20, 0], [0, 10]], 32, 16);
    expect(count(tri)).toBe(100);
    for (let j = 0; j < 10; j++) expect(count(tri.subarray(j * 32, (j + 1) * 32)), `row ${j}`).toBe(19 - 2 * j);
    // Either winding gives the same pixels.
    expect(fillPolygon([[0, 10], [20, 0], [0, 0]], 32, 16)).toEqual(tri);
  });

  it('clips to the image and unions into an existing mask', () => {
    expect(count(fillPolygon([[-5, -5], [3, -5], [3, 3], [-5, 3]], 10, 10))).toBe(9);
    expect(count(fillPolygon([[20, 20], [30, 20], [30, 30]], 10, 10))).toBe(0);
    const m = fillPolygon([[0, 0], [4, 0], [4, 4], [0, 4]], 10, 10);
    fillPolygon([[2, 2], [6, 2], [6, 6], [2, 6]], 10, 10, m);
    expect(count(m)).toBe(16 + 16 - 4);
  });

  it('anti-aliases with exact horizontal coverage: areas match the polygon', () => {
    const sq = fillPolygon([[2.5, 3.5], [6.5, 3.5], [6.5, 7.5], [2.5, 7.5]], 10, 10, undefined, true);
    expect(count(sq)).toBeCloseTo(16, 6);
    expect(sq[3 * 10 + 2]).toBeCloseTo(0.25, 6); // corner pixel: half x half
    expect(sq[5 * 10 + 4]).toBe(1);
    expect(count(fillPolygon([[0, 0], [20, 0], [0, 10]], 32, 16, undefined, true))).toBeCloseTo(100, 4);
    expect(count(fillPolygon([[3.2, 1.7], [9.9, 4.1], [5.5, 9.3]], 12, 12, undefined, true))).toBeCloseTo(0.5 * Math.abs(6.7 * 7.6 - 2.4 * 2.3), 1);
  });

  it('builds hulls and offsets contours', () => {
    expect(convexHull([[0, 0], [4, 0], [4, 4], [0, 4], [2, 2], [1, 3]])).toHaveLength(4);
    const grown = offsetContour([[2, 2], [8, 2], [8, 8], [2, 8]], 1);
    // Vertex normals at the corners move them diagonally by 1: a square of side 6 + sqrt(2).
    expect(Math.abs((grown[1] as Point)[0] - (grown[0] as Point)[0])).toBeCloseTo(6 + Math.SQRT2, 9);
    expect((grown[0] as Point)[0]).toBeLessThan(2);
    const shrunk = offsetContour([[2, 8], [8, 8], [8, 2], [2, 2]], -1); // other winding, inwards
    expect((shrunk[3] as Point)[0]).toBeGreaterThan(2);
  });
});

describe.skipIf(!hasSharedData)('facial component masks on real faces', () => {
  const inference = new InferenceService({ modelsDir: MODELS_DIR });
  afterAll(() => inference.close());
  const faces = [
    ['George_W_Bush', 1],
    ['Colin_Powell', 1],
    ['Tony_Blair', 2], // Tony_Blair_0001 is turned about 60° away
  ] as const;
  const recognizers = [
    ['faceres', 224],
    ['mobileface', 112],
  ] as const;

  const aligned = async (person: string, n: number, model: string): Promise<{ points: Point[]; five: Point[] }> => {
    const img = await decodeRgb(lfw(person, n));
    const [face] = await analyzeFaces(img, inference, { recognizers: [] });
    if (!face) throw new Error(`no face in ${person} ${n}`);
    const { transform } = recognizerAlignment(inference.registry.get(model), face.detection, face.landmarks.five);
    const points = meshToCrop(face.landmarks.mesh, transform);
    const [x, y] = face.landmarks.mesh[1]!;
    expect(points[1]).toEqual(applySimilarity(transform, [x, y]));
    return { points, five: face.landmarks.five.map((p) => applySimilarity(transform, p)) };
  };
  const centroid = (m: Float32Array, w: number): Point => {
    let sx = 0;
    let sy = 0;
    let s = 0;
    for (let i = 0; i < m.length; i++) {
      const v = m[i] as number;
      sx += v * ((i % w) + 0.5);
      sy += v * (Math.floor(i / w) + 0.5);
      s += v;
    }
    return [sx / s, sy / s];
  };
  const get = (parts: PartMask[], name: PartName): PartMask => parts.find((p) => p.name === name)!;
  const inMask = (m: Float32Array, w: number, [x, y]: Point): number => m[Math.floor(y) * w + Math.floor(x)] as number;

  it('splits aligned crops into non-overlapping components in anatomical order', async () => {
    for (const [person, n] of faces) {
      for (const [model, size] of recognizers) {
        const tag = `${person} ${model}`;
        const { points, five } = await aligned(person, n, model);
        const parts = partMasks(points, size, size);
        expect(parts.map((p) => p.name)).toEqual([...PART_NAMES]);
        const total = new Float32Array(size * size);
        for (const p of parts) {
          expect(p.mask).toHaveLength(size * size);
          expect(p.area, `${tag} ${p.name} area`).toBeGreaterThan(0);
          expect(p.area).toBe(count(p.mask));
          let soft = 0;
          for (let i = 0; i < p.mask.length; i++) {
            const v = p.mask[i] as number;
            if (v !== 0 && v !== 1) soft++;
            total[i] = (total[i] as number) + v;
          }
          expect(soft, `${tag} ${p.name} binary`).toBe(0);
        }
        expect(Math.max(...total), `${tag} overlap`).toBeLessThanOrEqual(1);

        const y = (name: PartName): number => centroid(get(parts, name).mask, size)[1];
        const order: PartName[] = ['forehead', 'eyebrows', 'eyes', 'nose', 'mouth', 'chin'];
        for (let k = 1; k < order.length; k++) expect(y(order[k - 1]!), `${tag} ${order[k - 1]} above ${order[k]}`).toBeLessThan(y(order[k]!));

        const [rEye, lEye, noseTip, mRight, mLeft] = five as [Point, Point, Point, Point, Point];
        const eyes = get(parts, 'eyes').mask;
        expect(inMask(eyes, size, rEye), `${tag} right eye`).toBe(1);
        expect(inMask(eyes, size, lEye), `${tag} left eye`).toBe(1);
        expect(inMask(get(parts, 'mouth').mask, size, [(mRight[0] + mLeft[0]) / 2, (mRight[1] + mLeft[1]) / 2]), `${tag} mouth`).toBe(1);
        expect(inMask(get(parts, 'nose').mask, size, noseTip), `${tag} nose tip`).toBe(1);

        // Two eye blobs, one each side of the crop's vertical centre line, nothing on it.
        let left = 0;
        let right = 0;
        let centre = 0;
        for (let i = 0; i < eyes.length; i++) {
          const x = (i % size) + 0.5;
          if (Math.abs(x - size / 2) < 2) centre += eyes[i] as number;
          if (x < size / 2) left += eyes[i] as number;
          else right += eyes[i] as number;
        }
        expect(centre, `${tag} eyes on the centre line`).toBe(0);
        expect(left / (left + right), `${tag} eye balance`).toBeGreaterThan(0.3);
        expect(right / (left + right), `${tag} eye balance`).toBeGreaterThan(0.3);

        const frac = Object.fromEntries(parts.map((p) => [p.name, p.area / (size * size)])) as Record<PartName, number>;
        expect(frac.eyes, tag).toBeGreaterThan(0.01);
        expect(frac.eyes, tag).toBeLessThan(0.08);
        expect(frac.mouth, tag).toBeGreaterThan(0.005);
        expect(frac.mouth, tag).toBeLessThan(0.06);
        expect(frac.nose, tag).toBeGreaterThan(0.01);
        expect(frac.nose, tag).toBeLessThan(0.08);
        expect(frac.cheeks, tag).toBeGreaterThan(frac.eyes);
        expect(frac.cheeks, tag).toBeGreaterThan(frac.nose);
        expect(frac.cheeks, tag).toBeLessThan(0.35);
        const covered = count(total) / (size * size);
        expect(covered, tag).toBeGreaterThan(0.4);
        expect(covered, tag).toBeLessThan(0.9); // background and hair stay out
        console.log(`${tag}: ${parts.map((p) => `${p.name} ${(100 * p.area / (size * size)).toFixed(1)}%`).join(', ')}`);
      }
    }
  });

  it('anti-aliased masks share edge pixels but never sum past 1', async () => {
    const { points } = await aligned('George_W_Bush', 1, 'faceres');
    const hard = partMasks(points, 224, 224);
    const soft = partMasks(points, 224, 224, { antialias: true });
    const total = new Float32Array(224 * 224);
    let fractional = 0;
    for (const p of soft) {
      let negative = 0;
      for (let i = 0; i < total.length; i++) {
        const v = p.mask[i] as number;
        if (v < 0) negative++;
        total[i] = (total[i] as number) + v;
        if (v > 0 && v < 1) fractional++;
      }
      expect(negative, p.name).toBe(0);
      const h = get(hard, p.name).area;
      expect(Math.abs(p.area - h) / h, `${p.name} area hard vs soft`).toBeLessThan(0.1);
    }
    expect(fractional).toBeGreaterThan(100);
    expect(Math.max(...total)).toBeLessThanOrEqual(1 + 1e-5);
  });

  it('follows a rolled face: levels are taken along the face, not the crop', async () => {
    const { points, five } = await aligned('George_W_Bush', 1, 'faceres');
    const angle = (20 * Math.PI) / 180;
    const roll = { a: Math.cos(angle), b: Math.sin(angle), tx: 0, ty: 0 };
    const about = (p: Point): Point => {
      const [x, y] = applySimilarity(roll, [p[0] - 112, p[1] - 112]);
      return [x + 112, y + 112];
    };
    const parts = partMasks(points.map(about), 224, 224);
    const [rEye, lEye, noseTip, mRight, mLeft] = five.map(about) as [Point, Point, Point, Point, Point];
    expect(inMask(get(parts, 'eyes').mask, 224, rEye)).toBe(1);
    expect(inMask(get(parts, 'eyes').mask, 224, lEye)).toBe(1);
    expect(inMask(get(parts, 'nose').mask, 224, noseTip)).toBe(1);
    expect(inMask(get(parts, 'mouth').mask, 224, [(mRight[0] + mLeft[0]) / 2, (mRight[1] + mLeft[1]) / 2])).toBe(1);
    // Order along the face's own down axis, (-sin, cos) of the roll.
    const down = (name: PartName): number => {
      const [x, y] = centroid(get(parts, name).mask, 224);
      return -Math.sin(angle) * x + Math.cos(angle) * y;
    };
    const order: PartName[] = ['forehead', 'eyebrows', 'eyes', 'nose', 'mouth', 'chin'];
    for (let k = 1; k < order.length; k++) expect(down(order[k - 1]!)).toBeLessThan(down(order[k]!));
  });

  it('leaves everything outside the crop out and rejects a short point list', async () => {
    const { points } = await aligned('Colin_Powell', 1, 'mobileface');
    // Shift the face 56 px right, half out of the crop: the masks hold only what is still inside,
    // and the emptied left strip has no part at all.
    const shifted = points.map(([x, y]) => [x + 56, y] as Point);
    const parts = partMasks(shifted, 112, 112);
    const full = partMasks(points, 112, 112);
    const minX = Math.min(...shifted.map((p) => p[0]));
    for (const p of parts) {
      let stray = 0;
      for (let i = 0; i < p.mask.length; i++) if ((i % 112) + 1 < minX - 10) stray += p.mask[i] as number;
      expect(stray, p.name).toBe(0);
    }
    expect(get(parts, 'eyes').area).toBeLessThan(get(full, 'eyes').area);
    expect(get(parts, 'eyes').area).toBeGreaterThan(0);
    expect(() => partMasks(points.slice(0, 100), 112, 112)).toThrow(/468/);
  });
});
