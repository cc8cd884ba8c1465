/**
 * Approximate nearest neighbours (HNSW graph, usearch) for catalogs too large for an exact scan
 * within the look-alike budget. usearch over hnswlib-node: it ships prebuilt N-API binaries (no
 * compiler at install, the same binary under Node and Electron), and measured faster to build
 * (bench/lookalikes.ts).
 *
 * The index lives in its own worker thread: building one takes minutes at a million faces and
 * must not stall the engine. The worker loads a saved copy when it matches, or receives the rows
 * from the main thread in small chunks (acknowledged one by one, so at most one chunk is in
 * flight) and saves the result for the next start. Vectors are stored as float16: half the
 * memory, and the caller re-ranks the candidates with the exact float32 scores anyway.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface HnswOptions {
  /** Graph degree (usearch `connectivity`, HNSW M). */
  connectivity: number;
  /** Beam width while inserting (efConstruction). */
  expansionAdd: number;
  /** Beam width while searching (ef); a search for more neighbours widens it to k. */
  expansionSearch: number;
  quantization: 'f16' | 'f32' | 'i8';
  /** Threads for inserting (the search is one query on one thread). */
  threads: number;
  /** Save the built index here, and load it from here when it holds the same rows. */
  file?: string;
}

export const DEFAULT_HNSW: HnswOptions = { connectivity: 16, expansionAdd: 64, expansionSearch: 128, quantization: 'f16', threads: 2 };

/** Rows sent to the worker per message: 16 MB at 1024-d float32. */
const CHUNK_ROWS = 4096;

type FromWorker =
  | { type: 'need-rows' }
  | { type: 'added'; rows: number }
  | { type: 'ready'; loaded: boolean; memory: number }
  | { type: 'result'; id: number; rows: number[] }
  | { type: 'error'; id?: number; message: string };

// The worker's whole body. Kept inline (an eval worker) so that no extra bundle entry is needed; it
// loads usearch by the path resolved here, which works from sources, tests and the built app alike.
const WORKER_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const fs = require('node:fs');
const { Index } = require(w.usearch);
const make = () => new Index({ dimensions: w.dim, metric: 'ip', quantization: w.options.quantization, connectivity: w.options.connectivity, expansion_add: w.options.expansionAdd, expansion_search: w.options.expansionSearch, multi: false });
let index = make();
const ready = (loaded) => parentPort.postMessage({ type: 'ready', loaded, memory: process.memoryUsage().rss });
let loaded = false;
if (w.options.file && fs.existsSync(w.options.file)) {
  try {
    index.load(w.options.file);
    loaded = index.size() === w.count && index.dimensions() === w.dim;
  } catch { loaded = false; }
  if (!loaded) index = make();
}
if (loaded) ready(true); else parentPort.postMessage({ type: 'need-rows' });
parentPort.on('message', (m) => {
  try {
    if (m.type === 'rows') {
      const v = new Float32Array(m.buffer);
      const n = v.length / w.dim;
      const keys = new BigUint64Array(n);
      for (let i = 0; i < n; i++) keys[i] = BigInt(m.start + i);
      index.add(keys, v, w.options.threads);
      parentPort.postMessage({ type: 'added', rows: m.start + n });
    } else if (m.type === 'built') {
      if (w.options.file) {
        const tmp = w.options.file + '.part';
        index.save(tmp);
        fs.renameSync(tmp, w.options.file);
      }
      ready(false);
    } else if (m.type === 'search') {
      const r = index.search(new Float32Array(m.query), m.k, 1);
      const rows = [];
      for (const key of r.keys) if (key < BigInt(w.count)) rows.push(Number(key));
      parentPort.postMessage({ type: 'result', id: m.id, rows });
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, message: String(e && e.message || e) });
  }
});
`;

export class HnswIndex {
  private readonly pending = new Map<number, { resolve: (rows: number[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly dim: number,
    readonly size: number,
    /** Whether it came from a saved file rather than a build. */
    readonly loaded: boolean,
    readonly buildMillis: number,
    /** Resident memory of the process after the build (bytes; the worker shares the process). */
    readonly memory: number,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      if (!this.pending.size) worker.unref();
      if (m.type === 'result') p.resolve(m.rows);
      else p.reject(new Error(`look-alike index: ${m.message}`));
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', () => this.failAll(new Error('look-alike index: its worker stopped')));
  }

  /**
   * Builds (or loads) the index of the first `count` rows of `matrix` in a worker thread. The
   * main thread only copies one chunk of rows at a time. `signal` stops the build.
   */
  static build(matrix: Float32Array, dim: number, count: number, options: Partial<HnswOptions> = {}, signal?: AbortSignal): Promise<HnswIndex> {
    const opts = { ...DEFAULT_HNSW, ...options };
    const t0 = performance.now();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { usearch: createRequire(import.meta.url).resolve('usearch'), dim, count, options: opts },
    });
    return new Promise<HnswIndex>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        reject(e);
      };
      signal?.addEventListener('abort', () => fail(new Error('look-alike index build stopped')), { once: true });
      const send = (start: number): void => {
        if (start >= count) {
          worker.postMessage({ type: 'built' });
          return;
        }
        const end = Math.min(count, start + CHUNK_ROWS);
        const rows = matrix.slice(start * dim, end * dim);
        worker.postMessage({ type: 'rows', start, buffer: rows.buffer }, [rows.buffer]);
      };
      const onMessage = (m: FromWorker): void => {
        if (settled) return;
        if (m.type === 'need-rows') send(0);
        else if (m.type === 'added') send(m.rows);
        else if (m.type === 'error' && m.id === undefined) fail(new Error(`look-alike index: ${m.message}`));
        else if (m.type === 'ready') {
          settled = true;
          worker.off('message', onMessage);
          // An idle index must not keep the process alive (a search refs it while it waits).
          worker.unref();
          resolve(new HnswIndex(worker, dim, count, m.loaded, performance.now() - t0, m.memory));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (e) => fail(e));
      worker.once('exit', (code) => fail(new Error(`look-alike index: its worker stopped (${code})`)));
    });
  }

  /** Rows of the about-`k` nearest neighbours of `q` (normalized), nearest first by the index's float16 scores. */
  search(q: Float32Array, k: number): Promise<number[]> {
    if (this.closed) return Promise.reject(new Error('look-alike index: closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      const query = Float32Array.from(q);
      this.worker.postMessage({ type: 'search', id, query: query.buffer, k: Math.max(1, Math.min(k, this.size)) }, [query.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
