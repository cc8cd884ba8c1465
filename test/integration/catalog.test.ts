import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, CatalogError } from '../../src/main/engine/catalog/catalog';
import { LATEST_SCHEMA_VERSION } from '../../src/main/engine/catalog/migrations';
import { sha256Hex } from '../../src/main/engine/catalog/store';
import { noiseImage, tempDir } from '../helpers/fixtures';

describe('catalog', () => {
  const tmp = tempDir();
  afterEach(() => undefined);

  it('creates a WAL database at the latest schema, and reopening migrates nothing twice', () => {
    const dir = path.join(tmp.dir, 'a');
    const c1 = Catalog.open(dir);
    expect(c1.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(c1.db.pragma('journal_mode', { simple: true })).toBe('wal');
    c1.close();
    const c2 = Catalog.open(dir);
    const rows = c2.db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number };
    expect(rows.n).toBe(LATEST_SCHEMA_VERSION);
    c2.close();
  });

  it('refuses a catalog from a newer Facet and leaves it untouched', () => {
    const dir = path.join(tmp.dir, 'newer');
    Catalog.open(dir).close();
    const db = new Database(path.join(dir, 'catalog.sqlite'));
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x')").run();
    db.close();
    expect(() => Catalog.open(dir)).toThrow(CatalogError);
    expect(() => Catalog.open(dir)).toThrow(/schema version 999/);
  });

  it('stores originals content-addressed, read-only, once', async () => {
    const c = Catalog.open(path.join(tmp.dir, 'store'));
    const data = await noiseImage(7);
    const sha = await c.store.put(data);
    expect(sha).toBe(sha256Hex(data));
    const file = c.store.pathFor(sha);
    expect(file.endsWith(path.join(sha.slice(0, 2), sha))).toBe(true);
    expect(await readFile(file)).toEqual(data);
    expect(statSync(file).mode & 0o222).toBe(0); // nobody may write an original
    expect(await c.store.put(data)).toBe(sha); // idempotent
    expect(await c.store.hashOnDisk(sha)).toBe(sha);
    expect(await c.store.hashOnDisk('0'.repeat(64))).toBeUndefined();
    expect(() => c.store.pathFor('../../etc/passwd')).toThrow(/Not a SHA-256/);
    c.close();
  });

  it('lists and filters originals, treating LIKE wildcards in the query literally', () => {
    const c = Catalog.open(path.join(tmp.dir, 'list'));
    const add = (name: string, n: number): void => {
      c.insertOriginal({
        sha256: n.toString(16).padStart(64, '0'),
        bytes: 10,
        format: 'png',
        width: 4,
        height: 4,
        originalName: name,
        sourcePath: `/x/${name}`,
      });
    };
    add('Ada_Lovelace_0001.jpg', 1);
    add('Ada_Lovelace_0002.jpg', 2);
    add('Alan%Turing.jpg', 3);
    expect(c.insertOriginal({ sha256: (1).toString(16).padStart(64, '0'), bytes: 1, format: 'png', width: 1, height: 1, originalName: 'dup', sourcePath: '/d' })).toBe(false);
    expect(c.listOriginals(0, 10).total).toBe(3);
    expect(c.listOriginals(0, 10, 'Lovelace').items.map((o) => o.originalName).sort()).toEqual([
      'Ada_Lovelace_0001.jpg',
      'Ada_Lovelace_0002.jpg',
    ]);
    expect(c.listOriginals(0, 10, '%').items.map((o) => o.originalName)).toEqual(['Alan%Turing.jpg']);
    expect(c.listOriginals(0, 1).items).toHaveLength(1);
    expect(c.stats()).toEqual({ originals: 3, bytes: 30 });
    c.close();
  });

  it('cleans up', () => tmp.cleanup());
});
