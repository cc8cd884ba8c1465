import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a worker script lives, and how Node must start it. */
export interface WorkerEntry {
  file: string;
  execArgv?: string[];
}

/**
 * The worker `<name>` beside the module at `moduleUrl`. From TypeScript sources (tests, tsx) a
 * worker thread does not inherit the TypeScript loader, so `<name>-from-source.mjs` starts
 * `<name>.ts` through tsx; built bundles pass their own entries (see src/main/layout.ts).
 */
export function workerEntryBeside(moduleUrl: string, name: string): WorkerEntry {
  const here = path.dirname(fileURLToPath(moduleUrl));
  if (existsSync(path.join(here, `${name}.ts`))) return { file: path.join(here, `${name}-from-source.mjs`) };
  return { file: path.join(here, `${name}.js`) };
}
