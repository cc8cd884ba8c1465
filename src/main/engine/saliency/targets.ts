/**
 * Targets from the catalog: an identity's template is the mean of its faces' L2-normalized stored
 * embeddings for one model file, leaving out the portrait being explained (a face must not be its
 * own evidence); "not-class" is the mean of the other identities' templates, each person weighted
 * once however many portraits they have. Where the catalog stored no embeddings of this model (an
 * import keeps the recognizers it was asked for), they are computed from the stored analyses, a
 * bounded number per person.
 */
import type { Catalog } from '../catalog/catalog';
import type { Target } from './explainer';
import { normalized } from './methods/common';

interface Row {
  subject: string;
  portrait: string;
  dim: number;
  vector: Buffer;
}

function vectorOf(r: Row): Float32Array {
  return new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.dim * 4));
}

function mean(vs: Float32Array[]): Float32Array {
  const out = new Float32Array(vs[0]!.length);
  for (const v of vs) {
    const u = normalized(v);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + u[i]!;
  }
  return normalized(out);
}

export class TargetError extends Error {}

export function subjectEmbeddings(catalog: Catalog, model: string, modelSha256: string): Map<string, Row[]> {
  const rows = catalog.db
    .prepare(
      `SELECT s.name AS subject, f.portrait, e.dim, e.vector
       FROM embeddings e JOIN faces f ON f.id = e.face_id JOIN portraits p ON p.sha256 = f.portrait JOIN subjects s ON s.id = p.subject_id
       WHERE e.model_id = ? AND e.model_sha256 = ? ORDER BY f.id`,
    )
    .all(model, modelSha256) as Row[];
  const by = new Map<string, Row[]>();
  for (const r of rows) by.set(r.subject, [...(by.get(r.subject) ?? []), r]);
  return by;
}

/** Embeds one catalogued face (portrait, face number) with the target's model. */
export type FaceEmbedder = (sha256: string, idx: number) => Promise<Float32Array>;

/** Bounds on what is computed when embeddings are not stored: a template needs a few portraits, not all. */
const COMPUTED_PER_SUBJECT = 5;
const COMPUTED_SUBJECTS = 200;

function analysedPortraits(catalog: Catalog, subject: string): { sha256: string; idx: number }[] {
  return catalog.db
    .prepare(
      `SELECT f.portrait AS sha256, f.idx FROM faces f JOIN portraits p ON p.sha256 = f.portrait JOIN subjects s ON s.id = p.subject_id
       WHERE s.name = ? AND p.state = 'analyzed' AND f.idx = COALESCE(p.primary_idx, 0) ORDER BY f.id`,
    )
    .all(subject) as { sha256: string; idx: number }[];
}

async function computed(catalog: Catalog, subject: string, embed: FaceEmbedder, exclude?: string): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const f of analysedPortraits(catalog, subject).filter((f) => f.sha256 !== exclude).slice(0, COMPUTED_PER_SUBJECT)) out.push(await embed(f.sha256, f.idx));
  return out;
}

/** The identity's template, without `exclude` (the explained portrait). */
export async function classTarget(catalog: Catalog, model: string, modelSha256: string, subject: string, exclude?: string, embed?: FaceEmbedder): Promise<Target> {
  let vectors = (subjectEmbeddings(catalog, model, modelSha256).get(subject) ?? []).filter((r) => r.portrait !== exclude).map(vectorOf);
  if (!vectors.length && embed) vectors = await computed(catalog, subject, embed, exclude);
  if (!vectors.length) {
    throw new TargetError(`"${subject}" has no other analysed portrait in this catalog to form their template: import more of their portraits with analysis (or use a pair target)`);
  }
  return { kind: 'class', label: subject, vector: mean(vectors) };
}

/** Everyone but `subject`: the mean of the other identities' templates. */
export async function notClassTarget(catalog: Catalog, model: string, modelSha256: string, subject: string | null, embed?: FaceEmbedder): Promise<Target> {
  const stored = subjectEmbeddings(catalog, model, modelSha256);
  const templates = [...stored.entries()].filter(([name]) => name !== subject).map(([, rows]) => mean(rows.map(vectorOf)));
  if (embed) {
    const names = (catalog.db.prepare('SELECT name FROM subjects ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    for (const name of names.filter((n) => n !== subject && !stored.has(n)).slice(0, Math.max(0, COMPUTED_SUBJECTS - templates.length))) {
      const vs = await computed(catalog, name, embed);
      if (vs.length) templates.push(mean(vs));
    }
  }
  if (!templates.length) throw new TargetError('no other identity with analysed portraits in this catalog to contrast with');
  return { kind: 'not-class', label: subject ? `not ${subject}` : 'everyone in the catalog', vector: mean(templates) };
}

export function subjectOf(catalog: Catalog, sha256: string): string | null {
  const r = catalog.db.prepare('SELECT s.name FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE p.sha256 = ?').get(sha256) as { name: string } | undefined;
  return r?.name ?? null;
}
