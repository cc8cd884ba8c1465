/**
 * The engine: everything Facet computes, in plain Node (no Electron import). Doors (IPC, loopback
 * HTTP, CLI) reach it only through `handlers`, which implement the shared contract.
 */
import os from 'node:os';
import type { FacetEvent, Method, ParsedReq, Res } from '../../shared/contract';
import { Catalog } from './catalog/catalog';
import { JobManager, type WorkerEntry } from './jobs/manager';
import { FACET_VERSION } from './version';

export interface EngineOptions {
  catalogDir: string;
  workerEntry?: WorkerEntry;
  jobConcurrency?: number;
}

export type Handlers = { [M in Method]: (request: ParsedReq<M>) => Promise<Res<M>> | Res<M> };

export interface Engine {
  readonly catalog: Catalog;
  readonly jobs: JobManager;
  readonly handlers: Handlers;
  subscribe(listener: (event: FacetEvent) => void): () => void;
  /** File and format of a catalogued original, for the doors that display it. */
  resolveMedia(sha256: string): { file: string; format: string } | undefined;
  close(): Promise<void>;
}

export function createEngine(options: EngineOptions): Engine {
  const catalog = Catalog.open(options.catalogDir);
  const jobs = new JobManager({
    catalogDir: catalog.dir,
    workerEntry: options.workerEntry,
    concurrency: options.jobConcurrency,
  });

  const handlers: Handlers = {
    'app.info': () => ({
      name: 'Facet' as const,
      version: FACET_VERSION,
      catalogDir: catalog.dir,
      schemaVersion: catalog.schemaVersion,
      runtime: { node: process.versions.node, platform: process.platform, arch: process.arch, cpus: os.cpus().length },
    }),
    'catalog.stats': () => catalog.stats(),
    'catalog.originals': (r) => catalog.listOriginals(r.offset, r.limit, r.query),
    'jobs.start': (r) => jobs.start(r),
    'jobs.cancel': (r) => jobs.cancel(r.id),
    'jobs.get': (r) => jobs.get(r.id),
    'jobs.list': () => jobs.list(),
  };

  return {
    catalog,
    jobs,
    handlers,
    subscribe: (listener) => jobs.onUpdate((job) => listener({ type: 'job', job })),
    resolveMedia(sha256) {
      const original = catalog.getOriginal(sha256);
      return original && { file: catalog.store.pathFor(sha256), format: original.format };
    },
    async close() {
      await jobs.close();
      catalog.close();
    },
  };
}
