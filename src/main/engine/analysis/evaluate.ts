/**
 * Evaluation of verification systems on a labelled pair list, the LFW way: accuracy with a
 * threshold chosen on the other folds, plus ROC AUC, EER, TAR at fixed FARs, and Cllr of LRs from
 * a logistic calibration also fitted on the other folds (so no figure is judged on its own data).
 */
import { bestAccuracyThreshold, cllr, evaluateCalibration, fitLogistic, fitPav, rocSummary, type Calibration } from './calibration';
import { FUSION_ID, fusedScore, scoresOf, UNSCORABLE, type ScoredPair } from './verification';

export interface FoldedPair extends ScoredPair {
  fold: number;
}

export interface SystemEvaluation {
  system: string;
  accuracy: { mean: number; sd: number; perFold: number[] };
  auc: number;
  eer: number;
  eerThreshold: number;
  tarAtFar: { far: number; tar: number | null; threshold: number | null }[];
  /** Cllr of cross-validated logistic LRs, of cross-validated PAV LRs, and the best possible. */
  cllr: number;
  cllrPav: number;
  cllrMin: number;
  /** Threshold that maximizes accuracy on the whole list (what a saved calibration stores). */
  threshold: number;
  /** Per-pair cross-validated log10 LRs (logistic), for Tippett plots. */
  log10Lrs: { targets: number[]; nonTargets: number[] };
  /** Scores, for ROC/DET plots. */
  scores: { targets: number[]; nonTargets: number[] };
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

/** Scores of one system for a subset of pairs: a model's cosine, or the fusion fitted on `train`. */
type SystemScorer = (train: FoldedPair[]) => (p: ScoredPair) => number;

function modelScorer(model: string): SystemScorer {
  return () => (p) => p.scores[model] ?? UNSCORABLE;
}

/** The fusion's members are calibrated on the training folds only. */
function fusionScorer(models: string[]): SystemScorer {
  return (train) => {
    const members = models.map((id) => {
      const { targets, nonTargets } = scoresOf(train, id);
      return { id, calibration: fitLogistic(targets, nonTargets) };
    });
    return (p) => fusedScore(p.scores, members);
  };
}

function evaluateSystem(system: string, pairs: FoldedPair[], folds: number, scorer: SystemScorer): SystemEvaluation {
  const perFold: number[] = [];
  const cvLr = new Map<FoldedPair, number>();
  const cvPav = new Map<FoldedPair, number>();
  const cvScore = new Map<FoldedPair, number>();
  for (let k = 0; k < folds; k++) {
    const train = pairs.filter((p) => p.fold !== k);
    const test = pairs.filter((p) => p.fold === k);
    if (!test.length) continue;
    const score = scorer(train);
    const tr = { targets: train.filter((p) => p.same).map(score), nonTargets: train.filter((p) => !p.same).map(score) };
    const { threshold } = bestAccuracyThreshold(tr.targets, tr.nonTargets);
    const logistic: Calibration = fitLogistic(tr.targets, tr.nonTargets);
    const pav: Calibration = fitPav(tr.targets, tr.nonTargets);
    let correct = 0;
    for (const p of test) {
      const s = score(p);
      cvScore.set(p, s);
      cvLr.set(p, logistic.log10Lr(s));
      cvPav.set(p, pav.log10Lr(s));
      if (s >= threshold === p.same) correct++;
    }
    perFold.push(correct / test.length);
  }
  const split = (m: Map<FoldedPair, number>) => ({
    targets: pairs.filter((p) => p.same).map((p) => m.get(p) as number),
    nonTargets: pairs.filter((p) => !p.same).map((p) => m.get(p) as number),
  });
  // Fusion scores differ per fold (their members are refitted); the pooled ones are each pair's
  // held-out score, the same quantity the per-fold figures use.
  const scores = split(cvScore);
  const roc = rocSummary(scores.targets, scores.nonTargets, [1e-2, 1e-3]);
  const lrs = split(cvLr);
  const pavLrs = split(cvPav);
  const ten = (x: number): number => 10 ** x;
  const cllrMin = evaluateCalibration(fitLogistic(scores.targets, scores.nonTargets), scores.targets, scores.nonTargets).cllrMin;
  return {
    system,
    accuracy: { mean: mean(perFold), sd: sd(perFold), perFold },
    auc: roc.auc,
    eer: roc.eer,
    eerThreshold: roc.eerThreshold,
    tarAtFar: roc.tarAtFar,
    cllr: cllr(lrs.targets.map(ten), lrs.nonTargets.map(ten)),
    cllrPav: cllr(pavLrs.targets.map(ten), pavLrs.nonTargets.map(ten)),
    cllrMin,
    threshold: bestAccuracyThreshold(scores.targets, scores.nonTargets).threshold,
    log10Lrs: lrs,
    scores,
  };
}

/** Every model alone, and (with two or more) their fusion. */
export function evaluatePairs(pairs: FoldedPair[], folds: number, models: string[]): SystemEvaluation[] {
  const out = models.map((m) => evaluateSystem(m, pairs, folds, modelScorer(m)));
  if (models.length >= 2) out.push(evaluateSystem(FUSION_ID, pairs, folds, fusionScorer(models)));
  return out;
}
