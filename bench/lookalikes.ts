/**
 * Look-alikes: (1) retrieval on LFW: for identities with many portraits, query with one portrait's
 * primary face and rank every other face of the catalog by cosine; mean average precision of
 * retrieving the same identity, and the rank of the first impostor (higher is better: an impostor
 * ranks above fewer of the person's own portraits). (2) exact search time at 10k, 100k and 1M
 * synthetic embeddings (goal: <= 50 ms at 1M on 2 cores).
 * Needs a catalog of LFW analysed with faceres, subjects from folders:
 *   npx tsx bench/lookalikes.ts <catalog> [identities=30] [minPortraits=20] [--weighted]
 */
import { alignedFace } from '../src/main/engine/analysis/aligned-face';
import { characterizeSubject, metricDistance } from '../src/main/engine/analysis/characterize';
import { averagePrecision, EmbeddingIndex } from '../src/main/engine/analysis/lookalikes';
import { InferenceService } from '../src/main/engine/models/inference';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { ModelRegistry, defaultModelsDir } from '../src/main/engine/models/registry';

function retrieval(catalog: Catalog, count: number, minPortraits: number): void {
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
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`retrieval over ${index.size} faces (faceres), ${chosen.length} LFW identities with >= ${minPortraits} portraits, plain cosine:`);
  console.log(`  mAP ${mean(aps).toFixed(3)}; rank of the first impostor: median ${median(impostorRanks)}, mean ${mean(impostorRanks).toFixed(1)}`);
}

/**
 * Plain vs characterization-weighted: for identities with >= 60 portraits, characterize on 30 of
 * them, query with another, and rank the 100 nearest faces (the training portraits left out) by
 * plain cosine and by the learned metric; AP of retrieving the person's held-out portraits.
 */
async function weighted(catalog: Catalog, count: number): Promise<void> {
  const inference = new InferenceService({ modelsDir: defaultModelsDir() });
  const entry = inference.registry.get('faceres');
  const index = EmbeddingIndex.load(catalog, 'faceres', entry.sha256);
  const subjects = (catalog.db
    .prepare("SELECT s.name FROM subjects s JOIN portraits p ON p.subject_id = s.id WHERE p.state = 'analyzed' GROUP BY s.id HAVING count(*) >= 60 ORDER BY s.name")
    .all() as { name: string }[]).map((r) => r.name).slice(0, count);
  const plainAps: number[] = [];
  const weightedAps: number[] = [];
  for (const name of subjects) {
    const c = await characterizeSubject(catalog, inference, name, { maxPortraits: 30, arbitrary: 40, trainer: 'runtime' });
    const training = new Set(c.portraits.map((p) => p.sha256));
    const mine = (catalog.db.prepare("SELECT p.sha256 FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE s.name = ? AND p.state = 'analyzed' ORDER BY p.sha256").all(name) as { sha256: string }[]).map((r) => r.sha256);
    const query = mine.find((sha) => !training.has(sha))!;
    const qRow = index.faces.findIndex((f) => f.portrait === query && f.idx === 0);
    const pool = index.search(index.matrix.slice(qRow * index.dim, (qRow + 1) * index.dim), 100, (f) => f.portrait === query || training.has(f.portrait));
    const relevant = (f: { subject: string | null; idx: number }): boolean => f.subject === name && f.idx === 0;
    const ap = (order: typeof pool): number => averagePrecision(order.flatMap((h, i) => (relevant(h.face) ? [i + 1] : [])));
    const mapOf = async (sha: string, idx: number): Promise<Float32Array> =>
      (await inference.run(entry.id, (await alignedFace({ sha256: sha }, { catalog, inference }, entry, idx)).crop))['feature_map']!.data;
    const q = await mapOf(query, 0);
    const scored = [];
    for (const h of pool) scored.push({ h, d: metricDistance(c.model, q, await mapOf(h.face.portrait, h.face.idx)) });
    const reranked = scored.sort((x, y) => x.d - y.d).map((x) => x.h);
    plainAps.push(ap(pool));
    weightedAps.push(ap(reranked));
    console.log(`  ${name.padEnd(22)} relevant in pool ${pool.filter((h) => relevant(h.face)).length}: AP plain ${plainAps.at(-1)!.toFixed(3)}, weighted ${weightedAps.at(-1)!.toFixed(3)}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`plain vs characterization-weighted over ${subjects.length} identities (100 nearest, training portraits excluded): mAP ${mean(plainAps).toFixed(3)} vs ${mean(weightedAps).toFixed(3)}`);
  await inference.close();
}

function timing(): void {
  console.log('exact search, one query, top 20 (JS, one thread):');
  for (const [n, dim] of [[10_000, 1024], [100_000, 1024], [10_000, 256], [100_000, 256], [1_000_000, 256]] as const) {
    const vectors = new Float32Array(n * dim);
    let x = 12345;
    for (let i = 0; i < vectors.length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      vectors[i] = x / 2 ** 32 - 0.5;
    }
    const index = EmbeddingIndex.fromVectors('synthetic', dim, vectors, Array.from({ length: n }, (_, i) => ({ faceId: i, portrait: String(i), idx: 0, subject: null })));
    const q = vectors.slice(0, dim);
    index.search(q, 20);
    const t0 = performance.now();
    const reps = n >= 1_000_000 ? 3 : 10;
    for (let r = 0; r < reps; r++) index.search(q, 20);
    const ms = (performance.now() - t0) / reps;
    console.log(`  ${String(n).padStart(9)} x ${String(dim).padStart(4)}: ${ms.toFixed(1).padStart(7)} ms${n === 1_000_000 ? `  (goal 50 ms: ${(50 / ms).toFixed(2)}x)` : ''}`);
  }
}

const dir = process.argv[2];
if (dir) {
  const catalog = Catalog.open(dir);
  retrieval(catalog, Number(process.argv[3] ?? 30), Number(process.argv[4] ?? 20));
  if (process.argv.includes('--weighted')) await weighted(catalog, 8);
  catalog.close();
}
timing();
