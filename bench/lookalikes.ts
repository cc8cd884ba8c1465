/**
 * Look-alikes: (1) retrieval on LFW: for identities with many portraits, query with one portrait's
 * primary face and rank every other face of the catalog by cosine; mean average precision of
 * retrieving the same identity, and the rank of the first impostor (higher is better: an impostor
 * ranks above fewer of the person's own portraits). (2) search time on synthetic clustered
 * embeddings at 10k, 100k and 1M x 256 and 100k x 1024 (goal: <= 50 ms at 1M on 2 cores): exact
 * (SIMD scan of the float32 rows, and of the int8 copy with certified re-scoring, as the engine
 * runs it) and the HNSW index (build time, memory, query time, recall@10 against exact for
 * queries near stored faces and for random ones). The plain JS loop the exact search replaced is
 * timed too, as the baseline.
 * Needs a catalog of LFW analysed with faceres, subjects from folders:
 *   npx tsx bench/lookalikes.ts <catalog> [identities=30] [minPortraits=20] [--weighted [--queries=20] [--people=8] [--portraits=60,100000]]
 * Synthetic timing only (sizes as n x dim; --queries=N, default 50; --candidates=a,b,... asked of the
 * index; --no-index skips the HNSW):
 *   npx tsx bench/lookalikes.ts [--sizes=10000x256,100000x256,1000000x256,100000x1024]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { annTopK, averagePrecision, DEFAULT_CANDIDATES, defaultExactLimit, EmbeddingIndex, QUANTIZE_FROM, WEIGHTED_POOL } from '../src/main/engine/analysis/lookalikes';
import { exactTopK, exactTopKReference, SCAN_THREADS } from '../src/main/engine/analysis/vector-exact';
import type { Catalog } from '../src/main/engine/catalog/catalog';

// The catalog modes load SQLite, sharp and onnxruntime only when asked: the synthetic timing runs without them.
async function retrieval(catalog: Catalog, count: number, minPortraits: number): Promise<void> {
  const { ModelRegistry, defaultModelsDir } = await import('../src/main/engine/models/registry');
  const sha = new ModelRegistry(defaultModelsDir()).get('faceres').sha256;
  const index = EmbeddingIndex.load(catalog, 'faceres', sha);
  const bySubject = new Map<string, number[]>();
  index.faces.forEach((f, i) => {
    if (f.subject && f.idx === 0) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), i]);
  });
  const subjects = [...bySubject.entries()].filter(([, rows]) => rows.length >= minPortraits).sort(([a], [b]) => (a < b ? -1 : 1));
  const chosen = Array.from({ length: Math.min(count, subjects.length) }, (_, i) => subjects[Math.floor((i * subjects.length) / Math.min(count, subjects.length))]!);
  const aps: number[] = [];
  const impostorRanks: number[] = [];
  for (const [subject, rows] of chosen) {
    const q = rows[0]!;
    const scores = index.scoresAll(index.matrix.subarray(q * index.dim, (q + 1) * index.dim));
    const order = [...scores.keys()].filter((i) => index.faces[i]!.portrait !== index.faces[q]!.portrait).sort((a, b) => scores[b]! - scores[a]!);
    // Relevant: the person's other primary faces (secondary faces in LFW photos are often someone else).
    const relevant = new Set(rows.slice(1));
    const ranks: number[] = [];
    let firstImpostor = 0;
    order.forEach((i, r) => {
      if (relevant.has(i)) ranks.push(r + 1);
      else if (!firstImpostor && index.faces[i]!.subject !== subject) firstImpostor = r + 1;
    });
    aps.push(averagePrecision(ranks));
    impostorRanks.push(firstImpostor);
  }
  console.log(`retrieval over ${index.size} faces (faceres), ${chosen.length} LFW identities with >= ${minPortraits} portraits, plain cosine:`);
  console.log(`  mAP ${mean(aps).toFixed(3)}; rank of the first impostor: median ${median(impostorRanks)}, mean ${mean(impostorRanks).toFixed(1)}`);
}

/**
 * Plain vs characterization-weighted: for identities with >= 60 portraits (--portraits=min,max; up
 * to --people of them), characterize on 30 of them, then query with each of up to `queries`
 * held-out portraits and rank the WEIGHTED_POOL nearest faces (training portraits left out) four
 * ways: plain cosine; the learned metric's distance from the centre of the training portraits
 * (what the engine's weighted search does); its distance from the query portrait (what it did
 * before); and the sum of the plain and query-distance ranks. AP of retrieving the person's other
 * held-out portraits, and the rank of the first impostor.
 */
async function weighted(catalog: Catalog, count: number, queries: number, portraits: [number, number]): Promise<void> {
  const { characterizeSubject, distanceToCentre, featureMap, featureMaps, metricCentre } = await import('../src/main/engine/analysis/characterize');
  const { embed2 } = await import('../src/main/engine/analysis/pcam');
  const { InferenceService } = await import('../src/main/engine/models/inference');
  const { defaultModelsDir } = await import('../src/main/engine/models/registry');
  const inference = new InferenceService({ modelsDir: defaultModelsDir() });
  const entry = inference.registry.get('faceres');
  const index = EmbeddingIndex.load(catalog, 'faceres', entry.sha256);
  const subjects = (catalog.db
    .prepare("SELECT s.name FROM subjects s JOIN portraits p ON p.subject_id = s.id WHERE p.state = 'analyzed' GROUP BY s.id HAVING count(*) BETWEEN ? AND ? ORDER BY s.name")
    .all(...portraits) as { name: string }[]).map((r) => r.name).slice(0, count);
  const variants = ['plain', 'metric from centre', 'metric from query', 'plain + query ranks'] as const;
  const aps = new Map<string, number[]>(variants.map((v) => [v, []]));
  const impostors = new Map<string, number[]>(variants.map((v) => [v, []]));
  const maps = new Map<string, Float32Array>();
  const mapOf = async (sha: string, idx: number): Promise<Float32Array> => {
    const key = `${sha}:${idx}`;
    let m = maps.get(key);
    if (!m) {
      m = (await featureMap(catalog, inference, entry, sha, idx)).map;
      maps.set(key, m);
    }
    return m;
  };
  const d2 = (x: [number, number], y: [number, number]): number => (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2;
  for (const name of subjects) {
    const c = await characterizeSubject(catalog, inference, name, { maxPortraits: 30, arbitrary: 40, trainer: 'runtime' });
    const training = new Set(c.portraits.map((p) => p.sha256));
    const centre = metricCentre(c.model, (await featureMaps(catalog, inference, entry, [...training])).maps);
    const mine = (catalog.db.prepare("SELECT p.sha256 FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE s.name = ? AND p.state = 'analyzed' ORDER BY p.sha256").all(name) as { sha256: string }[]).map((r) => r.sha256);
    const held = mine.filter((sha) => !training.has(sha));
    const perName = new Map<string, number[]>(variants.map((v) => [v, []]));
    for (const query of held.slice(0, queries)) {
      const qRow = index.faces.findIndex((f) => f.portrait === query && f.idx === 0);
      if (qRow < 0) continue;
      const pool = index.search(index.matrix.slice(qRow * index.dim, (qRow + 1) * index.dim), WEIGHTED_POOL, (f) => f.portrait === query || training.has(f.portrait));
      const relevant = (f: { subject: string | null; idx: number }): boolean => f.subject === name && f.idx === 0;
      const q = embed2(c.model, await mapOf(query, 0));
      const scored = [];
      for (const [rank, h] of pool.entries()) {
        const map = await mapOf(h.face.portrait, h.face.idx);
        scored.push({ h, rank, toQuery: d2(q, embed2(c.model, map)), toCentre: distanceToCentre(c.model, centre, map) });
      }
      const byQuery = [...scored].sort((x, y) => x.toQuery - y.toQuery);
      const queryRank = new Map(byQuery.map((s, i) => [s.h, i]));
      const orders: Record<(typeof variants)[number], typeof pool> = {
        plain: pool,
        'metric from centre': [...scored].sort((x, y) => x.toCentre - y.toCentre).map((s) => s.h),
        'metric from query': byQuery.map((s) => s.h),
        // Ties go to the plain order (Array.sort is stable).
        'plain + query ranks': [...scored].sort((x, y) => x.rank + queryRank.get(x.h)! - (y.rank + queryRank.get(y.h)!)).map((s) => s.h),
      };
      for (const v of variants) {
        const ranks = orders[v].flatMap((h, i) => (relevant(h.face) ? [i + 1] : []));
        if (!ranks.length) continue;
        const ap = averagePrecision(ranks);
        aps.get(v)!.push(ap);
        perName.get(v)!.push(ap);
        const first = orders[v].findIndex((h) => h.face.subject !== name);
        impostors.get(v)!.push(first < 0 ? orders[v].length + 1 : first + 1);
      }
    }
    console.log(`  ${name.padEnd(22)} ${perName.get('plain')!.length} queries: mAP ${variants.map((v) => `${v} ${mean(perName.get(v)!).toFixed(3)}`).join(', ')}`);
  }
  console.log(`plain vs characterization-weighted, ${subjects.length} identities with ${portraits[0]}-${portraits[1]} portraits, ${aps.get('plain')!.length} held-out queries (${WEIGHTED_POOL} nearest, training portraits excluded):`);
  for (const v of variants) {
    const better = aps.get(v)!.filter((a, i) => a > aps.get('plain')![i]! + 1e-9).length;
    const worse = aps.get(v)!.filter((a, i) => a < aps.get('plain')![i]! - 1e-9).length;
    console.log(`  ${v.padEnd(22)} mAP ${mean(aps.get(v)!).toFixed(3)}; first impostor median rank ${median(impostors.get(v)!)}, mean ${mean(impostors.get(v)!).toFixed(1)}${v === 'plain' ? '' : `; queries better ${better}, worse ${worse} than plain`}`);
  }
  await inference.close();
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Deterministic uniform [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * Clustered embeddings like a face catalog: one centre per person (10 faces each on average), each
 * face its centre plus noise of 0.6 per value (same-person cosine about 0.74, others about 0).
 */
function synthetic(n: number, dim: number, seed: number): { vectors: Float32Array; centres: Float32Array; people: number } {
  const rnd = lcg(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const people = Math.max(1, Math.ceil(n / 10));
  const centres = new Float32Array(people * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gauss();
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * people) * dim;
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = centres[c + j]! + 0.6 * gauss();
  }
  return { vectors, centres, people };
}

/** Queries: a new face of a catalogued person (near), or a random direction (random). */
function queries(kind: 'near' | 'random', count: number, dim: number, data: ReturnType<typeof synthetic>, seed: number): Float32Array[] {
  const rnd = lcg(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  return Array.from({ length: count }, () => {
    const c = Math.floor(rnd() * data.people) * dim;
    return Float32Array.from({ length: dim }, (_, j) => (kind === 'near' ? data.centres[c + j]! + 0.6 * gauss() : gauss()));
  });
}

function stats(ms: number[]): { median: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)]!, p95: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]! };
}

function normalized(q: Float32Array): Float32Array {
  const n = Math.hypot(...q);
  return q.map((v) => v / n);
}

async function timing(sizes: [number, number][], count: number, withIndex: boolean, candidateSweep: number[]): Promise<void> {
  const K = 10;
  const exactRows: string[][] = [];
  const indexRows: string[][] = [];
  const fmt = (x: number, digits = 1): string => x.toFixed(digits);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-hnsw-'));
  for (const [n, dim] of sizes) {
    const data = synthetic(n, dim, 12345 + n + dim);
    const index = EmbeddingIndex.fromVectors('synthetic', dim, data.vectors, Array.from({ length: n }, (_, i) => ({ faceId: i, portrait: String(i), idx: 0, subject: null })));
    data.vectors = new Float32Array(0);
    const near = queries('near', count, dim, data, 777);
    const random = queries('random', count, dim, data, 999);
    // Exact as the engine runs it (SIMD scan on SCAN_THREADS threads; over the int8 copy from QUANTIZE_FROM
    // elements, certified), every query of both kinds; the truth for recall.
    const tq = performance.now();
    index.search(near[0]!, K);
    const firstS = (performance.now() - tq) / 1000;
    const exactMs: number[] = [];
    const truth = [...near, ...random].map((q) => {
      const t0 = performance.now();
      const hits = index.search(q, K);
      exactMs.push(performance.now() - t0);
      return hits.map((h) => h.face.faceId);
    });
    // The float32 scan alone, and whether it agrees with the engine's answers (it must).
    const f32Ms: number[] = [];
    let disagree = 0;
    [...near, ...random].forEach((q, i) => {
      const t0 = performance.now();
      const hits = exactTopK(index.matrix, dim, n, normalized(q), K);
      f32Ms.push(performance.now() - t0);
      if (hits.map((h) => h.row).join() !== truth[i]!.join()) disagree++;
    });
    const int8 = n * dim >= QUANTIZE_FROM;
    // The plain JS loop it replaced (10 queries: seconds at 1M).
    const jsMs = near.slice(0, 10).map((q) => {
      const t0 = performance.now();
      exactTopKReference(index.matrix, dim, n, normalized(q), K);
      return performance.now() - t0;
    });
    const exact = stats(exactMs);
    const row = [
      `${n} x ${dim}`,
      fmt(stats(jsMs).median),
      fmt(stats(f32Ms).median),
      int8 ? fmt(exact.median) : '-',
      fmt(exact.median),
      fmt(exact.p95),
      `${(exact.median / 50).toFixed(2)}x`,
      String(disagree),
      fmt((n * dim * 4) / 2 ** 20, 0),
      int8 ? `${fmt((n * dim) / 2 ** 20, 0)} (${fmt(firstS)} s)` : '-',
    ];
    if (withIndex) {
      const t0 = performance.now();
      const ann = await index.approximate({ persistDir: cacheDir }).ready;
      const buildS = (performance.now() - t0) / 1000;
      if (!ann) throw new Error(`index build failed: ${index.approximate().error}`);
      const file = readdirSync(cacheDir).find((f) => f.endsWith('.usearch'))!;
      row.push(fmt(buildS), fmt(statSync(path.join(cacheDir, file)).size / 2 ** 20, 0));
      for (const candidates of candidateSweep) {
        await annTopK(ann, index.matrix, dim, normalized(near[0]!), K, undefined, candidates);
        const annMs: number[] = [];
        const recall = { near: 0, random: 0 };
        for (const [i, q] of [...near, ...random].entries()) {
          const t1 = performance.now();
          const found = (await annTopK(ann, index.matrix, dim, normalized(q), K, undefined, candidates))!;
          annMs.push(performance.now() - t1);
          const want = new Set(truth[i]);
          recall[i < near.length ? 'near' : 'random'] += found.hits.filter((h) => want.has(h.row)).length / K / count;
        }
        const a = stats(annMs);
        indexRows.push([`${n} x ${dim}`, String(candidates), fmt(a.median, 2), fmt(a.p95, 2), `${(a.median / 50).toFixed(3)}x`, recall.near.toFixed(3), recall.random.toFixed(3)]);
      }
      await index.dispose();
      rmSync(path.join(cacheDir, file));
    }
    exactRows.push(row);
    console.log(`  done ${n} x ${dim} (default exact limit at this dim: ${defaultExactLimit(dim)} faces)`);
  }
  rmSync(cacheDir, { recursive: true, force: true });
  const table = (head: string[], rows: string[][]): void => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  };
  console.log(`\nexact look-alike search, top ${K}, ${2 * count} queries (${count} near + ${count} random); times in ms; "vs 50ms": median / goal (<= 1 meets it):`);
  table(['faces x dim', 'JS ms', 'f32 scan', 'int8 scan', 'exact med', 'exact p95', 'vs 50ms', 'differ', 'f32 MiB', 'int8 MiB (made in)', ...(withIndex ? ['hnsw build s', 'index MiB'] : [])], exactRows);
  console.log('JS ms: the plain JS loop (one thread) the SIMD scans replaced, median of 10 queries. f32 scan: usearch SIMD scan of the float32 rows on');
  console.log(`up to ${SCAN_THREADS} threads (one below 1 KiB rows; FACET_SCAN_THREADS), candidates re-scored in float64. int8 scan: the same over the int8 copy, candidates re-scored and certified exact (from`);
  console.log(`${QUANTIZE_FROM} elements). exact: what the engine runs (median, p95). differ: queries where f32 and engine answers differ (must be 0).`);
  console.log('hnsw build: usearch HNSW (M 16, efConstruction 64, float16) built in a worker thread on 2 threads; index MiB: its saved size.');
  if (!withIndex) return;
  console.log(`\nHNSW look-alike search: the index's candidates re-ranked exactly; recall@${K} against exact, ${count} queries near stored faces and ${count} random:`);
  table(['faces x dim', 'candidates', 'hnsw med', 'hnsw p95', 'vs 50ms', `R@${K} near`, `R@${K} random`], indexRows);
}

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const dir = process.argv[2];
const withCatalog = dir !== undefined && !dir.startsWith('--');
if (withCatalog) {
  const { Catalog } = await import('../src/main/engine/catalog/catalog');
  const catalog = Catalog.open(dir);
  await retrieval(catalog, Number(process.argv[3] ?? 30), Number(process.argv[4] ?? 20));
  if (process.argv.includes('--weighted')) await weighted(catalog, Number(arg('people') ?? 8), Number(arg('queries') ?? 20), (arg('portraits') ?? '60,100000').split(',').map(Number) as [number, number]);
  catalog.close();
}
// With a catalog, the synthetic timing runs only when sizes are asked for.
if (!withCatalog || arg('sizes')) {
  const sizes = (arg('sizes') ?? '10000x256,100000x256,1000000x256,100000x1024').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const sweep = (arg('candidates') ?? `74,512,${DEFAULT_CANDIDATES},4096`).split(',').map(Number);
  await timing(sizes, Number(arg('queries') ?? 50), !process.argv.includes('--no-index'), sweep);
}
