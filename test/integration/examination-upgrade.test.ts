/**
 * Migration 7 on a catalog that already holds decisions (schema 6): they keep every field, read
 * with no checklist, role or assessment, and count for blind verification like any other.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/main/engine/catalog/catalog';
import { pairReview, recordAssessment, verificationQueue } from '../../src/main/engine/catalog/examination';
import { LATEST_SCHEMA_VERSION, migrations } from '../../src/main/engine/catalog/migrations';
import { listDecisions, recordDecision } from '../../src/main/engine/catalog/review';
import { tempDir } from '../helpers/fixtures';

describe('examination records on an upgraded catalog', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('keeps old decisions through migration 7 and applies the new rules to them', () => {
    const dir = path.join(tmp.dir, 'catalog');
    mkdirSync(dir, { recursive: true });
    const db = new Database(path.join(dir, 'catalog.sqlite'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
    for (const m of migrations.filter((m) => m.version <= 6)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    const sha = (n: number): string => String(n).repeat(64);
    for (const n of [1, 2]) {
      db.prepare("INSERT INTO originals VALUES (?, 10, 'jpeg', 10, 10, ?, '/x', 'then')").run(sha(n), `p${n}.jpg`);
      db.prepare("INSERT INTO portraits (sha256, state) VALUES (?, 'analyzed')").run(sha(n));
      db.prepare("INSERT INTO faces (id, portrait, idx, x, y, width, height, score, five, mesh, quality) VALUES (?, ?, 0, 0, 0, 5, 5, 0.9, '[]', x'', '{}')").run(n, sha(n));
    }
    db.prepare("INSERT INTO decisions (face_a, face_b, conclusion, scale, rationale, evidence, author, created_at) VALUES (1, 2, 'same', 2, 'old notes', '{}', 'olduser', 'then')").run();
    db.close();

    const catalog = Catalog.open(dir);
    try {
      expect(catalog.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      const [old] = listDecisions(catalog);
      expect(old).toMatchObject({ id: 1, conclusion: 'same', scale: 2, rationale: 'old notes', author: 'olduser', checklist: null, role: null, assessment: null });
      // The old decision is someone else's: a new examiner is blind to it and has it in their queue.
      expect(pairReview(catalog, 1, 2, 'Ana Ruiz')).toMatchObject({ blind: true, withheld: 1, decisions: [] });
      expect(verificationQueue(catalog, 'Ana Ruiz').awaiting).toHaveLength(1);
      // Her decision follows her assessment, verifies the old one, and disagrees with it.
      recordAssessment(catalog, { faceA: 1, faceB: 2, examiner: 'Ana Ruiz', kind: 'skipped' }, 'test');
      const mine = recordDecision(catalog, { faceA: 1, faceB: 2, conclusion: 'different', scale: 4, rationale: 'new look' }, {}, 'Ana Ruiz', 'test');
      expect(mine.role).toBe('verification');
      expect(pairReview(catalog, 1, 2, 'Ana Ruiz').disagreements).toEqual([expect.objectContaining({ examiners: ['olduser', 'Ana Ruiz'], reason: 'conclusions differ: same vs different' })]);
      expect(catalog.audit.verify().ok).toBe(true);
    } finally {
      catalog.close();
    }
  });
});
