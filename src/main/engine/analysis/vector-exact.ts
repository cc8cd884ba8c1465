/**
 * Exact top-k search by inner product over a row-major matrix of L2-normalized rows (cosine).
 *
 * The scan is memory-bound (1 GB per query at 1M x 256 float32), so it runs in usearch's SIMD
 * kernels on two threads, about 6x the plain JS loop on this 2-core CPU (bench/lookalikes.ts).
 * usearch scores in float32 with its own summation order and breaks ties arbitrarily, so the
 * candidates it returns are re-scored here in double precision and ordered by (score desc, row asc);
 * a margin of extra candidates, and a plain JS scan when the k-th score is within float noise of
 * the last candidate, make the result the same as `exactTopKReference` (tested).
 */
import { exactSearch, MetricKind } from 'usearch';

export interface Hit {
  row: number;
  score: number;
}

/** Extra candidates beyond k taken from the SIMD scan, to absorb float32 rounding. */
const MARGIN = 16;
/** Scores closer than this may be ordered differently by float32 SIMD and float64 sums. */
const FLOAT_NOISE = 1e-5;

/** Cosine of a (normalized) query with row `row`, summed in double precision. */
export function rowScore(matrix: Float32Array, dim: number, row: number, q: Float32Array): number {
  let s = 0;
  const o = row * dim;
  for (let j = 0; j < dim; j++) s += matrix[o + j]! * q[j]!;
  return s;
}

/** Best first: higher score, then lower row. */
export function byScore(a: Hit, b: Hit): number {
  return b.score - a.score || a.row - b.row;
}

/**
 * The k best rows for `q` (already normalized) among the first `count` rows, best first, leaving
 * out rows `skip` rejects. Fewer than k when fewer remain.
 */
export function exactTopK(matrix: Float32Array, dim: number, count: number, q: Float32Array, k: number, skip?: (row: number) => boolean, threads = 2): Hit[] {
  if (k <= 0 || count === 0) return [];
  // First pass: assume few rows are skipped; count them only when that was wrong.
  let want = Math.min(count, k + MARGIN + 48);
  let counted = false;
  for (let pass = 0; pass < 3; pass++) {
    const found = scan(matrix, dim, count, q, want, threads);
    const kept = skip ? found.filter((h) => !skip(h.row)) : found;
    kept.sort(byScore);
    if (want >= count) return kept.slice(0, k);
    if (kept.length >= k) {
      // Rows outside the candidates score at most the weakest candidate (up to float noise).
      if (kept[k - 1]!.score - minScore(found) > FLOAT_NOISE) return kept.slice(0, k);
      want = Math.min(count, want * 4); // near-ties at the boundary: widen
    } else if (!counted) {
      let skipped = 0;
      if (skip) for (let i = 0; i < count; i++) if (skip(i)) skipped++;
      counted = true;
      want = Math.min(count, k + skipped + MARGIN);
    } else {
      want = Math.min(count, want * 4);
    }
  }
  return exactTopKReference(matrix, dim, count, q, k, skip);
}

function minScore(hits: Hit[]): number {
  let m = Infinity;
  for (const h of hits) m = Math.min(m, h.score);
  return m;
}

/** The `want` best rows by usearch's SIMD scan, re-scored in double precision. */
function scan(matrix: Float32Array, dim: number, count: number, q: Float32Array, want: number, threads: number): Hit[] {
  const data = matrix.length === count * dim ? matrix : matrix.subarray(0, count * dim);
  const { keys } = exactSearch(data, q, dim, want, MetricKind.IP, threads) as { keys: BigUint64Array };
  const hits: Hit[] = [];
  for (const key of keys) {
    const row = Number(key);
    if (row < count) hits.push({ row, score: rowScore(matrix, dim, row, q) });
  }
  return hits;
}

/**
 * Plain JS exact search: one pass of dot products and a bounded min-heap of the k best. The
 * reference the fast path is tested against, and its fallback for ties.
 */
export function exactTopKReference(matrix: Float32Array, dim: number, count: number, q: Float32Array, k: number, skip?: (row: number) => boolean): Hit[] {
  if (k <= 0) return [];
  const heap: Hit[] = []; // worst at heap[0]
  const worse = (a: Hit, b: Hit): boolean => byScore(a, b) > 0;
  for (let i = 0; i < count; i++) {
    const score = rowScore(matrix, dim, i, q);
    if (heap.length === k && !worse(heap[0]!, { row: i, score })) continue;
    if (skip?.(i)) continue;
    if (heap.length < k) {
      heap.push({ row: i, score });
      siftUp(heap, heap.length - 1, worse);
    } else {
      heap[0] = { row: i, score };
      siftDown(heap, 0, worse);
    }
  }
  return heap.sort(byScore);
}

function siftUp(h: Hit[], i: number, worse: (a: Hit, b: Hit) => boolean): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(h[i]!, h[p]!)) return;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function siftDown(h: Hit[], i: number, worse: (a: Hit, b: Hit) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let w = i;
    if (l < h.length && worse(h[l]!, h[w]!)) w = l;
    if (r < h.length && worse(h[r]!, h[w]!)) w = r;
    if (w === i) return;
    [h[i], h[w]] = [h[w]!, h[i]!];
    i = w;
  }
}
