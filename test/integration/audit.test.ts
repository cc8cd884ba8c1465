import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/main/engine/catalog/catalog';
import { tempDir } from '../helpers/fixtures';

/** Opens the catalog's database the way someone bypassing Facet would, triggers removed. */
function tamper(dir: string, sql: string): void {
  const db = new Database(path.join(dir, 'catalog.sqlite'));
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  db.exec(sql);
  db.close();
}

describe('audit log', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  const seeded = (name: string, n: number): Catalog => {
    const c = Catalog.open(path.join(tmp.dir, name));
    for (let i = 1; i <= n; i++) c.audit.append('examiner', 'decision.record', { pair: i, decision: i % 2 ? 'same' : 'different' });
    return c;
  };

  it('chains entries and verifies an untouched log', () => {
    const c = seeded('clean', 5);
    const report = c.audit.verify();
    expect(report).toMatchObject({ entries: 5, ok: true, problems: [] });
    const entries = c.audit.list(10);
    expect(entries.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(entries[0]!.prevHash).toBe(entries[1]!.hash);
    expect(entries[4]!.prevHash).toBe('0'.repeat(64));
    c.close();
  });

  it('refuses edits and deletions made through the catalog', () => {
    const c = seeded('guarded', 2);
    expect(() => c.db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => c.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    c.close();
  });

  it('detects an edited entry', () => {
    seeded('edited', 5).close();
    tamper(path.join(tmp.dir, 'edited'), `UPDATE audit_log SET details = '{"decision":"same","pair":2}' WHERE seq = 2`);
    const c = Catalog.open(path.join(tmp.dir, 'edited'));
    expect(c.audit.verify().problems).toEqual([{ kind: 'edited', seq: 2 }]);
    c.close();
  });

  it('detects an edited entry whose hash was recomputed naively (the next link breaks)', () => {
    seeded('rehashed', 4).close();
    tamper(path.join(tmp.dir, 'rehashed'), `UPDATE audit_log SET hash = '${'a'.repeat(64)}' WHERE seq = 2`);
    const c = Catalog.open(path.join(tmp.dir, 'rehashed'));
    const kinds = c.audit.verify().problems.map((p) => `${p.kind}@${'seq' in p ? p.seq : ''}`);
    expect(kinds).toEqual(['edited@2', 'broken-link@3']);
    c.close();
  });

  it('detects a deleted entry in the middle and one cut off the end', () => {
    seeded('deleted', 5).close();
    tamper(path.join(tmp.dir, 'deleted'), 'DELETE FROM audit_log WHERE seq = 3');
    const mid = Catalog.open(path.join(tmp.dir, 'deleted'));
    expect(mid.audit.verify().problems.map((p) => p.kind)).toEqual(['gap', 'broken-link']);
    mid.close();

    seeded('truncated', 5).close();
    tamper(path.join(tmp.dir, 'truncated'), 'DELETE FROM audit_log WHERE seq = 5');
    const end = Catalog.open(path.join(tmp.dir, 'truncated'));
    expect(end.audit.verify().problems).toEqual([{ kind: 'truncated', recordedSeq: 5, lastSeq: 4 }]);
    end.close();
  });
});
