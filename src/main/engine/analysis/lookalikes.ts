/**
 * Look-alikes: the catalog faces of other people most similar to a query face, by cosine over the
 * stored embeddings of one model file. The matrix is built once per (model, catalog state) and kept
 * L2-normalized. Catalogs up to `exactLimit` faces are searched exactly (vector-exact.ts: SIMD
 * scan, memory-bound; from QUANTIZE_FROM elements over an int8 copy whose candidates are re-scored
 * and certified exact: about 30 ms at 1M x 256 on this 2-core CPU); above, an HNSW index
 * (vector-hnsw.ts) is built in the background, and once ready its candidates are re-ranked by their
 * exact scores. Figures: bench/lookalikes.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog } from '../catalog/catalog';
import { byScore, exactTopK, quantizeRows, rowScore, SCAN_THREADS, type Hit, type QuantizedRows } from './vector-exact';
import { DEFAULT_HNSW, HnswIndex, type HnswOptions } from './vector-hnsw';

export interface IndexedFace {
  faceId: number;
  portrait: string;
  idx: number;
  subject: string | null;
}

export class EmbeddingIndex {
  private constructor(
    readonly model: string,
    readonly modelSha256: string,
    readonly dim: number,
    readonly faces: IndexedFace[],
    /** faces.length x dim, each row L2-normalized. */
    readonly matrix: Float32Array,
  ) {}

  get size(): number {
    return this.faces.length;
  }

  /** Every stored embedding of this exact model file. */
  static load(catalog: Catalog, model: string, modelSha256: string): EmbeddingIndex {
    const rows = catalog.db
      .prepare(
        `SELECT f.id AS faceId, f.portrait, f.idx, s.name AS subject, e.dim, e.vector
         FROM embeddings e JOIN faces f ON f.id = e.face_id JOIN portraits p ON p.sha256 = f.portrait
         LEFT JOIN subjects s ON s.id = p.subject_id
         WHERE e.model_id = ? AND e.model_sha256 = ? ORDER BY f.id`,
      )
      .all(model, modelSha256) as { faceId: number; portrait: string; idx: number; subject: string | null; dim: number; vector: Buffer }[];
    const dim = rows[0]?.dim ?? 0;
    const matrix = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      const v = new Float32Array(r.vector.buffer, r.vector.byteOffset, r.dim);
      matrix.set(v, i * dim);
      normalizeRow(matrix, i * dim, dim);
    });
    return new EmbeddingIndex(model, modelSha256, dim, rows.map(({ faceId, portrait, idx, subject }) => ({ faceId, portrait, idx, subject })), matrix);
  }

  /** An index over given vectors (benchmarks, tests). */
  static fromVectors(model: string, dim: number, vectors: Float32Array, faces: IndexedFace[]): EmbeddingIndex {
    const matrix = Float32Array.from(vectors);
    for (let i = 0; i < faces.length; i++) normalizeRow(matrix, i * dim, dim);
    return new EmbeddingIndex(model, '0'.repeat(64), dim, faces, matrix);
  }

  /**
   * The k most similar faces (cosine), best first (ties: lower row first), skipping those `skip`
   * rejects (e.g. the query person's own faces). Always exact.
   */
  search(query: Float32Array, k: number, skip?: (face: IndexedFace) => boolean): { face: IndexedFace; score: number }[] {
    const q = this.normalizedQuery(query);
    return this.toFaces(exactTopK(this.matrix, this.dim, this.size, q, k, skip && ((row) => skip(this.faces[row]!)), SCAN_THREADS, this.int8()));
  }

  /**
   * Look-alike search as the engine runs it: exact up to `policy.exactLimit` faces; above, the HNSW
   * index once it is built (the first call starts the build in the background and is answered
   * exactly), its candidates re-ranked by exact cosine. `search` tells which path answered.
   */
  async lookalikes(query: Float32Array, k: number, skip: ((face: IndexedFace) => boolean) | undefined, policy: LookalikePolicy): Promise<{ hits: { face: IndexedFace; score: number }[]; search: SearchInfo }> {
    const q = this.normalizedQuery(query);
    const skipRow = skip && ((row: number) => skip(this.faces[row]!));
    const exact = (index: SearchInfo['index']) => ({
      hits: this.toFaces(exactTopK(this.matrix, this.dim, this.size, q, k, skipRow, SCAN_THREADS, this.int8())),
      search: { method: 'exact' as const, exactLimit: policy.exactLimit, index, candidates: this.size },
    });
    if (this.size <= policy.exactLimit) return exact('none');
    const ann = this.approximate(policy);
    if (ann.state !== 'ready') return exact(ann.state);
    const found = await annTopK(ann.index!, this.matrix, this.dim, q, k, skipRow, policy.candidates);
    if (!found) return exact('ready'); // the query skips too many faces for the index to serve it well
    return { hits: this.toFaces(found.hits), search: { method: 'hnsw', exactLimit: policy.exactLimit, index: 'ready', candidates: found.candidates } };
  }

  /** The approximate index: its state, and a build started on first call. */
  approximate(policy: Pick<LookalikePolicy, 'hnsw' | 'persistDir'> = {}): { state: 'building' | 'ready' | 'failed'; index?: HnswIndex; error?: string; ready: Promise<HnswIndex | undefined> } {
    if (!this.ann) {
      const abort = new AbortController();
      const file = policy.persistDir ? path.join(policy.persistDir, `${this.filePrefix()}${this.fingerprint(policy.hnsw)}.usearch`) : undefined;
      if (file) mkdirSync(path.dirname(file), { recursive: true });
      const state: NonNullable<EmbeddingIndex['ann']> = {
        state: 'building',
        abort,
        ready: HnswIndex.build(this.matrix, this.dim, this.size, { ...policy.hnsw, file }, abort.signal).then(
          (index) => {
            state.state = 'ready';
            state.index = index;
            if (file && !index.loaded) void this.removeStaleFiles(file);
            return index;
          },
          (e: Error) => {
            state.state = 'failed';
            state.error = e.message;
            return undefined;
          },
        ),
      };
      this.ann = state;
    }
    return this.ann;
  }

  /** Stops a build in progress and frees the approximate index. */
  async dispose(): Promise<void> {
    const ann = this.ann;
    if (!ann) return;
    ann.abort.abort();
    await ann.index?.close();
  }

  /** Cosine of the query with every face, in index order (for evaluation). */
  scoresAll(query: Float32Array): Float32Array {
    const q = this.normalizedQuery(query);
    const out = new Float32Array(this.faces.length);
    for (let i = 0; i < this.faces.length; i++) out[i] = rowScore(this.matrix, this.dim, i, q);
    return out;
  }

  /** The int8 copy the exact scan reads once the matrix is large enough for it to pay (built on first use). */
  private int8(): QuantizedRows | undefined {
    if (this.size * this.dim < QUANTIZE_FROM) return undefined;
    return (this.quantized ??= quantizeRows(this.matrix, this.dim, this.size));
  }

  private quantized?: QuantizedRows;
  private ann?: { state: 'building' | 'ready' | 'failed'; index?: HnswIndex; error?: string; abort: AbortController; ready: Promise<HnswIndex | undefined> };

  private normalizedQuery(query: Float32Array): Float32Array {
    if (query.length !== this.dim) throw new Error(`the query has ${query.length} values; ${this.model} embeddings have ${this.dim}`);
    const q = Float32Array.from(query);
    normalizeRow(q, 0, this.dim);
    return q;
  }

  private toFaces(hits: Hit[]): { face: IndexedFace; score: number }[] {
    return hits.map((h) => ({ face: this.faces[h.row]!, score: h.score }));
  }

  private filePrefix(): string {
    return `lookalikes-${this.model.replace(/[^A-Za-z0-9_.-]/g, '_')}-${this.modelSha256.slice(0, 12)}-`;
  }

  /** Names the saved index by the rows it holds (face ids, in order) and how it was built. */
  private fingerprint(hnsw: Partial<HnswOptions> | undefined): string {
    const o = { ...DEFAULT_HNSW, ...hnsw };
    const h = createHash('sha256').update(`${this.dim}:${o.connectivity}:${o.expansionAdd}:${o.quantization}:`);
    h.update(Int32Array.from(this.faces, (f) => f.faceId));
    return h.digest('hex').slice(0, 16);
  }

  private async removeStaleFiles(keep: string): Promise<void> {
    const dir = path.dirname(keep);
    const prefix = this.filePrefix();
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(prefix) && path.join(dir, n) !== keep).map((n) => rm(path.join(dir, n), { force: true })));
  }
}

export interface LookalikePolicy {
  /** Catalogs of at most this many faces are always searched exactly. */
  exactLimit: number;
  hnsw?: Partial<HnswOptions>;
  /** Candidates asked of the index and re-ranked exactly (default DEFAULT_CANDIDATES). */
  candidates?: number;
  /** Where to keep built indexes between runs (the catalog's cache folder); none: memory only. */
  persistDir?: string;
}

export interface SearchInfo {
  method: 'exact' | 'hnsw';
  exactLimit: number;
  /** The approximate index: not needed, being built, ready, or its build failed. */
  index: 'none' | 'building' | 'ready' | 'failed';
  /** Faces scored exactly: every face (exact), or the index's candidates (hnsw). */
  candidates: number;
}

/**
 * Elements (faces x dimensions) the exact scan gets through in under 50 ms on 2 cores over the int8
 * copy: 1M x 256 in about 30 ms (the float32 scan took 72 ms; bench/lookalikes.ts). Above it (1.57M
 * faces at 256-d, 393k at 1024-d) a look-alike query is answered from the HNSW index once built.
 */
export const EXACT_BUDGET_ELEMENTS = 384 * 1024 * 1024;

/**
 * Matrices from this many elements are scanned as int8 (an extra quarter of the float32 matrix in
 * memory); below it the float32 scan takes a few ms anyway.
 */
export const QUANTIZE_FROM = 8 * 1024 * 1024;

/** Faces searched exactly for embeddings of `dim` values. */
export function defaultExactLimit(dim: number): number {
  return Math.floor(EXACT_BUDGET_ELEMENTS / Math.max(1, dim));
}

/** Candidates beyond k asked of the index at least: room for skipped faces and for exact re-ranking. */
const OVERFETCH = 64;
/**
 * Candidates asked of the index by default. More candidates widen the graph search (usearch's ef
 * becomes max(ef, k)) and every one is re-ranked exactly. On clustered 1M x 256 data (2 cores):
 * 512 gave recall@10 0.84 in 8 ms, 2048 gave 0.96 in 26 ms median (bench/lookalikes.ts).
 */
/**
 * How many of the nearest faces by plain cosine a characterization-weighted search re-ranks by the
 * metric (each needs the recognizer's feature map: one forward pass). bench/lookalikes.ts --weighted
 * measures the weighting on pools of this size.
 */
export const WEIGHTED_POOL = 100;

export const DEFAULT_CANDIDATES = 2048;

/**
 * The k best rows by exact score among the index's candidates; undefined when too many faces are
 * skipped for the index to be worth asking (the caller scans exactly instead).
 */
export async function annTopK(ann: HnswIndex, matrix: Float32Array, dim: number, q: Float32Array, k: number, skip?: (row: number) => boolean, candidates = DEFAULT_CANDIDATES): Promise<{ hits: Hit[]; candidates: number } | undefined> {
  let want = Math.max(candidates, k + OVERFETCH);
  for (let pass = 0; pass < 2; pass++) {
    const rows = await ann.search(q, want);
    const kept = (skip ? rows.filter((r) => !skip(r)) : rows).map((row) => ({ row, score: rowScore(matrix, dim, row, q) }));
    kept.sort(byScore);
    if (kept.length >= k || rows.length >= ann.size) return { hits: kept.slice(0, k), candidates: rows.length };
    let skipped = 0;
    if (skip) for (let i = 0; i < ann.size; i++) if (skip(i)) skipped++;
    want = Math.max(candidates, k + skipped + OVERFETCH);
    if (want > Math.max(4096, ann.size / 8)) return undefined;
  }
  return undefined;
}

function normalizeRow(m: Float32Array, offset: number, dim: number): void {
  let n = 0;
  for (let j = 0; j < dim; j++) n += m[offset + j]! ** 2;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let j = 0; j < dim; j++) m[offset + j] = m[offset + j]! * inv;
}

/** Average precision of retrieving `relevant` items in a ranking (1-based ranks of the relevant ones). */
export function averagePrecision(relevantRanks: number[]): number {
  const sorted = [...relevantRanks].sort((a, b) => a - b);
  if (!sorted.length) return 0;
  return sorted.reduce((s, rank, i) => s + (i + 1) / rank, 0) / sorted.length;
}
