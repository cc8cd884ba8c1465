import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerEntry } from './engine/jobs/manager';

/**
 * Where the built pieces sit relative to a built entry in out/main: the renderer in out/renderer,
 * the job worker beside the entry. Entries pass their own import.meta.url.
 */
export function builtLayout(entryUrl: string): {
  rendererDir: string;
  workerEntry: WorkerEntry;
  inferenceWorkerEntry: WorkerEntry;
  modelsDir: string;
  preload: string;
} {
  const here = path.dirname(fileURLToPath(entryUrl));
  return {
    rendererDir: path.resolve(here, '../renderer'),
    workerEntry: { file: path.join(here, 'worker.js') },
    inferenceWorkerEntry: { file: path.join(here, 'inference-worker.js') },
    modelsDir: path.resolve(here, '../../resources/models'),
    preload: path.resolve(here, '../preload/index.cjs'),
  };
}

export function assertBuilt(rendererDir: string): void {
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error(`The user interface is not built (${rendererDir}/index.html is missing). Run \`npm run build\`.`);
  }
}
