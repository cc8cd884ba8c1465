/**
 * Look-alikes: the catalog faces of other people most similar to a query face, by exact cosine
 * search over the stored embeddings of one model file. The matrix is built once per (model,
 * catalog state) and kept L2-normalized, so a query is one pass of dot products plus a top-k
 * selection: about 15 ms at 10k and 150 ms at 100k 1024-d faces on this 2-core CPU
 * (bench/lookalikes.ts); millions of faces would need an approximate index.
 */
import type { Catalog } from '../catalog/catalog';

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
   * The k most similar faces (cosine), best first, skipping those `skip` rejects (e.g. the query
   * person's own faces).
   */
  search(query: Float32Array, k: number, skip?: (face: IndexedFace) => boolean): { face: IndexedFace; score: number }[] {
    if (query.length !== this.dim) throw new Error(`the query has ${query.length} values; ${this.model} embeddings have ${this.dim}`);
    const q = Float32Array.from(query);
    normalizeRow(q, 0, this.dim);
    const d = this.dim;
    const m = this.matrix;
    // Top-k kept sorted ascending in small arrays: k is small, the scan is what costs.
    const topScore: number[] = [];
    const topIndex: number[] = [];
    for (let i = 0, o = 0; i < this.faces.length; i++, o += d) {
      let s = 0;
      for (let j = 0; j < d; j++) s += m[o + j]! * q[j]!;
      if (topScore.length === k && s <= topScore[0]!) continue;
      if (skip?.(this.faces[i]!)) continue;
      let at = 0;
      while (at < topScore.length && topScore[at]! < s) at++;
      topScore.splice(at, 0, s);
      topIndex.splice(at, 0, i);
      if (topScore.length > k) {
        topScore.shift();
        topIndex.shift();
      }
    }
    return topIndex.map((i, n) => ({ face: this.faces[i]!, score: topScore[n]! })).reverse();
  }

  /** Cosine of the query with every face, in index order (for evaluation). */
  scoresAll(query: Float32Array): Float32Array {
    const q = Float32Array.from(query);
    normalizeRow(q, 0, this.dim);
    const out = new Float32Array(this.faces.length);
    for (let i = 0, o = 0; i < this.faces.length; i++, o += this.dim) {
      let s = 0;
      for (let j = 0; j < this.dim; j++) s += this.matrix[o + j]! * q[j]!;
      out[i] = s;
    }
    return out;
  }
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
