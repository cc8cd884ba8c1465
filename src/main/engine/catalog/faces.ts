/**
 * Subjects, portraits and their analysed faces in the catalog. Every embedding names the model and
 * the model file's hash that produced it, so a result can be traced and reproduced.
 */
import type { AnalyzedFace, FaceQuality } from '../vision/pipeline';
import type { Point } from '../vision/align';
import type { Catalog } from './catalog';

export interface StoredFace {
  id: number;
  portrait: string;
  idx: number;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  five: Point[];
  quality: FaceQuality;
  embeddings: { model: string; modelSha256: string; vector: Float32Array; norm: number }[];
}

/** The subject's id, created (and audited) on first use. */
export function subjectId(catalog: Catalog, name: string, actor: string): number {
  const trimmed = name.trim();
  if (!trimmed) throw new Error('a subject needs a name');
  const found = catalog.db.prepare('SELECT id FROM subjects WHERE name = ?').get(trimmed) as { id: number } | undefined;
  if (found) return found.id;
  const id = catalog.db.transaction(() => {
    const info = catalog.db.prepare('INSERT INTO subjects (name, created_at) VALUES (?, ?)').run(trimmed, new Date().toISOString());
    catalog.audit.append(actor, 'subject.add', { name: trimmed });
    return Number(info.lastInsertRowid);
  })();
  catalog.audit.syncHead();
  return id;
}

/** Registers an original as a portrait awaiting analysis; a subject given later fills an empty one. */
export function ensurePortrait(catalog: Catalog, sha256: string, subject: number | null): void {
  catalog.db
    .prepare(
      `INSERT INTO portraits (sha256, subject_id, state) VALUES (?, ?, 'pending')
       ON CONFLICT (sha256) DO UPDATE SET subject_id = coalesce(portraits.subject_id, excluded.subject_id)`,
    )
    .run(sha256, subject);
}

/** Replaces a portrait's faces with a new analysis, atomically, and records it in the audit log. */
export function saveAnalysis(catalog: Catalog, sha256: string, faces: AnalyzedFace[], modelHashes: Record<string, string>, actor: string): void {
  const db = catalog.db;
  db.transaction(() => {
    db.prepare('DELETE FROM faces WHERE portrait = ?').run(sha256);
    const insertFace = db.prepare(
      'INSERT INTO faces (portrait, idx, x, y, width, height, score, five, mesh, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertEmbedding = db.prepare('INSERT INTO embeddings (face_id, model_id, model_sha256, dim, vector, norm) VALUES (?, ?, ?, ?, ?, ?)');
    faces.forEach((f, idx) => {
      const mesh = Float32Array.from(f.landmarks.mesh.flat());
      const info = insertFace.run(
        sha256,
        idx,
        f.detection.x,
        f.detection.y,
        f.detection.width,
        f.detection.height,
        f.detection.score,
        JSON.stringify(f.landmarks.five),
        Buffer.from(mesh.buffer, mesh.byteOffset, mesh.byteLength),
        JSON.stringify(f.quality),
      );
      for (const e of f.embeddings) {
        const hash = modelHashes[e.model];
        if (!hash) throw new Error(`no model hash for ${e.model}`);
        insertEmbedding.run(info.lastInsertRowid, e.model, hash, e.vector.length, Buffer.from(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength), e.norm);
      }
    });
    db.prepare("UPDATE portraits SET state = 'analyzed', error = NULL, analyzed_at = ? WHERE sha256 = ?").run(new Date().toISOString(), sha256);
    catalog.audit.append(actor, 'portrait.analyze', { sha256, faces: faces.length, models: modelHashes });
  })();
  catalog.audit.syncHead();
}

export function portraitState(catalog: Catalog, sha256: string): 'pending' | 'analyzed' | 'failed' | undefined {
  const row = catalog.db.prepare('SELECT state FROM portraits WHERE sha256 = ?').get(sha256) as { state: 'pending' | 'analyzed' | 'failed' } | undefined;
  return row?.state;
}

export function markFailed(catalog: Catalog, sha256: string, error: string): void {
  catalog.db.prepare("UPDATE portraits SET state = 'failed', error = ? WHERE sha256 = ?").run(error, sha256);
}

interface FaceRow {
  id: number;
  portrait: string;
  idx: number;
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  five: string;
  quality: string;
}

/** A portrait's faces, largest first, with their embeddings. */
export function facesOf(catalog: Catalog, sha256: string): StoredFace[] {
  const rows = catalog.db.prepare('SELECT id, portrait, idx, x, y, width, height, score, five, quality FROM faces WHERE portrait = ? ORDER BY idx').all(sha256) as FaceRow[];
  const emb = catalog.db.prepare('SELECT model_id, model_sha256, vector, norm FROM embeddings WHERE face_id = ? ORDER BY model_id');
  return rows.map((r) => ({
    id: r.id,
    portrait: r.portrait,
    idx: r.idx,
    box: { x: r.x, y: r.y, width: r.width, height: r.height },
    score: r.score,
    five: JSON.parse(r.five) as Point[],
    quality: JSON.parse(r.quality) as FaceQuality,
    embeddings: (emb.all(r.id) as { model_id: string; model_sha256: string; vector: Buffer; norm: number }[]).map((e) => ({
      model: e.model_id,
      modelSha256: e.model_sha256,
      vector: new Float32Array(e.vector.buffer.slice(e.vector.byteOffset, e.vector.byteOffset + e.vector.byteLength)),
      norm: e.norm,
    })),
  }));
}
