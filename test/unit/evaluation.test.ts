import { describe, expect, it } from 'vitest';
import { bestAccuracyThreshold, fitLogistic, fitPav, restoreCalibration } from '../../src/main/engine/analysis/calibration';
import { evaluatePairs, type FoldedPair } from '../../src/main/engine/analysis/evaluate';
import { parsePairList, PairListError } from '../../src/main/engine/analysis/pairs';
import { operatingPoints, probit } from '../../src/main/engine/analysis/plots';
import { fitCalibrationSet, FUSION_ID, scorePair, type StoredCalibration } from '../../src/main/engine/analysis/verification';
import { normals } from '../helpers/math';

const opts = { imagesDir: '/lfw/images', baseDir: '/lists' };

describe('pair lists', () => {
  it('reads LFW View-1 lists: a count header, 3-field same and 4-field different pairs, 10 folds assigned per class', () => {
    const same = Array.from({ length: 20 }, (_, i) => `Ann_Lee\t${i + 1}\t${i + 2}`);
    const diff = Array.from({ length: 20 }, (_, i) => `Ann_Lee\t${i + 1}\tBo_Chen\t${i + 3}`);
    const list = parsePairList(['20', ...same, ...diff].join('\n'), opts);
    expect(list.format).toBe('lfw');
    expect(list.pairs).toHaveLength(40);
    expect(list.pairs[0]).toMatchObject({ a: '/lfw/images/Ann_Lee/Ann_Lee_0001.jpg', b: '/lfw/images/Ann_Lee/Ann_Lee_0002.jpg', same: true, line: 2 });
    expect(list.pairs[20]).toMatchObject({ b: '/lfw/images/Bo_Chen/Bo_Chen_0003.jpg', same: false });
    expect(list.folds).toBe(10);
    expect(list.foldSource).toBe('assigned');
    // Every fold holds 2 same and 2 different pairs.
    for (let k = 0; k < 10; k++) {
      expect(list.pairs.filter((p) => p.fold === k && p.same)).toHaveLength(2);
      expect(list.pairs.filter((p) => p.fold === k && !p.same)).toHaveLength(2);
    }
  });

  it("honours pairs.txt's folds header (F folds of N same then N different)", () => {
    const fold = (k: number) => [`A\t${k}\t${k + 1}`, `A\t${k}\tB\t${k}`];
    const list = parsePairList(['3 1', ...fold(1), ...fold(2), ...fold(3)].join('\n'), opts);
    expect(list.foldSource).toBe('header');
    expect(list.pairs.map((p) => p.fold)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(() => parsePairList(['3 2', ...fold(1), ...fold(2), ...fold(3)].join('\n'), opts)).toThrow(/promises 3 folds of 2\+2 pairs \(12\), but the list has 6/);
  });

  it('reads plain lists relative to their folder, and names every malformed line', () => {
    const list = parsePairList('a.jpg b.jpg same\n/x/c.png\td e.png\t0\n', opts);
    expect(list.format).toBe('plain');
    expect(list.pairs.map((p) => [p.a, p.b, p.same])).toEqual([
      ['/lists/a.jpg', '/lists/b.jpg', true],
      ['/x/c.png', '/lists/d e.png', false],
    ]);
    expect(() => parsePairList('a b maybe\nx\nA 1 2\n', opts)).toThrow(/line 1: the label must be same\/different.*line 2: expected 3 fields/);
    expect(() => parsePairList('A 1 2\nA 2 3\n', opts)).toThrow(PairListError);
    expect(() => parsePairList('5\nA 1 2\nA 1 B 2\n', opts)).toThrow(/promises 5 same-person and 5 different-people pairs, but the list has 1 and 1/);
  });
});

describe('thresholds, calibration storage and bounds', () => {
  it('picks the accuracy-maximizing threshold between the scores where the split falls', () => {
    const best = bestAccuracyThreshold([0.8, 0.9, 0.5], [0.1, 0.2, 0.6, 0.7]);
    expect(best.threshold).toBeCloseTo(0.75, 12);
    expect(best.accuracy).toBe(6 / 7);
    const perfect = bestAccuracyThreshold([0.7, 0.8], [0.1, 0.3]);
    expect(perfect.accuracy).toBe(1);
    expect(perfect.threshold).toBeCloseTo(0.5, 10);
  });

  it('keeps logistic LRs finite on perfectly separated small sets', () => {
    const cal = fitLogistic(normals(27, 0.6, 0.05, 3), normals(27, 0.1, 0.05, 4));
    // Without the prior the slope runs off and every LR sits on the 1e6 bound.
    expect(Math.abs(cal.log10Lr(0.6))).toBeLessThan(5);
    expect(cal.log10Lr(0.6)).toBeGreaterThan(1);
    expect(cal.log10Lr(0.1)).toBeLessThan(-1);
  });

  it('restores stored calibrations exactly (logistic and PAV), through JSON', () => {
    const t = normals(300, 0.6, 0.1, 5);
    const n = normals(300, 0.2, 0.1, 6);
    for (const cal of [fitLogistic(t, n), fitPav(t, n)]) {
      const stored = JSON.parse(JSON.stringify({ method: cal.method, params: cal.params, bounds: cal.bounds })) as { method: 'logistic' | 'pav'; params: Record<string, number | number[]>; bounds: [number, number] };
      const back = restoreCalibration(stored.method, stored.params, stored.bounds);
      for (const s of [-1, 0, 0.2, 0.33, 0.4, 0.61, 0.9, 5]) expect(back.log10Lr(s)).toBe(cal.log10Lr(s));
    }
    expect(() => restoreCalibration('pav', { lo: [0], log10: [] }, [-1, 1])).toThrow(/same length/);
  });
});

describe('evaluation of verification systems', () => {
  // Two synthetic recognizers with independent noise: their fusion must beat each alone.
  const pairs: FoldedPair[] = [];
  const t1 = normals(500, 0.55, 0.12, 11);
  const t2 = normals(500, 0.55, 0.12, 12);
  const n1 = normals(500, 0.25, 0.12, 13);
  const n2 = normals(500, 0.25, 0.12, 14);
  for (let i = 0; i < 500; i++) {
    pairs.push({ same: true, fold: i % 10, scores: { m1: t1[i]!, m2: t2[i]! } });
    pairs.push({ same: false, fold: i % 10, scores: { m1: n1[i]!, m2: n2[i]! } });
  }

  it('reports per-fold accuracy, AUC, EER and Cllr, and the fusion beats each recognizer', () => {
    const [m1, m2, fusion] = evaluatePairs(pairs, 10, ['m1', 'm2']);
    expect(fusion?.system).toBe(FUSION_ID);
    expect(m1?.accuracy.perFold).toHaveLength(10);
    // d' = 2.5 for one recognizer: EER = Phi(-1.25) = 10.6 %; the fusion's d' = 3.54: EER = 3.8 %.
    expect(m1!.eer).toBeGreaterThan(0.07);
    expect(m1!.eer).toBeLessThan(0.14);
    expect(fusion!.eer).toBeLessThan(0.06);
    expect(fusion!.accuracy.mean).toBeGreaterThan(Math.max(m1!.accuracy.mean, m2!.accuracy.mean));
    expect(fusion!.cllr).toBeLessThan(Math.min(m1!.cllr, m2!.cllr));
    for (const s of [m1!, m2!, fusion!]) {
      expect(s.cllrMin).toBeLessThanOrEqual(s.cllr + 1e-9);
      expect(s.cllr).toBeLessThan(s.cllrMin + 0.05); // cross-validated logistic LRs are well calibrated
    }
  });

  it('a saved calibration set scores a new pair with provenance, thresholds and a fused LR', () => {
    const hashes = { m1: 'a'.repeat(64), m2: 'b'.repeat(64) };
    const provenance = { source: 'catalog' as const, pairList: '/lists/p.txt', pairListSha256: 'c'.repeat(64), targets: 500, nonTargets: 500, fittedAt: '2026-11-25T00:00:00Z', facetVersion: 'test' };
    const set: StoredCalibration[] = fitCalibrationSet('mine', pairs, hashes, provenance);
    expect(set.map((c) => `${c.modelId}/${c.method}`).sort()).toEqual(['fusion/logistic', 'fusion/pav', 'm1/logistic', 'm1/pav', 'm2/logistic', 'm2/pav']);
    const face = (x: number) => ({
      m1: { vector: Float32Array.from([1, x]), sha256: hashes.m1 },
      m2: { vector: Float32Array.from([1, x]), sha256: hashes.m2 },
    });
    const similar = scorePair(face(0), face(0.1), set);
    const fused = similar.systems.find((s) => s.system === FUSION_ID)!;
    expect(fused.decision).toBe('same');
    expect(fused.evidence[0]!.lr).toBeGreaterThan(100);
    expect(fused.evidence[0]!.calibration.provenance.pairList).toBe('/lists/p.txt');
    const unlike = scorePair(face(0), face(-3), set);
    expect(unlike.systems.every((s) => s.decision === 'different')).toBe(true);
    // Another model file: no calibration applies, and the result says so instead of guessing.
    const other = scorePair({ m1: { vector: Float32Array.from([1, 0]), sha256: 'd'.repeat(64) } }, { m1: { vector: Float32Array.from([1, 0]), sha256: 'd'.repeat(64) } }, set);
    expect(other.systems[0]).toMatchObject({ evidence: [], threshold: null, decision: null });
    expect(other.systems[0]!.note).toMatch(/no calibration for this m1 model file/);
  });
});

describe('plot geometry', () => {
  it('probit inverts the normal CDF', () => {
    expect(probit(0.5)).toBeCloseTo(0, 9);
    expect(probit(0.975)).toBeCloseTo(1.959964, 5);
    expect(probit(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('operating points run from (0 FAR, 0 TAR) to (1, 1) monotonically', () => {
    const pts = operatingPoints(normals(1000, 1, 1, 1), normals(1000, 0, 1, 2), 100);
    expect(pts[0]).toEqual({ far: 0, frr: 1, tar: 0 });
    expect(pts.at(-1)).toMatchObject({ far: 1, tar: 1 });
    expect(pts.length).toBeLessThanOrEqual(101);
    for (let i = 1; i < pts.length; i++) expect(pts[i]!.far).toBeGreaterThanOrEqual(pts[i - 1]!.far);
  });
});
