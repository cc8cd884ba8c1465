import { describe, expect, it } from 'vitest';
import { cllr, evaluateCalibration, fitLogistic, fitPav, rocAuc, rocSummary, verbalScale } from '../../src/main/engine/analysis/calibration';
import { normals } from '../helpers/math';

describe('ROC figures', () => {
  it('AUC is the probability a target outscores a non-target, ties counting half', () => {
    expect(rocAuc([3, 4], [1, 2])).toBe(1);
    expect(rocAuc([1, 2], [3, 4])).toBe(0);
    expect(rocAuc([1], [1])).toBe(0.5);
    expect(rocAuc([2, 4], [1, 3])).toBe(0.75);
  });

  it('EER and TAR@FAR on data with a known answer', () => {
    const targets = Array.from({ length: 100 }, (_, i) => 50 + i); // 50..149
    const nonTargets = Array.from({ length: 100 }, (_, i) => i); // 0..99: overlap 50..99
    const r = rocSummary(targets, nonTargets, [0.1, 0.001]);
    expect(r.eer).toBeCloseTo(0.25, 2);
    expect(r.tarAtFar[0]).toEqual({ far: 0.1, tar: 0.6, threshold: 89 }); // accept > 89: 10 non-targets, targets 90..149
    expect(r.tarAtFar[1]).toEqual({ far: 0.001, tar: null, threshold: null }); // 100 non-targets cannot resolve 1e-3
  });
});

describe('likelihood-ratio calibration', () => {
  // Equal-variance Gaussians: ln LR(s) = (mu1 - mu0)/sd^2 * s - (mu1^2 - mu0^2)/(2 sd^2), exactly.
  const mu1 = 0.6;
  const mu0 = 0.2;
  const sd = 0.1;
  const targets = normals(4000, mu1, sd, 1);
  const nonTargets = normals(4000, mu0, sd, 2);
  const trueLog10Lr = (s: number): number => ((mu1 - mu0) / sd ** 2 * s - (mu1 ** 2 - mu0 ** 2) / (2 * sd ** 2)) / Math.LN10;

  it('logistic regression recovers the true LR of Gaussian scores', () => {
    const cal = fitLogistic(targets, nonTargets);
    // Within 0.1 in log10 (a factor 1.26) of the truth, from 4000 + 4000 samples.
    for (const s of [0.3, 0.4, 0.5]) expect(Math.abs(cal.log10Lr(s) - trueLog10Lr(s))).toBeLessThan(0.1);
    expect(cal.log10Lr(100)).toBe(Math.log10(4001)); // bounded by what 4000 non-targets can support
  });

  it('PAV is monotone, bounded by the sample size, and close to the truth where data is dense', () => {
    const cal = fitPav(targets, nonTargets);
    const grid = Array.from({ length: 50 }, (_, i) => -0.2 + i * 0.025);
    const values = grid.map((s) => cal.log10Lr(s));
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(cal.bounds[1]).toBeLessThanOrEqual(Math.log10(4001) + 1e-9);
    // A step function: within a step (here LR 2 where the truth is 1) of the true value.
    expect(Math.abs(cal.log10Lr(0.4) - trueLog10Lr(0.4))).toBeLessThan(0.35);
  });

  it('Cllr: calibrated LRs beat a mis-scaled score, Cllr_min bounds both, LR = 1 gives exactly 1 bit', () => {
    expect(cllr([1, 1], [1, 1])).toBe(1);
    const good = evaluateCalibration(fitLogistic(targets, nonTargets), targets, nonTargets);
    const overconfident = { method: 'logistic' as const, bounds: [-6, 6] as [number, number], params: {}, log10Lr: (s: number) => 5 * trueLog10Lr(s) };
    const bad = evaluateCalibration(overconfident, targets, nonTargets);
    expect(good.cllr).toBeLessThan(bad.cllr);
    expect(good.cllrMin).toBeLessThanOrEqual(good.cllr + 1e-9);
    expect(good.cllr - good.cllrMin).toBeLessThan(0.02); // well calibrated
    expect(good.cllr).toBeLessThan(0.3);
  });

  it('Cllr_min is 0 for perfectly separated scores, whatever the calibration claims', () => {
    const sep = evaluateCalibration(fitLogistic([0.8, 0.9, 0.95], [0.1, 0.2, 0.3]), [0.8, 0.9, 0.95], [0.1, 0.2, 0.3]);
    expect(sep.cllrMin).toBe(0);
    expect(sep.cllr).toBeGreaterThan(0);
  });

  it('speaks the ENFSI verbal scale in both directions', () => {
    expect(verbalScale(1)).toBe('no support either way');
    expect(verbalScale(5)).toBe('weak support that the two faces are of the same person');
    expect(verbalScale(1 / 500)).toBe('moderately strong support that the two faces are of different people');
    expect(verbalScale(2e6)).toMatch(/^extremely strong support/);
  });
});
