/**
 * Entry of a job worker thread. One worker runs one job with its own catalog connection, so long
 * work never blocks the thread that serves the UI.
 */
import { userInfo } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { Catalog } from '../catalog/catalog';
import { InferenceService } from '../models/inference';
import { jobKinds } from './kinds';
import type { JobContext, ManagerMessage, WorkerInput, WorkerMessage } from './types';

const PROGRESS_INTERVAL_MS = 100;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker.ts must run in a worker thread');
  const input = workerData as WorkerInput;
  const controller = new AbortController();
  const post = (m: WorkerMessage): void => port.postMessage(m);
  port.on('message', (m: ManagerMessage) => {
    if (m.type === 'cancel') controller.abort();
  });

  let catalog: Catalog | undefined;
  let inference: InferenceService | undefined;
  try {
    catalog = Catalog.open(input.catalogDir);
    let last = 0;
    let unsent: WorkerMessage | undefined;
    const ctx: JobContext = {
      signal: controller.signal,
      catalog,
      actor: userInfo().username,
      inference() {
        if (!input.modelsDir) throw new Error('this engine was started without models');
        inference ??= new InferenceService({
          modelsDir: input.modelsDir,
          userModelsDir: path.join(input.catalogDir, 'models'),
          workerEntry: input.inferenceWorkerEntry,
        });
        return inference;
      },
      progress(done, total, message, curve) {
        // Throttled: a 13k-file import would otherwise flood every door with events.
        const update: WorkerMessage = { type: 'progress', done, total, message, ...(curve ? { curve } : {}) };
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && done !== total) {
          unsent = update;
          return;
        }
        last = now;
        unsent = undefined;
        post(update);
      },
    };
    const definition = jobKinds[input.kind];
    const result = await definition.run(input.params as never, ctx);
    // The last word on progress goes out before the result, so a cancelled job shows where it stopped.
    if (unsent) post(unsent);
    post({ type: 'result', result, cancelled: controller.signal.aborted });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    await inference?.close();
    catalog?.close();
    port.close();
  }
}

void main();
