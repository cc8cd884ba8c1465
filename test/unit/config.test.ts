import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG_ENV, resolveCatalogDir } from '../../src/main/engine/config';

describe('catalog location', () => {
  const saved = process.env[CATALOG_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[CATALOG_ENV];
    else process.env[CATALOG_ENV] = saved;
  });

  it('prefers --catalog, then $FACET_CATALOG, then the user-data folder', () => {
    process.env[CATALOG_ENV] = '/env/catalog';
    expect(resolveCatalogDir('/flag/catalog')).toBe('/flag/catalog');
    expect(resolveCatalogDir()).toBe('/env/catalog');
    delete process.env[CATALOG_ENV];
    expect(resolveCatalogDir(undefined, '/electron/userData')).toBe('/electron/userData/catalog');
    if (process.platform === 'linux' && !process.env['XDG_DATA_HOME']) {
      expect(resolveCatalogDir()).toBe(path.join(os.homedir(), '.local/share/Facet/catalog'));
    }
  });

  it('makes a relative --catalog absolute against the working directory', () => {
    expect(resolveCatalogDir('cases/a')).toBe(path.resolve('cases/a'));
  });
});
