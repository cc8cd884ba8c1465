import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Original } from '../../../shared/contract';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';
import { AuditLog } from './audit';
import { ContentStore } from './store';

export class CatalogError extends Error {
  override name = 'CatalogError';
}

interface OriginalRow {
  sha256: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  original_name: string;
  imported_at: string;
}

const ORIGINAL_COLUMNS = 'sha256, bytes, format, width, height, original_name, imported_at';

function toOriginal(r: OriginalRow): Original {
  return {
    sha256: r.sha256,
    bytes: r.bytes,
    format: r.format,
    width: r.width,
    height: r.height,
    originalName: r.original_name,
    importedAt: r.imported_at,
  };
}

export interface NewOriginal {
  sha256: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  originalName: string;
  sourcePath: string;
}

/**
 * A catalog is a folder: `catalog.sqlite` (WAL) plus `store/`, the content-addressed originals.
 * Every process or worker thread opens its own Catalog; SQLite's WAL and busy timeout make
 * concurrent readers and one writer safe.
 */
export class Catalog {
  readonly dir: string;
  readonly db: Database.Database;
  readonly store: ContentStore;
  readonly audit: AuditLog;

  private constructor(dir: string, db: Database.Database) {
    this.dir = dir;
    this.db = db;
    this.store = new ContentStore(path.join(dir, 'store'));
    this.audit = new AuditLog(db, path.join(dir, 'audit.head'));
  }

  static open(dir: string): Catalog {
    const abs = path.resolve(dir);
    try {
      mkdirSync(path.join(abs, 'store'), { recursive: true });
    } catch (e) {
      throw new CatalogError(`Cannot create the catalog folder ${abs}: ${(e as Error).message}`);
    }
    let db: Database.Database;
    try {
      db = new Database(path.join(abs, 'catalog.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 10000');
    } catch (e) {
      throw new CatalogError(`Cannot open the catalog database in ${abs}: ${(e as Error).message}`);
    }
    const catalog = new Catalog(abs, db);
    try {
      catalog.migrate();
    } catch (e) {
      db.close();
      throw e;
    }
    return catalog;
  }

  get schemaVersion(): number {
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
    const current = this.schemaVersion;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new CatalogError(
        `This catalog has schema version ${current}, newer than this Facet understands (${LATEST_SCHEMA_VERSION}). ` +
          'Update Facet; the catalog was not modified.',
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, new Date().toISOString());
      })();
    }
  }

  hasOriginal(sha256: string): boolean {
    return this.db.prepare('SELECT 1 FROM originals WHERE sha256 = ?').get(sha256) !== undefined;
  }

  /** Catalogues an original and records it in the audit log, atomically. */
  addOriginal(o: NewOriginal, actor: string): boolean {
    const added = this.db.transaction(() => {
      const inserted = this.insertOriginal(o);
      if (inserted) this.audit.append(actor, 'original.add', { sha256: o.sha256, name: o.originalName, source: o.sourcePath, bytes: o.bytes });
      return inserted;
    })();
    if (added) this.audit.syncHead();
    return added;
  }

  /** Stores a portrait's thumbnail (replacing an older one: thumbnails are derived, not evidence). */
  putThumbnail(sha256: string, t: { format: string; width: number; height: number; data: Uint8Array }): void {
    this.db
      .prepare(
        `INSERT INTO thumbnails (sha256, format, width, height, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sha256) DO UPDATE SET format = excluded.format, width = excluded.width, height = excluded.height, data = excluded.data`,
      )
      .run(sha256, t.format, t.width, t.height, t.data);
  }

  getThumbnail(sha256: string): { format: string; width: number; height: number; data: Buffer } | undefined {
    return this.db.prepare('SELECT format, width, height, data FROM thumbnails WHERE sha256 = ?').get(sha256) as
      | { format: string; width: number; height: number; data: Buffer }
      | undefined;
  }

  /** Returns false when the original was already catalogued (same bytes). */
  insertOriginal(o: NewOriginal): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO originals (sha256, bytes, format, width, height, original_name, source_path, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
      )
      .run(o.sha256, o.bytes, o.format, o.width, o.height, o.originalName, o.sourcePath, new Date().toISOString());
    return info.changes === 1;
  }

  stats(): { originals: number; bytes: number } {
    const row = this.db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM originals').get() as {
      n: number;
      b: number;
    };
    return { originals: row.n, bytes: row.b };
  }

  listOriginals(offset: number, limit: number, query = ''): { total: number; items: Original[] } {
    const where = query ? `WHERE original_name LIKE ? ESCAPE '\\'` : '';
    const args = query ? [`%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`] : [];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM originals ${where}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT ${ORIGINAL_COLUMNS} FROM originals ${where}
         ORDER BY imported_at DESC, sha256 LIMIT ? OFFSET ?`,
      )
      .all(...args, limit, offset) as OriginalRow[];
    return {
      total,
      items: rows.map(toOriginal),
    };
  }

  getOriginal(sha256: string): Original | undefined {
    return this.listOriginalsWhere('sha256 = ?', [sha256])[0];
  }

  /** Streams every catalogued hash in a stable order (for the store check). */
  *iterateHashes(): Generator<string> {
    for (const row of this.db.prepare('SELECT sha256 FROM originals ORDER BY sha256').iterate()) {
      yield (row as { sha256: string }).sha256;
    }
  }

  private listOriginalsWhere(where: string, args: unknown[]): Original[] {
    const rows = this.db
      .prepare(
        `SELECT ${ORIGINAL_COLUMNS} FROM originals WHERE ${where}`,
      )
      .all(...args) as OriginalRow[];
    return rows.map(toOriginal);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
