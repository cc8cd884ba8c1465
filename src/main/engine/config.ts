import envPaths from 'env-paths';
import path from 'node:path';

export const CATALOG_ENV = 'FACET_CATALOG';

/**
 * Catalog folder: an explicit --catalog wins, then $FACET_CATALOG, then the platform's user-data
 * folder (~/.local/share/Facet on Linux; the Electron door passes app.getPath('userData')).
 */
export function resolveCatalogDir(explicit?: string, userDataDir?: string): string {
  if (explicit) return path.resolve(explicit);
  const fromEnv = process.env[CATALOG_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  const base = userDataDir ?? envPaths('Facet', { suffix: '' }).data;
  return path.join(base, 'catalog');
}
