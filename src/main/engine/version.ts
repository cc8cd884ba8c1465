import { createRequire } from 'node:module';

// package.json is the one place the version is written; read at run time so bundles agree with it.
const requireHere = createRequire(import.meta.url);
function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json', '../package.json']) {
    try {
      const pkg = requireHere(rel) as { name?: string; version?: string };
      if (pkg.name === 'facet' && pkg.version) return pkg.version;
    } catch {
      // try the next level: sources and bundles sit at different depths
    }
  }
  return '0.0.0-unknown';
}
export const FACET_VERSION = readVersion();
