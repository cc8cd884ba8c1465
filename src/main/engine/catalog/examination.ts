/**
 * ACE-V in the catalog: the examiner's initial assessment of a pair (made before Facet's score is
 * shown, or the recorded choice to skip it), blind verification (an examiner who has not decided a
 * pair is never sent other examiners' decisions on it), and disagreements between examiners'
 * current decisions. Names are self-declared: the blindness rule keeps others' conclusions out of
 * an examiner's workflow; it is not an access control.
 */
import { createHash } from 'node:crypto';
import { conclusionOfScale, type Assessment, type Disagreement, type PortraitAssessment, type QueueItem } from '../../../shared/examination';
import { canonicalJson } from './audit';
import type { Catalog } from './catalog';
import { faceRow, listDecisions, ReviewError, type Decision } from './review';

interface AssessmentRow {
  id: number;
  face_a: number;
  face_b: number;
  examiner: string;
  kind: 'assessment' | 'skipped';
  portraits: string | null;
  hp: string | null;
  hd: string | null;
  created_at: string;
}

export const pairKey = (a: number, b: number): string => (a < b ? `${a}:${b}` : `${b}:${a}`);
const samePair = (d: { faceA: number; faceB: number }, a: number, b: number): boolean => pairKey(d.faceA, d.faceB) === pairKey(a, b);

/** A stored assessment as seen from the (faceA, faceB) order of the reader. */
function toAssessment(r: AssessmentRow, faceA: number): Assessment {
  const stored = r.portraits ? (JSON.parse(r.portraits) as { a: PortraitAssessment; b: PortraitAssessment }) : null;
  const swapped = r.face_a !== faceA;
  return {
    id: r.id,
    faceA: swapped ? r.face_b : r.face_a,
    faceB: swapped ? r.face_a : r.face_b,
    examiner: r.examiner,
    kind: r.kind,
    portraits: stored && (swapped ? { a: stored.b, b: stored.a } : stored),
    propositions: r.hp !== null && r.hd !== null ? { hp: r.hp, hd: r.hd } : null,
    createdAt: r.created_at,
  };
}

export function recordAssessment(
  catalog: Catalog,
  r: {
    faceA: number;
    faceB: number;
    examiner: string;
    kind: 'assessment' | 'skipped';
    portraits?: { a: PortraitAssessment; b: PortraitAssessment };
    propositions?: { hp: string; hd: string };
  },
  account: string,
): Assessment {
  if (r.faceA === r.faceB) throw new ReviewError('invalid_request', 'an assessment compares two different faces');
  faceRow(catalog, r.faceA);
  faceRow(catalog, r.faceB);
  const createdAt = new Date().toISOString();
  const portraits = r.portraits ? canonicalJson(r.portraits) : null;
  const id = catalog.db.transaction(() => {
    const info = catalog.db
      .prepare('INSERT INTO assessments (face_a, face_b, examiner, kind, portraits, hp, hd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.faceA, r.faceB, r.examiner, r.kind, portraits, r.propositions?.hp ?? null, r.propositions?.hd ?? null, createdAt);
    const id = Number(info.lastInsertRowid);
    catalog.audit.append(r.examiner, r.kind === 'skipped' ? 'assessment.skip' : 'assessment.record', {
      id,
      faces: [r.faceA, r.faceB],
      account,
      ...(r.portraits ? { portraits: r.portraits } : {}),
      ...(r.propositions ? { propositionsSha256: createHash('sha256').update(canonicalJson(r.propositions)).digest('hex') } : {}),
    });
    return id;
  })();
  catalog.audit.syncHead();
  return latestAssessment(catalog, r.faceA, r.faceB, r.examiner, id)!;
}

/** The examiner's newest assessment of the pair (either order), or one by id. */
export function latestAssessment(catalog: Catalog, faceA: number, faceB: number, examiner: string, id?: number): Assessment | null {
  const row = (
    id !== undefined
      ? catalog.db.prepare('SELECT * FROM assessments WHERE id = ?').get(id)
      : catalog.db
          .prepare('SELECT * FROM assessments WHERE examiner = ? AND ((face_a = ? AND face_b = ?) OR (face_a = ? AND face_b = ?)) ORDER BY id DESC LIMIT 1')
          .get(examiner, faceA, faceB, faceB, faceA)
  ) as AssessmentRow | undefined;
  return row ? toAssessment(row, faceA) : null;
}

/** Pairs of current decisions by different examiners that disagree (003's scale, or the conclusion). */
export function disagreementsOf(decisions: Decision[]): Disagreement[] {
  const current = decisions.filter((d) => d.supersededBy === null).sort((x, y) => x.id - y.id);
  const out: Disagreement[] = [];
  for (let i = 0; i < current.length; i++) {
    for (let j = i + 1; j < current.length; j++) {
      const x = current[i]!;
      const y = current[j]!;
      if (x.author === y.author) continue;
      const cx = x.scale !== null ? conclusionOfScale(x.scale) : x.conclusion;
      const cy = y.scale !== null ? conclusionOfScale(y.scale) : y.conclusion;
      let reason: string | null = null;
      if (cx !== cy) reason = `conclusions differ: ${cx} vs ${cy}`;
      else if (x.scale !== null && y.scale !== null && Math.abs(x.scale - y.scale) >= 2) reason = `scale ${x.scale} vs ${y.scale}`;
      if (reason) out.push({ decisions: [x.id, y.id], examiners: [x.author, y.author], reason });
    }
  }
  return out;
}

/**
 * The blindness rule: an examiner who has recorded no decision on a pair is sent only their own
 * (none) of its decisions; others' reach them once they have recorded theirs.
 */
export function visibleTo(decisions: Decision[], examiner: string): Decision[] {
  const decided = new Set(decisions.filter((d) => d.author === examiner).map((d) => pairKey(d.faceA, d.faceB)));
  return decisions.filter((d) => d.author === examiner || decided.has(pairKey(d.faceA, d.faceB)));
}

/** Ids of the decisions withheld from this examiner by the blindness rule. */
export function withheldFrom(catalog: Catalog, examiner: string): Set<number> {
  const all = listDecisions(catalog);
  const visible = new Set(visibleTo(all, examiner).map((d) => d.id));
  return new Set(all.filter((d) => !visible.has(d.id)).map((d) => d.id));
}

export interface PairReview {
  examiner: string;
  /** Others have decided and this examiner has not: their decisions are withheld. */
  blind: boolean;
  withheld: number;
  assessment: Assessment | null;
  decisions: Decision[];
  disagreements: Disagreement[];
}

export function pairReview(catalog: Catalog, faceA: number, faceB: number, examiner: string): PairReview {
  faceRow(catalog, faceA);
  faceRow(catalog, faceB);
  const all = listDecisions(catalog, faceA).filter((d) => samePair(d, faceA, faceB));
  const visible = visibleTo(all, examiner);
  const blind = visible.length < all.length;
  return {
    examiner,
    blind,
    withheld: all.length - visible.length,
    assessment: latestAssessment(catalog, faceA, faceB, examiner),
    decisions: visible,
    disagreements: blind ? [] : disagreementsOf(visible),
  };
}

/** Pairs awaiting this examiner's blind verification, and pairs they decided where examiners disagree. */
export function verificationQueue(catalog: Catalog, examiner: string): { examiner: string; awaiting: QueueItem[]; disagreements: QueueItem[] } {
  const byPair = new Map<string, Decision[]>();
  for (const d of listDecisions(catalog)) {
    const k = pairKey(d.faceA, d.faceB);
    byPair.set(k, [...(byPair.get(k) ?? []), d]);
  }
  const faceInfo = catalog.db.prepare(
    'SELECT f.id AS faceId, f.portrait AS sha256, f.idx AS face, s.name AS subject FROM faces f JOIN portraits p ON p.sha256 = f.portrait LEFT JOIN subjects s ON s.id = p.subject_id WHERE f.id = ?',
  );
  const awaiting: (QueueItem & { firstId: number })[] = [];
  const disagreements: (QueueItem & { firstId: number })[] = [];
  for (const decisions of byPair.values()) {
    const current = decisions.filter((d) => d.supersededBy === null);
    const mine = decisions.some((d) => d.author === examiner);
    const others = new Set(current.filter((d) => d.author !== examiner).map((d) => d.author));
    // The oldest decision fixes the order the pair is shown in.
    const first = decisions[decisions.length - 1]!;
    const item = (found: Disagreement[]): QueueItem & { firstId: number } => ({
      faceA: faceInfo.get(first.faceA) as QueueItem['faceA'],
      faceB: faceInfo.get(first.faceB) as QueueItem['faceB'],
      decidedBy: others.size,
      lastDecisionAt: decisions[0]!.createdAt,
      disagreements: found,
      firstId: first.id,
    });
    if (!mine && others.size > 0) awaiting.push(item([]));
    else if (mine) {
      const found = disagreementsOf(current);
      if (found.length) disagreements.push(item(found));
    }
  }
  // Oldest first: a queue is worked in the order the pairs were decided.
  const byAge = (x: QueueItem & { firstId: number }, y: QueueItem & { firstId: number }): number => x.firstId - y.firstId;
  const strip = ({ firstId: _f, ...it }: QueueItem & { firstId: number }): QueueItem => it;
  return { examiner, awaiting: awaiting.sort(byAge).map(strip), disagreements: disagreements.sort(byAge).map(strip) };
}
