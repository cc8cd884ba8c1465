/**
 * A large synthetic catalog written straight into SQLite (originals, subjects, portraits, faces
 * with quality signals), for paging and filtering tests and the catalog benchmark. Plumbing only:
 * no image, no model; the values are drawn from a seeded generator so the ground truth is known.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../../src/main/engine/catalog/catalog';

export interface SyntheticRow {
  sha256: string;
  name: string;
  importedAt: string;
  subject: string | null;
  /** null: not analysed; [] analysed without a face. */
  faces: { score: number; width: number; interOcular: number; sharpness: number }[] | null;
}

export function syntheticRows(n: number, seed = 1): SyntheticRow[] {
  let t = seed >>> 0;
  const rand = (): number => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const subjects = Array.from({ length: Math.max(3, Math.round(n / 20)) }, (_, i) => `Person_${String(i).padStart(5, '0')}`);
  const start = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const sha256 = createHash('sha256').update(`synthetic ${seed} ${i}`).digest('hex');
    const subject = rand() < 0.9 ? subjects[Math.floor(rand() * subjects.length)]! : null;
    const kind = rand();
    const faceCount = kind < 0.05 ? null : kind < 0.1 ? 0 : 1 + Math.floor(rand() * 2);
    const faces =
      faceCount === null
        ? null
        : Array.from({ length: faceCount }, () => ({ score: 0.5 + rand() / 2, width: 20 + rand() * 300, interOcular: 8 + rand() * 120, sharpness: rand() * 400 }));
    return {
      sha256,
      name: `${subject ?? 'unnamed'}_${String(i).padStart(6, '0')}.jpg`,
      // Imports spread over 60 days.
      importedAt: new Date(start + Math.floor(rand() * 60 * 86_400_000)).toISOString(),
      subject,
      faces,
    };
  });
}

export function seedCatalog(catalog: Catalog, rows: SyntheticRow[]): void {
  const db = catalog.db;
  const subjectIds = new Map<string, number>();
  db.transaction(() => {
    const addSubject = db.prepare('INSERT INTO subjects (name, created_at) VALUES (?, ?)');
    const addOriginal = db.prepare(
      "INSERT INTO originals (sha256, bytes, format, width, height, original_name, source_path, imported_at) VALUES (?, 1000, 'jpeg', 250, 250, ?, ?, ?)",
    );
    const addPortrait = db.prepare('INSERT INTO portraits (sha256, subject_id, state) VALUES (?, ?, ?)');
    const addFace = db.prepare("INSERT INTO faces (portrait, idx, x, y, width, height, score, five, mesh, quality) VALUES (?, ?, 10, 10, ?, ?, ?, '[]', x'', ?)");
    for (const r of rows) {
      let sid: number | null = null;
      if (r.subject) {
        sid = subjectIds.get(r.subject) ?? Number(addSubject.run(r.subject, r.importedAt).lastInsertRowid);
        subjectIds.set(r.subject, sid);
      }
      addOriginal.run(r.sha256, r.name, `/synthetic/${r.name}`, r.importedAt);
      addPortrait.run(r.sha256, sid, r.faces === null ? 'pending' : 'analyzed');
      r.faces?.forEach((f, idx) =>
        addFace.run(r.sha256, idx, f.width, f.width, f.score, JSON.stringify({ detectorScore: f.score, boxWidth: f.width, interOcular: f.interOcular, sharpness: f.sharpness })),
      );
    }
  })();
}
