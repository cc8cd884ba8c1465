import { describe, expect, it } from 'vitest';
import { agreement, boxMask, parseSalientBody, salientBody, spearman } from '../../src/main/engine/saliency/agreement';
import { hide } from '../../src/main/engine/saliency/hiding-game';
import { massInside, postprocess, randomMap, rankOrder, reduceChannels, resizeBilinear, smoothingSigma, topShareMask, unitMass } from '../../src/main/engine/saliency/maps';
import { truncatedContrast } from '../../src/main/engine/saliency/methods/tcebp';
import { cosineSeed } from '../../src/main/engine/saliency/methods/common';

const sum = (xs: Float32Array): number => xs.reduce((a, b) => a + b, 0);

describe('saliency map post-processing (paper 001)', () => {
  it('unit mass clips negatives and keeps an empty map empty', () => {
    const m = unitMass(Float32Array.of(-1, 1, 3, 0));
    expect(Array.from(m)).toEqual([0, 0.25, 0.75, 0]);
    expect(Array.from(unitMass(new Float32Array(4)))).toEqual([0, 0, 0, 0]);
  });

  it('smooths with sigma = 2 % of the width and renormalizes', () => {
    const w = 112;
    const data = new Float32Array(w * w);
    data[56 * w + 56] = 5;
    const out = postprocess({ width: w, height: w, data }).data;
    expect(sum(out)).toBeCloseTo(1, 5);
    let peak = 0;
    let argmax = -1;
    let varX = 0;
    out.forEach((v, i) => {
      if (v > peak) [peak, argmax] = [v, i];
      varX += v * ((i % w) - 56) ** 2;
    });
    expect(argmax).toBe(56 * w + 56);
    // The blob's spread is the Gaussian's: variance sigma^2 (sigma = 2.24 px at 112).
    expect(Math.sqrt(varX)).toBeCloseTo(smoothingSigma(w), 1);
  });

  it('reduces colour channels as each method needs', () => {
    const s = Float32Array.of(1, -3, 2, 0.5, 0.25, -0.5);
    expect(Array.from(reduceChannels(s, 2, 1, 3, 'maxabs'))).toEqual([3, 0.5]);
    expect(Array.from(reduceChannels(s, 2, 1, 3, 'max'))).toEqual([2, 0.5]);
    expect(Array.from(reduceChannels(s, 2, 1, 3, 'sum'))).toEqual([0, 0.25]);
  });

  it('resizes coarse maps bilinearly with aligned pixel centres', () => {
    const up = resizeBilinear(Float32Array.of(0, 1, 2, 3), 2, 2, 4, 4);
    expect(up[0]).toBeCloseTo(0);
    expect(up[15]).toBeCloseTo(3);
    expect(up[1]).toBeCloseTo(0.25);
    const flat = resizeBilinear(new Float32Array(9).fill(2), 3, 3, 7, 5);
    expect(flat.every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
  });

  it('orders pixels least-important first and scatters ties', () => {
    const order = rankOrder(Float32Array.of(3, 1, 2, 0));
    expect(Array.from(order)).toEqual([3, 1, 2, 0]);
    const w = 50;
    const flat = rankOrder(new Float32Array(w * w));
    let meanRow = 0;
    for (let k = 0; k < (w * w) / 2; k++) meanRow += Math.floor(flat[k]! / w) / ((w * w) / 2);
    expect(Math.abs(meanRow - (w - 1) / 2)).toBeLessThan(3);
  });

  it("keeps the top 5 % for paper 002's view", () => {
    const m = topShareMask(Float32Array.from({ length: 1000 }, (_, i) => i));
    expect(sum(Float32Array.from(m))).toBe(50);
    expect(m[999]).toBe(1);
    expect(m[949]).toBe(0);
  });

  it('random baseline maps are seeded and unit mass', () => {
    expect(Array.from(randomMap(8, 8, 3).data)).toEqual(Array.from(randomMap(8, 8, 3).data));
    expect(Array.from(randomMap(8, 8, 3).data)).not.toEqual(Array.from(randomMap(8, 8, 4).data));
    expect(sum(randomMap(8, 8, 3).data)).toBeCloseTo(1, 5);
  });

  it('the cosine seed is the gradient of cos(e, t) (finite differences)', () => {
    const e = Float32Array.of(0.3, -1.2, 2, 0.5);
    const t = Float32Array.of(1, 0.2, -0.4, 0.9);
    const cos = (v: Float32Array): number => {
      let d = 0;
      let a = 0;
      let b = 0;
      v.forEach((x, i) => ((d += x * t[i]!), (a += x * x), (b += t[i]! * t[i]!)));
      return d / Math.sqrt(a * b);
    };
    const g = cosineSeed(e, t);
    for (let i = 0; i < 4; i++) {
      const p = Float32Array.from(e);
      const m = Float32Array.from(e);
      p[i] = p[i]! + 1e-3;
      m[i] = m[i]! - 1e-3;
      expect(g[i]).toBeCloseTo((cos(p) - cos(m)) / 2e-3, 4);
    }
    expect(() => cosineSeed(e, Float32Array.of(1, 2))).toThrow(/dimensions/);
  });
});

describe('hiding (paper 001 Fig. 4)', () => {
  const w = 20;
  const h = 10;
  const crop = new Float32Array(w * h * 3).fill(200);
  // Importance grows left to right: the left half is hidden first.
  const map = Float32Array.from({ length: w * h }, (_, i) => i % w);
  const fill = [120, 110, 100] as const;

  it('zero and mean replacement hide exactly the least important share', () => {
    const z = hide(crop, map, w, h, 0.5, 'zero', fill);
    const m = hide(crop, map, w, h, 0.5, 'mean', fill);
    let hidden = 0;
    for (let p = 0; p < w * h; p++) {
      const left = p % w < w / 2;
      if (z[p * 3] === 0) hidden++;
      expect(z[p * 3]).toBe(left ? 0 : 200);
      expect(Array.from(m.slice(p * 3, p * 3 + 3))).toEqual(left ? [120, 110, 100] : [200, 200, 200]);
    }
    expect(hidden).toBe(100);
  });

  it('the soft mask blends smoothly from the mean to the face', () => {
    const s = hide(crop, map, w, h, 0.5, 'mean-soft', fill);
    const row = Array.from({ length: w }, (_, x) => s[(5 * w + x) * 3]!);
    expect(row[0]).toBeCloseTo(120, 0);
    expect(row[w - 1]).toBeCloseTo(200, 0);
    for (let x = 1; x < w; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]! - 1e-4);
    expect(row[9]! > 120 && row[10]! < 200).toBe(true);
  });

  it('rejects a map of the wrong size', () => {
    expect(() => hide(crop, new Float32Array(5), w, h, 0.5, 'zero', fill)).toThrow(/map/);
  });
});

describe('truncated contrastive EBP (paper 001 section V-B)', () => {
  it('keeps the contrast inside the excitation support where plain cEBP leaks outside the face', () => {
    // 001 Fig. 7: a near-perfect portrait spreads excitation thinly over the periphery; the
    // not-class map sits on the interior features. Plain cEBP is then positive only outside.
    const n = 100;
    const interior = (i: number): boolean => i >= 40 && i < 60;
    const p = Float32Array.from({ length: n }, (_, i) => (interior(i) ? (0.6 / 20) * (1 + 0.1 * Math.sin(i)) : 0.4 / 80));
    const q = Float32Array.from({ length: n }, (_, i) => (interior(i) ? 1 / 20 : 0));
    const pn = unitMass(p);
    const plain = unitMass(Float32Array.from(pn, (v, i) => v - q[i]!));
    const outside = Float32Array.from({ length: n }, (_, i) => (interior(i) ? 0 : 1));
    expect(massInside(plain, outside)).toBeGreaterThan(0.99);
    const epsilon = 0.4 / 80 + 1e-6;
    const truncated = truncatedContrast(pn, unitMass(q), epsilon);
    expect(massInside(truncated, outside)).toBe(0);
    expect(sum(truncated)).toBeGreaterThan(0);
  });
});

describe('analyst agreement (paper 002)', () => {
  it('parses the salient-region body and nothing else', () => {
    expect(parseSalientBody(salientBody('nose'))).toBe('nose');
    expect(parseSalientBody('FISWG: elbow')).toBeNull();
    expect(parseSalientBody('the nose looks different')).toBeNull();
  });

  it("Spearman's rho with ties", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(spearman([0, 0, 1, 2], [1, 2, 3, 4])!).toBeGreaterThan(0.9);
  });

  it('measures mass in the boxes, lift, and where the labelled part ranks', () => {
    const w = 40;
    const identity = { a: 1, b: 0, tx: 0, ty: 0 };
    const box = boxMask({ x: 10, y: 10, width: 10, height: 10 }, identity, w, w);
    expect(sum(box)).toBeCloseTo(100, 0);
    // The map sits on the "nose" region, which the analyst boxed.
    const map = unitMass(Float32Array.from(box));
    const comp = (x0: number): Float32Array => Float32Array.from({ length: w * w }, (_, i) => (i % w >= x0 && i % w < x0 + 10 && Math.floor(i / w) >= 10 && Math.floor(i / w) < 20 ? 1 : 0));
    const a = agreement([
      {
        map,
        boxes: [{ label: 'nose', mask: box }],
        components: [
          { name: 'eyes', mask: comp(25) },
          { name: 'nose', mask: comp(10) },
          { name: 'mouth', mask: comp(0) },
        ],
      },
    ]);
    expect(a.massInBoxes).toBeCloseTo(1, 3);
    expect(a.areaOfBoxes).toBeCloseTo(100 / 1600, 3);
    expect(a.lift).toBeCloseTo(16, 0);
    expect(a.machineRanking[0]!.component).toBe('nose');
    expect(a.labelRanks).toEqual([{ label: 'nose', rank: 1 }]);
    expect(a.top3Hits).toBe(1);
  });
});
