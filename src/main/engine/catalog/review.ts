/**
 * What reviewers add to the catalog: the face they work with in a multi-face portrait, notes on
 * portraits, faces, subjects or decisions, and conclusions on pairs of faces. Everything is
 * audited; decisions are never edited (a new decision supersedes an old one), and each stores the
 * scores and calibrations Facet showed when it was made, recomputed here rather than taken from
 * the client. A decision is its examiner's: it follows their initial assessment of the pair
 * (catalog/examination.ts) and is superseded only by them; another examiner records their own.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './audit';
import type { Catalog } from './catalog';
import { conclusionOfScale, type Checklist } from '../../../shared/examination';
import { facesOf } from './faces';

export class ReviewError extends Error {
  override name = 'ReviewError';
  constructor(
    readonly code: 'not_found' | 'invalid_request' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

export function setPrimaryFace(catalog: Catalog, sha256: string, idx: number, actor: string): void {
  const faces = facesOf(catalog, sha256);
  if (!catalog.getOriginal(sha256)) throw new ReviewError('not_found', `no original ${sha256.slice(0, 12)}… in this catalog`);
  if (!faces.some((f) => f.idx === idx)) throw new ReviewError('invalid_request', `the portrait has no face ${idx} (${faces.length} found)`);
  catalog.db.transaction(() => {
    catalog.db.prepare('UPDATE portraits SET primary_idx = ? WHERE sha256 = ?').run(idx, sha256);
    catalog.audit.append(actor, 'portrait.primary', { sha256, face: idx });
  })();
  catalog.audit.syncHead();
}

export type TargetKind = 'portrait' | 'face' | 'subject' | 'decision';

export interface Annotation {
  id: number;
  target: { kind: TargetKind; id: string };
  author: string;
  body: string;
  region: { x: number; y: number; width: number; height: number } | null;
  createdAt: string;
}

function targetExists(catalog: Catalog, kind: TargetKind, id: string): boolean {
  const sql = {
    portrait: 'SELECT 1 FROM portraits WHERE sha256 = ?',
    face: 'SELECT 1 FROM faces WHERE id = ?',
    subject: 'SELECT 1 FROM subjects WHERE id = ?',
    decision: 'SELECT 1 FROM decisions WHERE id = ?',
  }[kind];
  return catalog.db.prepare(sql).get(kind === 'portrait' ? id : Number(id)) !== undefined;
}

export function addAnnotation(
  catalog: Catalog,
  a: { target: { kind: TargetKind; id: string }; body: string; region?: Annotation['region'] },
  actor: string,
): Annotation {
  if (!targetExists(catalog, a.target.kind, a.target.id)) throw new ReviewError('not_found', `no ${a.target.kind} ${a.target.id} in this catalog`);
  const createdAt = new Date().toISOString();
  const id = catalog.db.transaction(() => {
    const info = catalog.db
      .prepare('INSERT INTO annotations (target_kind, target, author, body, region, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(a.target.kind, a.target.id, actor, a.body, a.region ? JSON.stringify(a.region) : null, createdAt);
    catalog.audit.append(actor, 'annotation.add', { id: Number(info.lastInsertRowid), target: a.target, sha256: createHash('sha256').update(a.body).digest('hex') });
    return Number(info.lastInsertRowid);
  })();
  catalog.audit.syncHead();
  return { id, target: a.target, author: actor, body: a.body, region: a.region ?? null, createdAt };
}

export function listAnnotations(catalog: Catalog, target: { kind: TargetKind; id: string }): Annotation[] {
  const rows = catalog.db
    .prepare('SELECT id, target_kind, target, author, body, region, created_at FROM annotations WHERE target_kind = ? AND target = ? ORDER BY id')
    .all(target.kind, target.id) as { id: number; target_kind: TargetKind; target: string; author: string; body: string; region: string | null; created_at: string }[];
  return rows.map((r) => ({
    id: r.id,
    target: { kind: r.target_kind, id: r.target },
    author: r.author,
    body: r.body,
    region: r.region ? (JSON.parse(r.region) as Annotation['region']) : null,
    createdAt: r.created_at,
  }));
}

export type Conclusion = 'same' | 'different' | 'inconclusive';

export interface Decision {
  id: number;
  faceA: number;
  faceB: number;
  conclusion: Conclusion;
  /** Paper 003's five-point scale: 1 sure same ... 5 sure different; null when not given. */
  scale: number | null;
  rationale: string;
  evidence: unknown;
  /** The examiner who made it. */
  author: string;
  supersedes: number | null;
  supersededBy: number | null;
  createdAt: string;
  /** FISWG component findings; null on decisions recorded without one. */
  checklist: Checklist | null;
  /** verification: another examiner had a current decision on the pair when this one was recorded; examination otherwise. */
  role: 'examination' | 'verification' | null;
  /** The examiner's assessment (or recorded skip) this decision followed. */
  assessment: number | null;
}

interface DecisionRow {
  id: number;
  face_a: number;
  face_b: number;
  conclusion: Conclusion;
  scale: number | null;
  rationale: string;
  evidence: string;
  author: string;
  supersedes: number | null;
  created_at: string;
  checklist: string | null;
  role: 'examination' | 'verification' | null;
  assessment_id: number | null;
}

/** Face ids with their portraits' hashes, checked to exist. */
export function faceRow(catalog: Catalog, id: number): { id: number; portrait: string; idx: number } {
  const row = catalog.db.prepare('SELECT id, portrait, idx FROM faces WHERE id = ?').get(id) as { id: number; portrait: string; idx: number } | undefined;
  if (!row) throw new ReviewError('not_found', `no face ${id} in this catalog`);
  return row;
}

export function recordDecision(
  catalog: Catalog,
  d: { faceA: number; faceB: number; conclusion: Conclusion; scale?: number; rationale: string; supersedes?: number; checklist?: Checklist },
  evidence: unknown,
  examiner: string,
  account: string,
): Decision {
  if (d.faceA === d.faceB) throw new ReviewError('invalid_request', 'a decision compares two different faces');
  if (d.scale !== undefined && conclusionOfScale(d.scale) !== d.conclusion) {
    throw new ReviewError('invalid_request', `scale ${d.scale} means "${conclusionOfScale(d.scale)}", not "${d.conclusion}"`);
  }
  faceRow(catalog, d.faceA);
  faceRow(catalog, d.faceB);
  const createdAt = new Date().toISOString();
  const pairSql = '((face_a = ? AND face_b = ?) OR (face_a = ? AND face_b = ?))';
  const pair = [d.faceA, d.faceB, d.faceB, d.faceA];
  const { id, role, assessment } = catalog.db.transaction(() => {
    // ACE-V: the examiner's own look at the portraits comes before Facet's score and their conclusion.
    const assessment = catalog.db.prepare(`SELECT id FROM assessments WHERE examiner = ? AND ${pairSql} ORDER BY id DESC LIMIT 1`).get(examiner, ...pair) as { id: number } | undefined;
    if (!assessment) throw new ReviewError('conflict', `${examiner} has not recorded an initial assessment of this pair (or chosen to reveal the score without one)`);
    const current = catalog.db
      .prepare(`SELECT id, author FROM decisions d WHERE ${pairSql} AND NOT EXISTS (SELECT 1 FROM decisions n WHERE n.supersedes = d.id)`)
      .all(...pair) as { id: number; author: string }[];
    if (d.supersedes !== undefined) {
      const old = catalog.db.prepare('SELECT face_a, face_b, author FROM decisions WHERE id = ?').get(d.supersedes) as { face_a: number; face_b: number; author: string } | undefined;
      if (!old) throw new ReviewError('not_found', `no decision ${d.supersedes} to supersede`);
      const samePair = (old.face_a === d.faceA && old.face_b === d.faceB) || (old.face_a === d.faceB && old.face_b === d.faceA);
      if (!samePair) throw new ReviewError('invalid_request', `decision ${d.supersedes} is about another pair of faces`);
      if (catalog.db.prepare('SELECT 1 FROM decisions WHERE supersedes = ?').get(d.supersedes)) {
        throw new ReviewError('conflict', `decision ${d.supersedes} has already been superseded`);
      }
      // A verifier's conclusion stands beside the examiner's; it never replaces it.
      if (old.author !== examiner) throw new ReviewError('conflict', `decision ${d.supersedes} is ${old.author}'s; record your own beside it`);
    } else if (current.some((c) => c.author === examiner)) {
      throw new ReviewError('conflict', `${examiner} has already decided this pair; supersede that decision to change it`);
    }
    const role: Decision['role'] = current.some((c) => c.author !== examiner) ? 'verification' : 'examination';
    const text = canonicalJson(evidence);
    const info = catalog.db
      .prepare(
        'INSERT INTO decisions (face_a, face_b, conclusion, scale, rationale, evidence, author, supersedes, created_at, checklist, role, assessment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(d.faceA, d.faceB, d.conclusion, d.scale ?? null, d.rationale, text, examiner, d.supersedes ?? null, createdAt, d.checklist ? canonicalJson(d.checklist) : null, role, assessment.id);
    catalog.audit.append(examiner, 'decision.record', {
      id: Number(info.lastInsertRowid),
      faces: [d.faceA, d.faceB],
      conclusion: d.conclusion,
      scale: d.scale ?? null,
      supersedes: d.supersedes ?? null,
      role,
      assessment: assessment.id,
      checklist: d.checklist ?? null,
      account,
      evidenceSha256: createHash('sha256').update(text).digest('hex'),
    });
    return { id: Number(info.lastInsertRowid), role, assessment: assessment.id };
  })();
  catalog.audit.syncHead();
  return {
    id,
    faceA: d.faceA,
    faceB: d.faceB,
    conclusion: d.conclusion,
    scale: d.scale ?? null,
    rationale: d.rationale,
    evidence,
    author: examiner,
    supersedes: d.supersedes ?? null,
    supersededBy: null,
    createdAt,
    checklist: d.checklist ?? null,
    role,
    assessment,
  };
}

/** Decisions involving a face (or all), newest first, each marked with what superseded it. */
export function listDecisions(catalog: Catalog, face?: number): Decision[] {
  const rows = (
    face === undefined
      ? catalog.db.prepare('SELECT * FROM decisions ORDER BY id DESC').all()
      : catalog.db.prepare('SELECT * FROM decisions WHERE face_a = ? OR face_b = ? ORDER BY id DESC').all(face, face)
  ) as DecisionRow[];
  const next = catalog.db.prepare('SELECT id FROM decisions WHERE supersedes = ?');
  return rows.map((r) => ({
    id: r.id,
    faceA: r.face_a,
    faceB: r.face_b,
    conclusion: r.conclusion,
    scale: r.scale,
    rationale: r.rationale,
    evidence: JSON.parse(r.evidence) as unknown,
    author: r.author,
    supersedes: r.supersedes,
    supersededBy: (next.get(r.id) as { id: number } | undefined)?.id ?? null,
    createdAt: r.created_at,
    checklist: r.checklist ? (JSON.parse(r.checklist) as Checklist) : null,
    role: r.role,
    assessment: r.assessment_id,
  }));
}
