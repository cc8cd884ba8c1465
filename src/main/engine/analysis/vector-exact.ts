/**
 * Exact top-k search by inner product over a row-major matrix of L2-normalized rows (cosine).
 *
 * The scan is memory-bound (1 GB per query at 1M x 256 float32), so it runs in usearch's SIMD
 * kernels, about 4x the plain JS loop on this 2-core CPU (bench/lookalikes.ts).
 * usearch scores in float32 with its own summation order and breaks ties arbitrarily, so the
 * candidates it returns are re-scored here in double precision and ordered by (score desc, row asc);
 * a margin of extra candidates, and a plain JS scan when the k-th score is within float noise of
 * the last candidate, make the result the same as `exactTopKReference` (tested).
 *
 * Large matrices can also be scanned as an int8 copy (`quantizeRows`: 4x fewer bytes, about 2.5x
 * faster at 1M x 256). The scan then only proposes candidates; they are re-scored in double
 * precision, and the result is accepted only when the k-th exact score beats the weakest
 * candidate's int8 score by more than the quantization error can hide (a bound from each row's
 * rounding residual), so it stays exact; otherwise the candidates widen as above.
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
 * Threads for one query's scan (FACET_SCAN_THREADS overrides, to measure elsewhere). usearch's
 * exact search hands rows to its threads one at a time, so a second thread pays only where a row
 * is worth the hand-over: from 1 KiB rows (bench/lookalikes.ts on 2 cores, +-15 % run to run:
 * 1M x 256 int8, 256 B rows, 36-41 ms on one thread, 55-56 on two; 100k x 1024 float32, 4 KiB
 * rows, 40 ms on one, 22 on two).
 */
export const SCAN_THREADS = Math.max(1, Number.parseInt(process.env['FACET_SCAN_THREADS'] ?? '', 10) || 2);
const HANDOVER_ROW_BYTES = 1024;

function threadsFor(rowBytes: number, threads: number): number {
  return rowBytes >= HANDOVER_ROW_BYTES ? threads : 1;
}

/**
 * The k best rows for `q` (already normalized) among the first `count` rows, best first, leaving
 * out rows `skip` rejects. Fewer than k when fewer remain.
 */
export function exactTopK(
  matrix: Float32Array,
  dim: number,
  count: number,
  q: Float32Array,
  k: number,
  skip?: (row: number) => boolean,
  threads = SCAN_THREADS,
  quantized?: QuantizedRows,
): Hit[] {
  if (k <= 0 || count === 0) return [];
  const q8 = quantized && quantized.count >= count ? quantizeQuery(quantized, q) : undefined;
  // First pass: assume few rows are skipped; count them only when that was wrong.
  let want = Math.min(count, k + MARGIN + (q8 ? 176 : 48));
  let counted = false;
  for (let pass = 0; pass < 3; pass++) {
    const { hits: found, bound } = q8 ? scanQuantized(matrix, dim, count, q, q8, want, threads) : { hits: scan(matrix, dim, count, q, want, threads), bound: minScore };
    const kept = skip ? found.filter((h) => !skip(h.row)) : found;
    kept.sort(byScore);
    if (want >= count) return kept.slice(0, k);
    if (kept.length >= k) {
      // Rows outside the candidates score at most `bound` (up to float noise).
      if (kept[k - 1]!.score - bound(found) > FLOAT_NOISE) return kept.slice(0, k);
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

/** Rows as int8 at one scale, with the bounds that keep a search over them exact. */
export interface QuantizedRows {
  data: Int8Array;
  count: number;
  dim: number;
  /** int8 value = round(float value x scale). */
  scale: number;
  /** The largest |row - dequantized row| (L2): the most rounding can move a row's score, for a unit query. */
  maxResidual: number;
  /** The largest L2 norm of a dequantized row. */
  maxNorm: number;
}

/** The int8 copy of the first `count` rows; the scale puts the largest |value| at 127. */
export function quantizeRows(matrix: Float32Array, dim: number, count: number): QuantizedRows {
  let peak = 0;
  for (let i = 0; i < count * dim; i++) peak = Math.max(peak, Math.abs(matrix[i]!));
  const scale = peak > 0 ? 127 / peak : 1;
  const data = new Int8Array(count * dim);
  let maxResidual = 0;
  let maxNorm = 0;
  for (let row = 0; row < count; row++) {
    let residual = 0;
    let norm = 0;
    for (let j = row * dim; j < (row + 1) * dim; j++) {
      const v = Math.round(matrix[j]! * scale);
      data[j] = v;
      residual += (matrix[j]! - v / scale) ** 2;
      norm += (v / scale) ** 2;
    }
    maxResidual = Math.max(maxResidual, Math.sqrt(residual));
    maxNorm = Math.max(maxNorm, Math.sqrt(norm));
  }
  return { data, count, dim, scale, maxResidual, maxNorm };
}

interface QuantizedQuery {
  rows: QuantizedRows;
  data: Int8Array;
  /** For every row x: |q.x - q8.x8 / scale^2| <= error (Cauchy-Schwarz on both roundings). */
  error: number;
}

function quantizeQuery(rows: QuantizedRows, q: Float32Array): QuantizedQuery {
  const data = new Int8Array(q.length);
  let residual = 0;
  let norm = 0;
  for (let j = 0; j < q.length; j++) {
    const v = Math.max(-127, Math.min(127, Math.round(q[j]! * rows.scale)));
    data[j] = v;
    residual += (q[j]! - v / rows.scale) ** 2;
    norm += q[j]! ** 2;
  }
  // q.x - q^.x^ = q.(x - x^) + (q - q^).x^
  return { rows, data, error: Math.sqrt(norm) * rows.maxResidual + Math.sqrt(residual) * rows.maxNorm };
}

/**
 * The `want` best rows by the int8 scan (usearch ranks int8 rows by their integer dot product),
 * re-scored in double precision; the bound is the best score a row outside them can have.
 */
function scanQuantized(matrix: Float32Array, dim: number, count: number, q: Float32Array, q8: QuantizedQuery, want: number, threads: number): { hits: Hit[]; bound: (hits: Hit[]) => number } {
  const data = q8.rows.data.length === count * dim ? q8.rows.data : q8.rows.data.subarray(0, count * dim);
  const { keys } = exactSearch(data, q8.data, dim, want, MetricKind.IP, threadsFor(dim, threads)) as { keys: BigUint64Array };
  const hits: Hit[] = [];
  let weakest = Infinity;
  for (const key of keys) {
    const row = Number(key);
    if (row >= count) continue;
    hits.push({ row, score: rowScore(matrix, dim, row, q) });
    let dot = 0;
    for (let j = 0, o = row * dim; j < dim; j++) dot += data[o + j]! * q8.data[j]!;
    weakest = Math.min(weakest, dot);
  }
  const s2 = q8.rows.scale * q8.rows.scale;
  return { hits, bound: () => weakest / s2 + q8.error };
}

/** The `want` best rows by usearch's SIMD scan, re-scored in double precision. */
function scan(matrix: Float32Array, dim: number, count: number, q: Float32Array, want: number, threads: number): Hit[] {
  const data = matrix.length === count * dim ? matrix : matrix.subarray(0, count * dim);
  const { keys } = exactSearch(data, q, dim, want, MetricKind.IP, threadsFor(4 * dim, threads)) as { keys: BigUint64Array };
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
