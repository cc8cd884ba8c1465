/**
 * The loopback door as a running service: engine + router + HTTP/WebSocket server. Used by
 * `facet serve` and by `npm start` where no Electron binary is installed.
 */
import { createEngine, type Engine } from './engine';
import type { WorkerEntry } from './engine/jobs/manager';
import { createRouter } from './transport/router';
import { startLoopbackServer, type LoopbackServer } from './transport/http';

export interface ServeOptions {
  catalogDir: string;
  rendererDir: string;
  workerEntry?: WorkerEntry;
  inferenceWorkerEntry?: WorkerEntry;
  modelsDir?: string;
  host?: string;
  port?: number;
}

export interface RunningService {
  engine: Engine;
  server: LoopbackServer;
  stop(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningService> {
  const engine = createEngine({
    catalogDir: options.catalogDir,
    workerEntry: options.workerEntry,
    inferenceWorkerEntry: options.inferenceWorkerEntry,
    modelsDir: options.modelsDir,
  });
  let server: LoopbackServer;
  try {
    server = await startLoopbackServer({
      router: createRouter(engine.handlers),
      subscribe: engine.subscribe,
      resolveMedia: engine.resolveMedia,
      resolveThumbnail: engine.resolveThumbnail,
      receiveUpload: engine.receiveUpload,
      rendererDir: options.rendererDir,
      host: options.host,
      port: options.port,
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  // Choose the execution provider now, not on the first analysis, so the doctor shows it at once.
  // A missing model set is reported by the doctor, not here.
  Promise.resolve()
    .then(() => engine.inference().info())
    .catch(() => undefined);
  return {
    engine,
    server,
    async stop() {
      await server.close();
      await engine.close();
    },
  };
}
