/**
 * Pair-difference speed: ms/pair and forward passes for the interactive default (coarse-to-fine),
 * naive Algorithm 1 on the same fine grid, and the dense grid (stride 2, as in paper 003), with
 * the interactive map's agreement with the naive one (Pearson r, same top-ranked part).
 * Run by hand: `npx tsx bench/pair-diff.ts [pairs] [densePairs]` (default 10 and 2).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedFace } from '../src/main/engine/analysis/aligned-face';
import { DENSE, DENSE_FAST, diffFaces, INTERACTIVE, loadThetas, type DiffSettings } from '../src/main/engine/analysis/pair-diff-service';
import { parsePairList } from '../src/main/engine/analysis/pairs';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';
import { SHARED_DATA } from '../test/helpers/fixtures';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'resources/models');

function pearson(x: Float32Array, y: Float32Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]! / n;
    my += y[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10);
  const nDense = Number(process.argv[3] ?? 2);
  const lfw = path.join(SHARED_DATA, 'lfw');
  const list = parsePairList(readFileSync(path.join(lfw, 'pairsDevTest.txt'), 'utf8'), { imagesDir: path.join(lfw, 'images'), baseDir: lfw });
  const negatives = list.pairs.filter((p) => !p.same);
  const pairs = Array.from({ length: n }, (_, i) => negatives[Math.floor((i * negatives.length) / n)]!);
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-'));
  const catalog = Catalog.open(work);
  const inference = new InferenceService({ modelsDir: MODELS });
  const thetas = loadThetas(MODELS);
  const entry = inference.registry.get(INTERACTIVE.recognizer);
  const naive: DiffSettings = { ...INTERACTIVE, refine: null };
  const faces = await Promise.all(pairs.map(async (p) => [await alignedFace({ path: p.a }, { catalog, inference }, entry, 'centre'), await alignedFace({ path: p.b }, { catalog, inference }, entry, 'centre')] as const));
  // Warm-up: session creation and first-run allocations are not per-pair cost.
  await diffFaces(faces[0]![0], faces[0]![1], entry, inference, INTERACTIVE, thetas);

  const rows: Record<string, { ms: number[]; passes: number[] }> = {
    interactive: { ms: [], passes: [] },
    naive: { ms: [], passes: [] },
    dense: { ms: [], passes: [] },
    denseFast: { ms: [], passes: [] },
  };
  const r: number[] = [];
  const rDense: number[] = [];
  let sameTop = 0;
  let sameTopDense = 0;
  for (const [i, [a, b]] of faces.entries()) {
    const fast = await diffFaces(a, b, entry, inference, INTERACTIVE, thetas);
    const full = await diffFaces(a, b, entry, inference, naive, thetas);
    rows.interactive!.ms.push(fast.millis);
    rows.interactive!.passes.push(fast.forwardPasses);
    rows.naive!.ms.push(full.millis);
    rows.naive!.passes.push(full.forwardPasses);
    r.push(pearson(fast.delta, full.delta));
    if (fast.parts[0]!.part === full.parts[0]!.part) sameTop++;
    if (i < nDense) {
      const dense = await diffFaces(a, b, entry, inference, DENSE, thetas);
      rows.dense!.ms.push(dense.millis);
      rows.dense!.passes.push(dense.forwardPasses);
      const denseFast = await diffFaces(a, b, entry, inference, DENSE_FAST, thetas);
      rows.denseFast!.ms.push(denseFast.millis);
      rows.denseFast!.passes.push(denseFast.forwardPasses);
      rDense.push(pearson(denseFast.delta, dense.delta));
      if (denseFast.parts[0]!.part === dense.parts[0]!.part) sameTopDense++;
    }
  }
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  console.log(`${n} LFW DevTest different-people pairs, ${entry.id} (${entry.input.width} px crops), ${os.cpus().length} cores, onnxruntime CPU`);
  console.log('mode                              ms/pair   forward passes   pairs');
  const label: Record<string, string> = {
    interactive: 'interactive (16/8, coarse-to-fine)',
    naive: 'naive Algorithm 1 (16/8)',
    dense: 'dense, naive (16/2)',
    denseFast: 'dense, coarse-to-fine (16/8 -> 16/2)',
  };
  for (const [k, v] of Object.entries(rows)) console.log(`${label[k]!.padEnd(34)} ${mean(v.ms).toFixed(0).padStart(7)}   ${mean(v.passes).toFixed(0).padStart(14)}   ${v.ms.length}`);
  console.log(`speed-up of coarse-to-fine over naive on the same grid: ${(mean(rows.naive!.ms) / mean(rows.interactive!.ms)).toFixed(2)}x (${(mean(rows.naive!.passes) / mean(rows.interactive!.passes)).toFixed(2)}x fewer passes)`);
  console.log(`agreement with naive: Pearson r mean ${mean(r).toFixed(3)} (min ${Math.min(...r).toFixed(3)}); same top-ranked part in ${sameTop}/${n}`);
  if (nDense) {
    console.log(`dense: coarse-to-fine ${(mean(rows.dense!.ms) / mean(rows.denseFast!.ms)).toFixed(2)}x faster than naive (${(mean(rows.dense!.passes) / mean(rows.denseFast!.passes)).toFixed(2)}x fewer passes); Pearson r mean ${mean(rDense).toFixed(3)} (min ${Math.min(...rDense).toFixed(3)}); same top part in ${sameTopDense}/${nDense}`);
  }
  await inference.close();
  catalog.close();
  rmSync(work, { recursive: true, force: true });
}

void main();
