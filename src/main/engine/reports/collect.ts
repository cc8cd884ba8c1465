/**
 * What a case report holds, gathered from the catalog: the images with their SHA-256, the
 * pair-difference overlays, the scores with calibrated LRs and their provenance, the examiner's
 * decisions and the audit entries about these faces. Everything is read from catalog state (no
 * clock, no randomness, stable order), so the same state gives the same report.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { AuditEntry, Res } from '../../../shared/contract';
import { auditMatches, type AuditKeys } from '../catalog/audit';
import type { Catalog } from '../catalog/catalog';
import { visibleTo } from '../catalog/examination';
import { facesOf } from '../catalog/faces';
import { listDecisions, type Decision } from '../catalog/review';
import { EngineError } from '../errors';
import { FACET_VERSION } from '../version';

/** Report exports are audited, but a report never lists them: regenerating it must give the same bytes. */
export const EXPORT_ACTION = 'report.export';

export interface ReportImage {
  label: string;
  sha256: string;
  originalName: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  subject: string | null;
  /** What is shown: the original itself, or (large or unusual files, subject sheets) a PNG/JPEG preview of it. */
  shown: { mediaType: 'image/png' | 'image/jpeg'; data: Buffer; preview: boolean };
  faces: { id: number; idx: number; primary: boolean; box: { x: number; y: number; width: number; height: number }; quality: Record<string, number> }[];
  note?: string;
}

export interface ReportOverlay {
  caption: string;
  png: Buffer;
}

export interface ReportModel {
  id: string;
  sha256: string;
  source: string;
}

export interface ReportData {
  kind: 'pair' | 'subject';
  title: string;
  /** Time of the newest audit entry: the catalog state the report shows (no "now" anywhere). */
  asOf: string;
  facetVersion: string;
  catalogDir: string;
  images: ReportImage[];
  overlays: ReportOverlay[];
  diff: Res<'diff.pair'> | null;
  verification: Res<'verify.pair'> | null;
  models: ReportModel[];
  /** Decisions as the catalog holds them (every field of the Decision type, including ones added later). */
  decisions: (Decision & Record<string, unknown>)[];
  audit: AuditEntry[];
  /** Matching audit entries left out (only the newest are shown). */
  auditOmitted: number;
  notes: string[];
}

export interface ReportDeps {
  catalog: Catalog;
  verify: (req: { a: { sha256: string; face?: number }; b: { sha256: string; face?: number } }) => Promise<Res<'verify.pair'>>;
  diff: (req: { a: { sha256: string; face?: number }; b: { sha256: string; face?: number }; outDir: string }) => Promise<Res<'diff.pair'>>;
  model: (id: string) => ReportModel | undefined;
}

const AUDIT_LIMIT = 300;
const SUBJECT_PORTRAIT_LIMIT = 60;
/** Originals up to this size are embedded as they are (JPEG/PNG); larger ones as a preview. */
const EMBED_LIMIT = 4 * 2 ** 20;

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The newest audit time apart from report exports. */
export function catalogAsOf(catalog: Catalog): string {
  const row = catalog.db.prepare('SELECT at FROM audit_log WHERE action != ? ORDER BY seq DESC LIMIT 1').get(EXPORT_ACTION) as { at: string } | undefined;
  return row?.at ?? '1970-01-01T00:00:00.000Z';
}

export function auditExcerpt(catalog: Catalog, keys: AuditKeys): { entries: AuditEntry[]; omitted: number } {
  const hits: AuditEntry[] = [];
  for (const raw of catalog.db.prepare('SELECT * FROM audit_log WHERE action != ? ORDER BY seq').iterate(EXPORT_ACTION)) {
    const r = raw as AuditRow;
    const details = JSON.parse(r.details) as unknown;
    if (keys.withheld?.size && auditMatches(r.action, details, { shas: new Set(), faceIds: new Set(), subjects: new Set(), decisionIds: keys.withheld })) continue;
    if (auditMatches(r.action, details, keys)) hits.push({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, details, prevHash: r.prev_hash, hash: r.hash });
  }
  return { entries: hits.slice(-AUDIT_LIMIT), omitted: Math.max(0, hits.length - AUDIT_LIMIT) };
}

/**
 * Blind verification in reports: for an examiner, the decisions they may see (visibleTo) and the ids
 * of those withheld, with a note saying so; without one, every decision.
 */
function forReader(decisions: ReportData['decisions'], examiner: string | undefined, notes: string[]): { shown: ReportData['decisions']; withheld: Set<number> } {
  if (examiner === undefined) return { shown: decisions, withheld: new Set() };
  const visible = new Set(visibleTo(decisions, examiner).map((d) => d.id));
  const withheld = new Set(decisions.filter((d) => !visible.has(d.id)).map((d) => d.id));
  if (withheld.size) {
    notes.push(
      `Prepared for ${examiner}: ${withheld.size} decision${withheld.size === 1 ? '' : 's'} by other examiners withheld (blind verification), with ${withheld.size === 1 ? 'its' : 'their'} audit entries, until ${examiner} records a decision on the same pair.`,
    );
  }
  return { shown: decisions.filter((d) => visible.has(d.id)), withheld };
}

function subjectOf(catalog: Catalog, sha256: string): string | null {
  return (catalog.db.prepare('SELECT s.name FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE p.sha256 = ?').get(sha256) as { name: string } | undefined)?.name ?? null;
}

function primaryIdx(catalog: Catalog, sha256: string): number {
  return (catalog.db.prepare('SELECT primary_idx FROM portraits WHERE sha256 = ?').get(sha256) as { primary_idx: number | null } | undefined)?.primary_idx ?? 0;
}

async function reportImage(catalog: Catalog, sha256: string, label: string, thumbnail: boolean): Promise<ReportImage> {
  const o = catalog.getOriginal(sha256);
  if (!o) throw new EngineError('not_found', `no original ${sha256.slice(0, 12)}… in this catalog`);
  const primary = primaryIdx(catalog, sha256);
  const faces = facesOf(catalog, sha256).map((f) => ({ id: f.id, idx: f.idx, primary: f.idx === primary, box: f.box, quality: { ...f.quality } as Record<string, number> }));
  let shown: ReportImage['shown'];
  const file = catalog.store.pathFor(sha256);
  if (!thumbnail && (o.format === 'jpeg' || o.format === 'png') && o.bytes <= EMBED_LIMIT) {
    shown = { mediaType: o.format === 'jpeg' ? 'image/jpeg' : 'image/png', data: await readFile(file), preview: false };
  } else {
    // A JPEG preview both HTML and PDF can show (PDF takes only JPEG and PNG; JPEG keeps photos small); sharp is deterministic.
    const side = thumbnail ? 200 : 1024;
    const data = await sharp(file).rotate().resize(side, side, { fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer();
    shown = { mediaType: 'image/jpeg', data, preview: true };
  }
  return { label, sha256, originalName: o.originalName, format: o.format, width: o.width, height: o.height, bytes: o.bytes, subject: subjectOf(catalog, sha256), shown, faces };
}

function modelsOf(deps: ReportDeps, ids: string[]): ReportModel[] {
  return [...new Set(ids)].sort().flatMap((id) => deps.model(id) ?? []);
}

export async function collectPairReport(deps: ReportDeps, pair: { a: string; b: string; faceA?: number; faceB?: number }, examiner?: string): Promise<ReportData> {
  const { catalog } = deps;
  const a = await reportImage(catalog, pair.a, 'A', false);
  const b = await reportImage(catalog, pair.b, 'B', false);
  const refA = { sha256: pair.a, ...(pair.faceA !== undefined ? { face: pair.faceA } : {}) };
  const refB = { sha256: pair.b, ...(pair.faceB !== undefined ? { face: pair.faceB } : {}) };
  const notes: string[] = [];
  const verification = await deps.verify({ a: refA, b: refB });
  // The overlays come from the same renderer as `facet diff --out`, through a scratch folder.
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'facet-report-'));
  let diff: Res<'diff.pair'> | null = null;
  const overlays: ReportOverlay[] = [];
  try {
    diff = await deps.diff({ a: refA, b: refB, outDir: scratch });
    for (const [file, caption] of [
      ['overlay-a.png', 'A with the difference map'],
      ['overlay-b.png', 'B with the difference map'],
      ['heatmap.png', 'The difference map in the aligned crop'],
    ] as const) {
      overlays.push({ caption, png: await readFile(path.join(scratch, file)) });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const faceA = a.faces.find((f) => f.idx === verification.a.face);
  const faceB = b.faces.find((f) => f.idx === verification.b.face);
  let decisions: ReportData['decisions'] = [];
  if (faceA && faceB) {
    decisions = listDecisions(catalog, faceA.id).filter((d) => (d.faceA === faceA.id && d.faceB === faceB.id) || (d.faceA === faceB.id && d.faceB === faceA.id)) as ReportData['decisions'];
  } else notes.push('The faces compared are not stored in the catalog, so no decision can be attached to them.');
  decisions.sort((x, y) => x.id - y.id);
  const { shown, withheld } = forReader(decisions, examiner, notes);
  decisions = shown;
  const keys: AuditKeys = {
    shas: new Set([pair.a, pair.b]),
    faceIds: new Set([faceA?.id, faceB?.id].filter((x): x is number => x !== undefined)),
    decisionIds: new Set(decisions.map((d) => d.id)),
    subjects: new Set([a.subject, b.subject].filter((x): x is string => x !== null)),
    withheld,
  };
  const excerpt = auditExcerpt(catalog, keys);
  return {
    kind: 'pair',
    title: `Pair ${pair.a.slice(0, 12)} / ${pair.b.slice(0, 12)}`,
    asOf: catalogAsOf(catalog),
    facetVersion: FACET_VERSION,
    catalogDir: catalog.dir,
    images: [a, b],
    overlays,
    // Timings and cache state say how the map was obtained, not what it is: left out so reports repeat.
    diff: diff && { ...diff, millis: 0, cached: false, files: [], map: [] },
    verification,
    models: modelsOf(deps, [...verification.systems.map((s) => s.system).filter((s) => s !== 'fusion'), ...(diff ? [diff.recognizer] : [])]),
    decisions,
    audit: excerpt.entries,
    auditOmitted: excerpt.omitted,
    notes,
  };
}

export async function collectSubjectReport(deps: ReportDeps, name: string, examiner?: string): Promise<ReportData> {
  const { catalog } = deps;
  const subject = catalog.db.prepare('SELECT id, name FROM subjects WHERE name = ?').get(name) as { id: number; name: string } | undefined;
  if (!subject) throw new EngineError('not_found', `there is no subject named "${name}" in this catalog`);
  const shas = (catalog.db.prepare('SELECT p.sha256 FROM portraits p JOIN originals o ON o.sha256 = p.sha256 WHERE p.subject_id = ? ORDER BY o.original_name, p.sha256').all(subject.id) as { sha256: string }[]).map(
    (r) => r.sha256,
  );
  const notes: string[] = [];
  if (shas.length > SUBJECT_PORTRAIT_LIMIT) notes.push(`The subject has ${shas.length} portraits; the first ${SUBJECT_PORTRAIT_LIMIT} by file name are shown.`);
  const images: ReportImage[] = [];
  for (const [i, sha] of shas.slice(0, SUBJECT_PORTRAIT_LIMIT).entries()) images.push(await reportImage(catalog, sha, String(i + 1), true));
  // Decisions on any face of any of the subject's portraits (with anyone).
  const faceIds = new Set(shas.flatMap((sha) => facesOf(catalog, sha).map((f) => f.id)));
  const byId = new Map<number, ReportData['decisions'][number]>();
  for (const f of faceIds) for (const d of listDecisions(catalog, f)) byId.set(d.id, d as ReportData['decisions'][number]);
  const { shown: decisions, withheld } = forReader([...byId.values()].sort((x, y) => x.id - y.id), examiner, notes);
  const excerpt = auditExcerpt(catalog, { shas: new Set(shas), faceIds, decisionIds: new Set(decisions.map((d) => d.id)), subjects: new Set([subject.name]), withheld });
  const modelIds = images.flatMap((im) => im.faces.length ? facesOf(catalog, im.sha256)[0]!.embeddings.map((e) => e.model) : []);
  return {
    kind: 'subject',
    title: `Subject ${subject.name}`,
    asOf: catalogAsOf(catalog),
    facetVersion: FACET_VERSION,
    catalogDir: catalog.dir,
    images,
    overlays: [],
    diff: null,
    verification: null,
    models: modelsOf(deps, modelIds),
    decisions,
    audit: excerpt.entries,
    auditOmitted: excerpt.omitted,
    notes,
  };
}
