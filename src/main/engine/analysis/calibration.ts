/**
 * Scores to evidence: ROC figures, and calibration of verification scores into likelihood ratios
 * (LR = P(score | same person) / P(score | different people)) by logistic regression or by the
 * pool-adjacent-violators (isotonic) method, with Cllr and Cllr_min to judge them.
 *
 * Conventions: `targets` are scores of same-person pairs, `nonTargets` of different-person pairs;
 * higher scores mean "more similar".
 */

export interface RocSummary {
  auc: number;
  eer: number;
  /** Score threshold at the equal error rate. */
  eerThreshold: number;
  /**
   * True accept rate at the given false accept rates, accepting scores strictly above `threshold`
   * (null when there are too few non-targets to resolve that rate).
   */
  tarAtFar: { far: number; tar: number | null; threshold: number | null }[];
}

const sortedAsc = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** AUC as the Mann-Whitney probability that a target outscores a non-target (ties count half). */
export function rocAuc(targets: number[], nonTargets: number[]): number {
  const all = [...targets.map((s) => ({ s, t: 1 })), ...nonTargets.map((s) => ({ s, t: 0 }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2; // ranks are 1-based; ties share their mean rank
    for (let k = i; k < j; k++) if (all[k]!.t) rankSum += avgRank;
    i = j;
  }
  const nt = targets.length;
  const nn = nonTargets.length;
  return (rankSum - (nt * (nt + 1)) / 2) / (nt * nn);
}

/** Miss and false-alarm rates at threshold t (accept when score >= t). */
function rates(t: number, tg: number[], nt: number[]): { miss: number; fa: number } {
  const miss = tg.filter((s) => s < t).length / tg.length;
  const fa = nt.filter((s) => s >= t).length / nt.length;
  return { miss, fa };
}

export function rocSummary(targets: number[], nonTargets: number[], fars: number[] = [1e-2, 1e-3]): RocSummary {
  if (!targets.length || !nonTargets.length) throw new Error('need both same-person and different-person scores');
  const candidates = sortedAsc([...new Set([...targets, ...nonTargets])]);
  let best = { gap: Infinity, eer: 1, threshold: candidates[0] as number };
  for (const t of candidates) {
    const { miss, fa } = rates(t, targets, nonTargets);
    const gap = Math.abs(miss - fa);
    if (gap < best.gap) best = { gap, eer: (miss + fa) / 2, threshold: t };
  }
  // Accept scores strictly above the (k+1)-th highest non-target: at most k = far * N false accepts.
  const nonDesc = [...nonTargets].sort((a, b) => b - a);
  const tarAtFar = fars.map((far) => {
    const k = Math.floor(far * nonTargets.length);
    if (k < 1 || k >= nonTargets.length) return { far, tar: null, threshold: null };
    const threshold = nonDesc[k] as number;
    return { far, tar: targets.filter((sc) => sc > threshold).length / targets.length, threshold };
  });
  return { auc: rocAuc(targets, nonTargets), eer: best.eer, eerThreshold: best.threshold, tarAtFar };
}

/** Cllr in bits: 0 for perfect, 1 for an uninformative system that always says LR = 1. */
export function cllr(targetLrs: number[], nonTargetLrs: number[]): number {
  const t = targetLrs.reduce((s, lr) => s + Math.log2(1 + 1 / lr), 0) / targetLrs.length;
  const n = nonTargetLrs.reduce((s, lr) => s + Math.log2(1 + lr), 0) / nonTargetLrs.length;
  return (t + n) / 2;
}

export interface Calibration {
  method: 'logistic' | 'pav';
  /** log10 LR for a score. */
  log10Lr(score: number): number;
  /** Bounds applied to log10 LR, so that no LR claims more than the data can support. */
  bounds: [number, number];
  params: Record<string, number | number[]>;
}

/**
 * Logistic regression of the label on the score, with both classes weighted equally, so that
 * the fitted log-odds are log likelihood ratios: ln LR = a * score + b. Newton-Raphson.
 * A weak Gaussian prior on the slope (ridge, weight 0.01/N in units of the score spread) keeps perfectly separated (small) sets
 * from fitting an infinite slope, so their LRs stay finite and grow with the amount of data; on
 * sets that overlap, as real ones do, its effect is negligible.
 */
export function fitLogistic(targets: number[], nonTargets: number[], maxLog10 = 6): Calibration {
  const data = [...targets.map((s) => ({ s, y: 1, w: 0.5 / targets.length })), ...nonTargets.map((s) => ({ s, y: 0, w: 0.5 / nonTargets.length }))];
  // Prior on the slope in units of the scores' spread, so it does not depend on the score scale.
  const m = data.reduce((acc, d) => acc + d.s, 0) / data.length;
  const variance = data.reduce((acc, d) => acc + (d.s - m) ** 2, 0) / data.length || 1;
  const ridge = (0.01 * variance) / data.length;
  let a = 0;
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let ga = ridge * a;
    let gb = 0;
    let haa = 1e-12 + ridge;
    let hab = 0;
    let hbb = 1e-12;
    for (const { s, y, w } of data) {
      const p = 1 / (1 + Math.exp(-(a * s + b)));
      ga += w * (p - y) * s;
      gb += w * (p - y);
      const v = w * p * (1 - p);
      haa += v * s * s;
      hab += v * s;
      hbb += v;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-12) break;
  }
  // No LR beyond what the sample can support: having seen none of N non-targets score this high
  // backs an LR of about N, not more (the same limit PAV's pseudo points impose).
  const bounds: [number, number] = [-Math.min(maxLog10, Math.log10(targets.length + 1)), Math.min(maxLog10, Math.log10(nonTargets.length + 1))];
  return {
    method: 'logistic',
    bounds,
    params: { a, b },
    log10Lr: (score) => Math.min(bounds[1], Math.max(bounds[0], (a * score + b) / Math.LN10)),
  };
}

/**
 * Isotonic (PAV) calibration. One pseudo target below every score and one pseudo non-target
 * above every score keep the LRs finite and bounded by what the sample size supports.
 */
export function fitPav(targets: number[], nonTargets: number[], pseudo = true): Calibration {
  const pts = [...targets.map((s) => ({ s, y: 1 })), ...nonTargets.map((s) => ({ s, y: 0 }))].sort((p, q) => p.s - q.s || p.y - q.y);
  if (pseudo) {
    pts.unshift({ s: -Infinity, y: 1 });
    pts.push({ s: Infinity, y: 0 });
  }
  // Pool adjacent violators on the target indicator, weighting so both classes count equally.
  const nt = targets.length + (pseudo ? 1 : 0);
  const nn = nonTargets.length + (pseudo ? 1 : 0);
  type Block = { sum: number; weight: number; lo: number; hi: number; tg: number; ng: number };
  const blocks: Block[] = [];
  for (const p of pts) {
    const w = p.y ? 0.5 / nt : 0.5 / nn;
    blocks.push({ sum: p.y * w, weight: w, lo: p.s, hi: p.s, tg: p.y, ng: 1 - p.y });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1] as Block;
      const prev = blocks[blocks.length - 2] as Block;
      if (prev.sum / prev.weight < last.sum / last.weight) break;
      blocks.splice(blocks.length - 2, 2, {
        sum: prev.sum + last.sum,
        weight: prev.weight + last.weight,
        lo: prev.lo,
        hi: last.hi,
        tg: prev.tg + last.tg,
        ng: prev.ng + last.ng,
      });
    }
  }
  // With equal class weights the pooled posterior p gives LR = p / (1 - p).
  const steps = blocks.map((bl) => {
    const p = bl.sum / bl.weight;
    return { lo: bl.lo, hi: bl.hi, log10: Math.log10(p / (1 - p)) };
  });
  // With pseudo points every step is finite and the extremes are the bounds; without them (the
  // Cllr_min oracle) perfectly separated scores rightly get LRs of 0 and infinity.
  const bounds: [number, number] = pseudo
    ? [Math.min(...steps.map((st) => st.log10), 0), Math.max(...steps.map((st) => st.log10), 0)]
    : [-Infinity, Infinity];
  const log10Lr = (score: number): number => {
    // The step whose score range holds the score; between steps, the lower one (monotone, conservative).
    let value = steps[0]?.log10 ?? 0;
    for (const st of steps) {
      if (score >= st.lo) value = st.log10;
      else break;
    }
    return Math.min(bounds[1], Math.max(bounds[0], value));
  };
  // Step starts: the first is -Infinity (the pseudo point), which JSON cannot hold; -1e308 stands in.
  return { method: 'pav', bounds, params: { lo: steps.map((st) => (Number.isFinite(st.lo) ? st.lo : -1e308)), log10: steps.map((st) => st.log10) }, log10Lr };
}

/** Rebuilds a stored calibration from its method, parameters and bounds. */
export function restoreCalibration(method: Calibration['method'], params: Record<string, number | number[]>, bounds: [number, number]): Calibration {
  const clamp = (v: number): number => Math.min(bounds[1], Math.max(bounds[0], v));
  if (method === 'logistic') {
    const { a, b } = params;
    if (typeof a !== 'number' || typeof b !== 'number') throw new Error('a logistic calibration needs numbers a and b');
    return { method, bounds, params, log10Lr: (score) => clamp((a * score + b) / Math.LN10) };
  }
  const { lo, log10 } = params;
  if (!Array.isArray(lo) || !Array.isArray(log10) || lo.length !== log10.length || lo.length === 0) {
    throw new Error('a PAV calibration needs step starts and values of the same length');
  }
  return {
    method,
    bounds,
    params,
    log10Lr: (score) => {
      let value = log10[0] as number;
      for (let i = 0; i < lo.length; i++) {
        if (score >= (lo[i] as number)) value = log10[i] as number;
        else break;
      }
      return clamp(value);
    },
  };
}

/**
 * The threshold that maximizes accuracy on a labelled set (accept when score >= threshold): the
 * midpoint between the two scores where the best split falls, as the LFW protocol does it.
 */
export function bestAccuracyThreshold(targets: number[], nonTargets: number[]): { threshold: number; accuracy: number } {
  const all = [...targets.map((s) => ({ s, t: 1 })), ...nonTargets.map((s) => ({ s, t: 0 }))].sort((a, b) => a.s - b.s);
  // Threshold below everything: every target accepted, every non-target wrongly accepted.
  let correct = targets.length;
  let best = { correct, threshold: (all[0]?.s ?? 0) - 1e-6 };
  for (let i = 0; i < all.length; i++) {
    // Moving the threshold above all[i]: it is now rejected.
    correct += all[i]!.t ? -1 : 1;
    if (i + 1 < all.length && all[i + 1]!.s === all[i]!.s) continue; // ties move together
    const next = all[i + 1]?.s ?? all[i]!.s + 2e-6;
    if (correct > best.correct) best = { correct, threshold: (all[i]!.s + next) / 2 };
  }
  return { threshold: best.threshold, accuracy: best.correct / all.length };
}

/** Cllr of a calibration on a pair set, and Cllr_min (the best any monotone calibration could do). */
export function evaluateCalibration(cal: Calibration, targets: number[], nonTargets: number[]): { cllr: number; cllrMin: number } {
  const lr = (s: number): number => 10 ** cal.log10Lr(s);
  const optimal = fitPav(targets, nonTargets, false);
  const lrMin = (s: number): number => 10 ** optimal.log10Lr(s);
  return { cllr: cllr(targets.map(lr), nonTargets.map(lr)), cllrMin: cllr(targets.map(lrMin), nonTargets.map(lrMin)) };
}

/**
 * A verbal equivalent of an LR, in the ENFSI guideline's bands (support for "same person" when
 * LR > 1, for "different people" when LR < 1).
 */
export function verbalScale(lr: number): string {
  const strength = lr >= 1 ? lr : 1 / lr;
  const side = lr >= 1 ? 'that the two faces are of the same person' : 'that the two faces are of different people';
  if (strength < 1.5) return 'no support either way';
  const words =
    strength < 10 ? 'weak support' : strength < 100 ? 'moderate support' : strength < 1000 ? 'moderately strong support' : strength < 10_000 ? 'strong support' : strength < 1_000_000 ? 'very strong support' : 'extremely strong support';
  return `${words} ${side}`;
}
