/**
 * Look-alike vector search: the SIMD exact search against a naive sort of every score (ties, skips,
 * k beyond the catalog, empty), and the HNSW index against exact search on seeded clustered data
 * (recall@10, skipped faces, saved and reloaded index).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { annTopK, EmbeddingIndex, type IndexedFace } from '../../src/main/engine/analysis/lookalikes';
import { exactTopK, exactTopKReference, quantizeRows, type Hit } from '../../src/main/engine/analysis/vector-exact';
import { tempDir } from '../helpers/fixtures';

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function gaussian(rnd: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
}

function normalize(v: Float32Array, offset: number, dim: number): void {
  let n = 0;
  for (let j = 0; j < dim; j++) n += v[offset + j]! ** 2;
  for (let j = 0; j < dim; j++) v[offset + j] = v[offset + j]! / Math.sqrt(n);
}

/** n rows: `people` centres, each row a centre plus noise, L2-normalized. */
function clustered(n: number, dim: number, people: number, seed: number): { matrix: Float32Array; centres: Float32Array; personOf: Int32Array } {
  const g = gaussian(lcg(seed));
  const centres = Float32Array.from({ length: people * dim }, g);
  const matrix = new Float32Array(n * dim);
  const personOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    personOf[i] = i % people;
    for (let j = 0; j < dim; j++) matrix[i * dim + j] = centres[personOf[i]! * dim + j]! + 0.6 * g();
    normalize(matrix, i * dim, dim);
  }
  return { matrix, centres, personOf };
}

/** A new face of person p: its centre plus fresh noise, normalized. */
function nearQuery(data: { centres: Float32Array }, p: number, dim: number, g: () => number): Float32Array {
  const q = Float32Array.from({ length: dim }, (_, j) => data.centres[p * dim + j]! + 0.6 * g());
  normalize(q, 0, dim);
  return q;
}

/** Every score in double precision, sorted by (score desc, row asc): what any search must return. */
function naive(matrix: Float32Array, dim: number, count: number, q: Float32Array, k: number, skip?: (row: number) => boolean): Hit[] {
  const all: Hit[] = [];
  for (let row = 0; row < count; row++) {
    if (skip?.(row)) continue;
    let score = 0;
    for (let j = 0; j < dim; j++) score += matrix[row * dim + j]! * q[j]!;
    all.push({ row, score });
  }
  return all.sort((a, b) => b.score - a.score || a.row - b.row).slice(0, Math.max(0, k));
}

const facesFor = (n: number, personOf?: Int32Array): IndexedFace[] =>
  Array.from({ length: n }, (_, i) => ({ faceId: i + 1, portrait: `p${i}`, idx: 0, subject: personOf ? `person${personOf[i]}` : null }));

describe('exact search', () => {
  const dim = 48;
  const data = clustered(3000, dim, 300, 7);
  const g = gaussian(lcg(11));

  it('returns what a naive sort of every score returns, with and without skipped rows', () => {
    for (let t = 0; t < 20; t++) {
      const q = nearQuery(data, t * 13, dim, g);
      const skipFew = (row: number): boolean => row % 7 === 3 || data.personOf[row] === t * 13;
      // Skips 95 % of the rows: more than the first pass's candidates, so the skipped rows are counted.
      const skipMost = (row: number): boolean => row % 20 !== 0;
      for (const [k, skip] of [[1, undefined], [10, undefined], [20, skipFew], [10, skipMost], [150, skipMost]] as const) {
        const want = naive(data.matrix, dim, 3000, q, k, skip);
        expect(exactTopK(data.matrix, dim, 3000, q, k, skip)).toEqual(want);
        expect(exactTopKReference(data.matrix, dim, 3000, q, k, skip)).toEqual(want);
      }
    }
  });

  it('orders ties by row, also when the tied rows outnumber the candidates of the first pass', () => {
    const n = 1000;
    const m = new Float32Array(n * dim);
    const g2 = gaussian(lcg(5));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) m[i * dim + j] = g2();
      normalize(m, i * dim, dim);
    }
    // 200 copies of one vector at rows 300..499 (the first pass asks for k + 64 = 74 rows).
    for (let i = 301; i < 500; i++) m.copyWithin(i * dim, 300 * dim, 301 * dim);
    const q = m.slice(300 * dim, 301 * dim);
    const hits = exactTopK(m, dim, n, q, 10);
    expect(hits.map((h) => h.row)).toEqual([300, 301, 302, 303, 304, 305, 306, 307, 308, 309]);
    expect(hits).toEqual(naive(m, dim, n, q, 10));
    // Skipping the first 150 copies: the next copies by row.
    const skip = (row: number): boolean => row >= 300 && row < 450;
    expect(exactTopK(m, dim, n, q, 60, skip)).toEqual(naive(m, dim, n, q, 60, skip));
    expect(exactTopK(m, dim, n, q, 60, skip).slice(0, 3).map((h) => h.row)).toEqual([450, 451, 452]);
  });

  it('over the int8 copy, still returns exactly what the naive sort returns', () => {
    const int8 = quantizeRows(data.matrix, dim, 3000);
    // The bound is real: no row's dequantized score is further from its float score than it says.
    const q0 = nearQuery(data, 5, dim, g);
    let worst = 0;
    const q8 = q0.map((v) => Math.max(-127, Math.min(127, Math.round(v * int8.scale))));
    for (let row = 0; row < 3000; row++) {
      let exact = 0;
      let approx = 0;
      for (let j = 0; j < dim; j++) {
        exact += data.matrix[row * dim + j]! * q0[j]!;
        approx += int8.data[row * dim + j]! * q8[j]!;
      }
      worst = Math.max(worst, Math.abs(exact - approx / int8.scale ** 2));
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(int8.maxResidual + Math.sqrt(q0.reduce((s, v, j) => s + (v - q8[j]! / int8.scale) ** 2, 0)) * int8.maxNorm);
    for (let t = 0; t < 20; t++) {
      const q = nearQuery(data, t * 17, dim, g);
      const skipFew = (row: number): boolean => row % 5 === 1 || data.personOf[row] === t * 17;
      const skipMost = (row: number): boolean => row % 25 !== 0;
      for (const [k, skip] of [[1, undefined], [10, undefined], [20, skipFew], [10, skipMost]] as const) {
        expect(exactTopK(data.matrix, dim, 3000, q, k, skip, 2, int8)).toEqual(naive(data.matrix, dim, 3000, q, k, skip));
      }
    }
  });

  it('over the int8 copy, widens when rows differ by less than int8 can tell, and stays exact', () => {
    // 400 near-copies of one row, each nudged by far less than an int8 step: the scan ranks them
    // (almost) alike, only the float scores tell them apart.
    const n = 2000;
    const m = new Float32Array(n * dim);
    const g2 = gaussian(lcg(9));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) m[i * dim + j] = g2();
      normalize(m, i * dim, dim);
    }
    for (let i = 1000; i < 1400; i++) {
      for (let j = 0; j < dim; j++) m[i * dim + j] = m[999 * dim + j]! + 1e-4 * g2();
      normalize(m, i * dim, dim);
    }
    const int8 = quantizeRows(m, dim, n);
    const q = m.slice(999 * dim, 1000 * dim);
    expect(exactTopK(m, dim, n, q, 10, undefined, 2, int8)).toEqual(naive(m, dim, n, q, 10));
    expect(exactTopK(m, dim, n, q, 30, (row) => row % 3 === 0, 2, int8)).toEqual(naive(m, dim, n, q, 30, (row) => row % 3 === 0));
  });

  it('returns every row when k exceeds the catalog, and nothing from an empty one or for k = 0', () => {
    const q = nearQuery(data, 1, dim, g);
    expect(exactTopK(data.matrix, dim, 50, q, 80)).toEqual(naive(data.matrix, dim, 50, q, 80));
    expect(exactTopK(data.matrix, dim, 50, q, 80)).toHaveLength(50);
    expect(exactTopK(data.matrix, dim, 50, q, 80, (r) => r < 45)).toEqual(naive(data.matrix, dim, 50, q, 80, (r) => r < 45));
    expect(exactTopK(new Float32Array(0), dim, 0, q, 10)).toEqual([]);
    expect(exactTopK(data.matrix, dim, 3000, q, 0)).toEqual([]);
    const empty = EmbeddingIndex.fromVectors('m', dim, new Float32Array(0), []);
    expect(empty.search(q, 10)).toEqual([]);
  });

  it('normalizes the query, skips by face, and rejects a query of another length', () => {
    const index = EmbeddingIndex.fromVectors('m', dim, data.matrix, facesFor(3000, data.personOf));
    const q = nearQuery(data, 42, dim, g);
    const scaled = q.map((v) => v * 7);
    const hits = index.search(scaled, 15, (f) => f.subject === 'person42');
    const want = naive(data.matrix, dim, 3000, q, 15, (row) => data.personOf[row] === 42);
    expect(hits.map((h) => h.face.faceId)).toEqual(want.map((h) => h.row + 1));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 6));
    expect(() => index.search(new Float32Array(dim + 1), 5)).toThrow(/has 49 values; m embeddings have 48/);
  });
});

describe('HNSW index', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const dim = 128;
  const n = 12_000;
  const data = clustered(n, dim, 1200, 21);
  const index = EmbeddingIndex.fromVectors('clustered', dim, data.matrix, facesFor(n, data.personOf));
  const g = gaussian(lcg(99));
  const qs = Array.from({ length: 50 }, (_, i) => nearQuery(data, (i * 37) % 1200, dim, g));
  const persistDir = path.join(tmp.dir, 'cache');
  afterAll(() => index.dispose());

  it('finds the exact top 10 for queries near stored faces (recall@10 >= 0.95 from k + 64 candidates)', async () => {
    const ann = await index.approximate({ persistDir }).ready;
    expect(ann, index.approximate().error).toBeDefined();
    expect(ann!.size).toBe(n);
    let recall = 0;
    for (const q of qs) {
      const exact = naive(data.matrix, dim, n, q, 10);
      const found = (await annTopK(ann!, index.matrix, dim, q, 10, undefined, 74))!;
      expect(found.candidates).toBe(74);
      // Re-ranked exactly: best first, with exact scores.
      expect(found.hits.map((h) => h.score)).toEqual([...found.hits].sort((a, b) => b.score - a.score).map((h) => h.score));
      for (const h of found.hits) expect(h.score).toBe(naive(data.matrix.subarray(h.row * dim), dim, 1, q, 1)[0]!.score);
      const want = new Set(exact.map((h) => h.row));
      recall += found.hits.filter((h) => want.has(h.row)).length / 10 / qs.length;
    }
    expect(recall).toBeGreaterThanOrEqual(0.95);
  }, 120_000);

  it('answers exactly below the limit, from the index above it, and leaves out skipped faces', async () => {
    const skip = (f: IndexedFace): boolean => f.subject === 'person74';
    const q = qs[2]!; // person 74
    const small = await index.lookalikes(q, 10, skip, { exactLimit: n });
    expect(small.search).toEqual({ method: 'exact', exactLimit: n, index: 'none', candidates: n });
    const large = await index.lookalikes(q, 10, skip, { exactLimit: 1000, persistDir });
    expect(large.search).toEqual({ method: 'hnsw', exactLimit: 1000, index: 'ready', candidates: 2048 });
    expect(large.hits.every((h) => h.face.subject !== 'person74')).toBe(true);
    expect(large.hits.map((h) => h.face.faceId)).toEqual(small.hits.map((h) => h.face.faceId));
    // Skipping most of the catalog: the index cannot serve it, so the answer is exact.
    const most = await index.lookalikes(q, 10, (f) => f.faceId % 1000 !== 0, { exactLimit: 1000 });
    expect(most.search).toMatchObject({ method: 'exact', index: 'ready' });
    expect(most.hits.map((h) => h.face.faceId)).toEqual(naive(data.matrix, dim, n, q, 10, (row) => (row + 1) % 1000 !== 0).map((h) => h.row + 1));
  });

  it('saves the index beside the catalog and loads it back for the same faces; other faces get their own', async () => {
    const files = readdirSync(persistDir).filter((f) => f.endsWith('.usearch'));
    expect(files).toHaveLength(1);
    const file = path.join(persistDir, files[0]!);
    const before = statSync(file);
    const again = EmbeddingIndex.fromVectors('clustered', dim, data.matrix, facesFor(n, data.personOf));
    const first = await again.lookalikes(qs[0]!, 10, undefined, { exactLimit: 1000, persistDir });
    expect(first.search.index).toBe('building'); // the first call starts loading and is answered exactly
    const ann = (await again.approximate().ready)!;
    expect(ann.loaded).toBe(true);
    expect(statSync(file).ino).toBe(before.ino);
    const reloaded = await again.lookalikes(qs[0]!, 10, undefined, { exactLimit: 1000, persistDir });
    expect(reloaded.search.method).toBe('hnsw');
    expect(reloaded.hits).toEqual((await index.lookalikes(qs[0]!, 10, undefined, { exactLimit: 1000, persistDir })).hits);
    await again.dispose();
    // One face fewer: another index, and the stale file goes once it is saved.
    const fewer = EmbeddingIndex.fromVectors('clustered', dim, data.matrix.subarray(0, (n - 1) * dim), facesFor(n - 1, data.personOf));
    const built = (await fewer.approximate({ persistDir }).ready)!;
    expect(built.loaded).toBe(false);
    await expect.poll(() => existsSync(file)).toBe(false);
    expect(readdirSync(persistDir).filter((f) => f.endsWith('.usearch'))).toHaveLength(1);
    await fewer.dispose();
  }, 120_000);
});
