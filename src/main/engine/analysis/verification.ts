/**
 * 1:1 verification: cosine scores per recognizer, a score-level fusion, and their conversion to
 * likelihood ratios through stored calibrations. A calibration is bound to the exact model file
 * (its SHA-256) it was fitted for and carries its provenance, so every LR Facet shows can be
 * traced to the pair list that justified it; a score from a model with no matching calibration
 * is shown without an LR, and says why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CalibrationProvenance } from '../../../shared/contract';
import { canonicalJson } from '../catalog/audit';
import type { Catalog } from '../catalog/catalog';
import { bestAccuracyThreshold, evaluateCalibration, fitLogistic, fitPav, restoreCalibration, rocSummary, verbalScale, type Calibration } from './calibration';

/** Id of the fused system: the sum of its members' calibrated log10 LRs, recalibrated. */
export const FUSION_ID = 'fusion';


export const StoredCalibration = z.object({
  id: z.number().int().nullable(),
  name: z.string().min(1).max(100),
  modelId: z.string(),
  /** The model file's SHA-256; for the fusion, a hash of its members' ids and hashes. */
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Fusion only: member model ids. */
  members: z.array(z.string()).optional(),
  method: z.enum(['logistic', 'pav']),
  params: z.record(z.string(), z.union([z.number(), z.array(z.number())])),
  bounds: z.tuple([z.number(), z.number()]),
  /** Score threshold that maximized accuracy on the fitting list (accept when score >= it). */
  threshold: z.number(),
  provenance: CalibrationProvenance,
  /** Figures on the fitting list itself. */
  figures: z.object({ accuracy: z.number(), auc: z.number(), eer: z.number(), cllr: z.number(), cllrMin: z.number() }),
});
export type StoredCalibration = z.infer<typeof StoredCalibration>;

export const CalibrationFile = z.object({ schema: z.literal(1), calibrations: z.array(StoredCalibration) });

export function fusionSha(members: Record<string, string>): string {
  return createHash('sha256').update(canonicalJson(members)).digest('hex');
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embeddings of different sizes (${a.length} and ${b.length})`);
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    x += a[i]! ** 2;
    y += b[i]! ** 2;
  }
  return x > 0 && y > 0 ? d / Math.sqrt(x * y) : 0;
}

/** A labelled pair's scores: per model id (null when a side had no usable face). */
export interface ScoredPair {
  same: boolean;
  scores: Record<string, number | null>;
}

/** The score an unscorable pair gets: the least similar a cosine can be (counted, not dropped). */
export const UNSCORABLE = -1;

export function scoresOf(pairs: ScoredPair[], model: string): { targets: number[]; nonTargets: number[] } {
  const targets: number[] = [];
  const nonTargets: number[] = [];
  for (const p of pairs) (p.same ? targets : nonTargets).push(p.scores[model] ?? UNSCORABLE);
  return { targets, nonTargets };
}

/** Fused score of a pair: sum of the members' calibrated log10 LRs. */
export function fusedScore(scores: Record<string, number | null>, members: { id: string; calibration: Calibration }[]): number {
  return members.reduce((s, m) => s + m.calibration.log10Lr(scores[m.id] ?? UNSCORABLE), 0);
}

function fitOne(
  name: string,
  modelId: string,
  modelSha256: string,
  targets: number[],
  nonTargets: number[],
  provenance: z.infer<typeof CalibrationProvenance>,
  members?: string[],
): StoredCalibration[] {
  const roc = rocSummary(targets, nonTargets, []);
  const { threshold, accuracy } = bestAccuracyThreshold(targets, nonTargets);
  return [fitLogistic(targets, nonTargets), fitPav(targets, nonTargets)].map((cal) => {
    const ev = evaluateCalibration(cal, targets, nonTargets);
    return {
      id: null,
      name,
      modelId,
      modelSha256,
      ...(members ? { members } : {}),
      method: cal.method,
      params: cal.params,
      bounds: cal.bounds,
      threshold,
      provenance,
      figures: { accuracy, auc: roc.auc, eer: roc.eer, cllr: ev.cllr, cllrMin: ev.cllrMin },
    };
  });
}

/**
 * Fits logistic and PAV calibrations for each model and, with two or more models, for their
 * fusion (the sum of the members' logistic log10 LRs, recalibrated so it is not over-confident).
 */
export function fitCalibrationSet(
  name: string,
  pairs: ScoredPair[],
  models: Record<string, string>,
  provenance: z.infer<typeof CalibrationProvenance>,
): StoredCalibration[] {
  const out: StoredCalibration[] = [];
  const ids = Object.keys(models);
  for (const id of ids) {
    const { targets, nonTargets } = scoresOf(pairs, id);
    out.push(...fitOne(name, id, models[id] as string, targets, nonTargets, provenance));
  }
  if (ids.length >= 2) {
    const members = ids.map((id) => ({ id, calibration: fitLogistic(...(Object.values(scoresOf(pairs, id)) as [number[], number[]])) }));
    const fused = pairs.map((p) => ({ same: p.same, scores: { [FUSION_ID]: fusedScore(p.scores, members) } }));
    const { targets, nonTargets } = scoresOf(fused, FUSION_ID);
    out.push(...fitOne(name, FUSION_ID, fusionSha(models), targets, nonTargets, provenance, ids));
  }
  return out;
}

/** The calibrations shipped with Facet (fitted on LFW View-1 DevTrain by tools/calibrate-lfw.ts). */
export function loadBuiltinCalibrations(modelsDir: string): StoredCalibration[] {
  const file = path.join(modelsDir, 'calibrations.json');
  if (!existsSync(file)) return [];
  const parsed = CalibrationFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`The calibration file ${file} is malformed: ${parsed.error.message}`);
  return parsed.data.calibrations;
}

interface CalibrationRow {
  id: number;
  name: string;
  model_id: string;
  model_sha256: string;
  method: 'logistic' | 'pav';
  params: string;
  threshold: number;
  provenance: string;
  figures: string;
}

export function listCatalogCalibrations(catalog: Catalog): StoredCalibration[] {
  const rows = catalog.db.prepare('SELECT * FROM calibrations ORDER BY id').all() as CalibrationRow[];
  return rows.map((r) => {
    const extra = JSON.parse(r.params) as { params: StoredCalibration['params']; bounds: [number, number]; members?: string[] };
    return StoredCalibration.parse({
      id: r.id,
      name: r.name,
      modelId: r.model_id,
      modelSha256: r.model_sha256,
      ...(extra.members ? { members: extra.members } : {}),
      method: r.method,
      params: extra.params,
      bounds: extra.bounds,
      threshold: r.threshold,
      provenance: JSON.parse(r.provenance) as unknown,
      figures: JSON.parse(r.figures) as unknown,
    });
  });
}

/** Stores a calibration set (replacing one of the same name for the same model file), audited. */
export function saveCatalogCalibrations(catalog: Catalog, set: StoredCalibration[], actor: string): void {
  const db = catalog.db;
  db.transaction(() => {
    const insert = db.prepare(
      `INSERT INTO calibrations (name, model_id, model_sha256, method, params, threshold, provenance, figures, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name, model_id, model_sha256, method) DO UPDATE SET params = excluded.params,
         threshold = excluded.threshold, provenance = excluded.provenance, figures = excluded.figures, created_at = excluded.created_at`,
    );
    for (const c of set) {
      const params = JSON.stringify({ params: c.params, bounds: c.bounds, ...(c.members ? { members: c.members } : {}) });
      insert.run(c.name, c.modelId, c.modelSha256, c.method, params, c.threshold, JSON.stringify({ ...c.provenance, source: 'catalog' }), JSON.stringify(c.figures), new Date().toISOString());
    }
    catalog.audit.append(actor, 'calibration.save', {
      name: set[0]?.name,
      pairList: set[0]?.provenance.pairList,
      pairListSha256: set[0]?.provenance.pairListSha256,
      models: Object.fromEntries(set.map((c) => [c.modelId, c.modelSha256])),
    });
  })();
  catalog.audit.syncHead();
}

export interface LrEvidence {
  method: 'logistic' | 'pav';
  log10Lr: number;
  lr: number;
  verbal: string;
  calibration: { id: number | null; name: string; provenance: z.infer<typeof CalibrationProvenance>; bounds: [number, number] };
}

export interface SystemScore {
  system: string;
  /** The model file's SHA-256 (for the fusion, the hash of its members'). */
  modelSha256: string;
  score: number;
  threshold: number | null;
  decision: 'same' | 'different' | null;
  evidence: LrEvidence[];
  /** Why there is no LR or threshold, when there is none. */
  note: string | null;
}

/** The calibrations a model file's scores use: the named set, else the newest catalog set, else the built-in one. */
export function calibrationSetFor(calibrations: StoredCalibration[], modelId: string, sha: string, name?: string): StoredCalibration[] {
  const mine = calibrations.filter((c) => c.modelId === modelId && c.modelSha256 === sha && (name === undefined || c.name === name));
  if (!mine.length) return [];
  // Newest catalog set first (ids grow), then the built-in one.
  const pick = [...mine].sort((x, y) => (y.id ?? -1) - (x.id ?? -1))[0]!.name;
  return mine.filter((c) => c.name === pick).sort((x, y) => (x.method < y.method ? -1 : 1));
}

/**
 * Turns one pair's embeddings into scores with calibrated evidence. `name` picks a calibration
 * set; by default the catalog's newest set for the model file, else the built-in one.
 */
export function scorePair(
  a: Record<string, { vector: Float32Array; sha256: string }>,
  b: Record<string, { vector: Float32Array; sha256: string }>,
  calibrations: StoredCalibration[],
  name?: string,
): { systems: SystemScore[]; calibrationSet: string | null } {
  const models = Object.keys(a).filter((m) => b[m]);
  const hashes = Object.fromEntries(models.map((m) => [m, a[m]!.sha256]));
  const setFor = (modelId: string, sha: string): StoredCalibration[] => calibrationSetFor(calibrations, modelId, sha, name);
  const evidenceOf = (set: StoredCalibration[], score: number): LrEvidence[] =>
    set.map((c) => {
      const log10Lr = restoreCalibration(c.method, c.params, c.bounds).log10Lr(score);
      const lr = 10 ** log10Lr;
      return { method: c.method, log10Lr, lr, verbal: verbalScale(lr), calibration: { id: c.id, name: c.name, provenance: c.provenance, bounds: c.bounds } };
    });
  const systems: SystemScore[] = [];
  const scores: Record<string, number> = {};
  for (const m of models) {
    const score = cosine(a[m]!.vector, b[m]!.vector);
    scores[m] = score;
    if (a[m]!.sha256 !== b[m]!.sha256) throw new Error(`the two faces were embedded by different ${m} model files; re-analyse one of them`);
    const set = setFor(m, a[m]!.sha256);
    const threshold = set[0]?.threshold ?? null;
    systems.push({
      system: m,
      modelSha256: a[m]!.sha256,
      score,
      threshold,
      decision: threshold === null ? null : score >= threshold ? 'same' : 'different',
      evidence: evidenceOf(set, score),
      note: set.length ? null : `no calibration${name ? ` named "${name}"` : ''} for this ${m} model file (${a[m]!.sha256.slice(0, 12)}); score only`,
    });
  }
  const fusionSet = models.length >= 2 ? setFor(FUSION_ID, fusionSha(hashes)) : [];
  if (fusionSet.length) {
    const members = fusionSet[0]!.members ?? [];
    const memberCals = members.map((id) => {
      const cal = calibrations.find((c) => c.modelId === id && c.modelSha256 === hashes[id] && c.method === 'logistic' && c.name === fusionSet[0]!.name);
      if (!cal) throw new Error(`fusion member ${id} has no logistic calibration in set ${fusionSet[0]!.name}`);
      return { id, calibration: restoreCalibration(cal.method, cal.params, cal.bounds) };
    });
    const score = fusedScore(scores, memberCals);
    const threshold = fusionSet[0]!.threshold;
    systems.push({ system: FUSION_ID, modelSha256: fusionSha(hashes), score, threshold, decision: score >= threshold ? 'same' : 'different', evidence: evidenceOf(fusionSet, score), note: null });
  }
  const used = systems.flatMap((s) => s.evidence.map((e) => e.calibration.name));
  return { systems, calibrationSet: used[0] ?? null };
}
