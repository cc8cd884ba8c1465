import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import { facesOf } from '../../src/main/engine/catalog/faces';
import type { JobSnapshot } from '../../src/shared/contract';
import { hasSharedData, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';
import { cosine } from '../helpers/math';

const PEOPLE = ['Aaron_Peirsol', 'Abel_Pacheco', 'Akhmed_Zakayev'];

function ingestResult(job: JobSnapshot) {
  if (job.kind !== 'store.ingest' || !job.result) throw new Error(`no ingest result: ${JSON.stringify(job.error)}`);
  return job.result;
}

describe.skipIf(!hasSharedData)('import with face analysis (LFW folders)', () => {
  const tmp = tempDir();
  const input = path.join(tmp.dir, 'lfw');
  let engine: Engine;

  beforeAll(() => {
    for (const p of PEOPLE) cpSync(path.join(SHARED_DATA, 'lfw/images', p), path.join(input, p), { recursive: true });
    mkdirSync(path.join(tmp.dir, 'catalog'));
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: path.join(REPO_ROOT, 'resources/models') });
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  const importAll = async () =>
    ingestResult(
      await engine.jobs.waitFor(
        engine.jobs.start({ kind: 'store.ingest', params: { paths: [input], subjectFromFolder: true, analyze: true, recognizers: ['faceres', 'mobileface'] } }).id,
      ),
    );

  it('names subjects from folders, stores faces and embeddings with their model hashes, and audits it', async () => {
    const r = await importAll();
    expect(r.errors).toEqual([]);
    expect(r.added).toBe(r.files);
    expect(r.analyzed).toBe(r.files);
    expect(r.faces).toBeGreaterThanOrEqual(r.files);
    const db = engine.catalog.db;
    expect((db.prepare('SELECT name FROM subjects ORDER BY name').all() as { name: string }[]).map((s) => s.name)).toEqual(PEOPLE);
    expect(db.prepare("SELECT count(*) AS n FROM portraits WHERE state = 'analyzed'").get()).toEqual({ n: r.files });
    const hashes = Object.fromEntries(engine.inference().registry.manifest.models.map((m) => [m.id, m.sha256]));
    const rows = db.prepare('SELECT model_id, model_sha256, dim FROM embeddings').all() as { model_id: string; model_sha256: string; dim: number }[];
    expect(rows.length).toBe(r.faces * 2);
    for (const e of rows) expect(e.model_sha256).toBe(hashes[e.model_id]);
    const audit = engine.catalog.audit;
    expect(audit.list(1000).filter((e) => e.action === 'portrait.analyze')).toHaveLength(r.files);
    expect(audit.verify().ok).toBe(true);
  });

  it('the stored embeddings place each subject nearer its own portraits than the others', async () => {
    type Row = { sha256: string; name: string };
    const portraits = engine.catalog.db.prepare('SELECT p.sha256, s.name FROM portraits p JOIN subjects s ON s.id = p.subject_id').all() as Row[];
    const vec = (sha: string): Float32Array => facesOf(engine.catalog, sha)[0]!.embeddings.find((e) => e.model === 'faceres')!.vector;
    let same = 0;
    let sameN = 0;
    let diff = 0;
    let diffN = 0;
    for (let i = 0; i < portraits.length; i++) {
      for (let j = i + 1; j < portraits.length; j++) {
        const c = cosine(vec(portraits[i]!.sha256), vec(portraits[j]!.sha256));
        if (portraits[i]!.name === portraits[j]!.name) {
          same += c;
          sameN++;
        } else {
          diff += c;
          diffN++;
        }
      }
    }
    expect(same / sameN).toBeGreaterThan(diff / diffN + 0.2);
  });

  it('resumes: a portrait left unanalysed is analysed on the next import, nothing is duplicated', async () => {
    const db = engine.catalog.db;
    const [victim] = db.prepare('SELECT sha256 FROM portraits LIMIT 1').all() as { sha256: string }[];
    db.prepare('DELETE FROM faces WHERE portrait = ?').run(victim!.sha256);
    db.prepare("UPDATE portraits SET state = 'pending' WHERE sha256 = ?").run(victim!.sha256);
    const before = db.prepare('SELECT count(*) AS n FROM faces').get() as { n: number };
    const r = await importAll();
    expect(r.added).toBe(0);
    expect(r.duplicates).toHaveLength(r.files);
    expect(r.analyzed).toBe(1);
    const after = db.prepare('SELECT count(*) AS n FROM faces').get() as { n: number };
    expect(after.n).toBe(before.n + r.faces);
    expect(db.prepare('SELECT count(*) AS n FROM originals').get()).toEqual({ n: r.files });
  });
});
