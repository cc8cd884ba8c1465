/**
 * Calibrates paper 003's Theta for the pair-difference maps: on a reference set of same-person
 * and different-people pairs (default: LFW View-1 pairsDevTrain.txt), Theta is set so that the
 * maps' maxima of different-people pairs exceed it and those of same-person pairs stay below, and
 * the separation is reported as the AUC of max(Delta), negatives vs positives (003, Fig. 3b). The
 * occluder is the reference images' mean aligned-face colour. Writes resources/models/theta.json.
 *
 *   npx tsx tools/calibrate-theta.ts [--pairs N] [--dense-pairs M] [--catalog DIR]
 * N pairs per class for the interactive grid (default 50), M for the dense grid (default 10;
 * 0 skips it). DIR: a catalog with LFW analysed, whose stored landmarks are reused.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignedFace, type AlignedFace } from '../src/main/engine/analysis/aligned-face';
import { bestAccuracyThreshold, rocAuc } from '../src/main/engine/analysis/calibration';
import { maxDelta } from '../src/main/engine/analysis/pair-diff';
import { DENSE, INTERACTIVE, occlusionMap, type DiffSettings, type ThetaEntry, type ThetaFile } from '../src/main/engine/analysis/pair-diff-service';
import { parsePairList } from '../src/main/engine/analysis/pairs';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LFW = path.resolve(ROOT, '../shared/data/lfw');
const MODELS_DIR = path.join(ROOT, 'resources/models');

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const perClass = arg('--pairs', 50);
  const densePerClass = arg('--dense-pairs', 10);
  const catalogArg = process.argv.indexOf('--catalog');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'facet-theta-'));
  const catalog = Catalog.open(catalogArg > 0 ? (process.argv[catalogArg + 1] as string) : scratch);
  const inference = new InferenceService({ modelsDir: MODELS_DIR });
  const listFile = path.join(LFW, 'pairsDevTrain.txt');
  const text = readFileSync(listFile);
  const list = parsePairList(text.toString('utf8'), { imagesDir: path.join(LFW, 'images'), baseDir: LFW });
  // Spread over the list (it is sorted by name), the same pairs for every run.
  const spread = <T>(xs: T[], n: number): T[] => Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor((i * xs.length) / Math.min(n, xs.length))]!);
  const positives = spread(list.pairs.filter((p) => p.same), perClass);
  const negatives = spread(list.pairs.filter((p) => !p.same), perClass);

  const recognizer = INTERACTIVE.recognizer;
  const entry = inference.registry.get(recognizer);
  const faces = new Map<string, AlignedFace>();
  const face = async (file: string): Promise<AlignedFace> => {
    let f = faces.get(file);
    if (!f) {
      f = await alignedFace({ path: file }, { catalog, inference }, entry, 'centre');
      faces.set(file, f);
    }
    return f;
  };
  // The occluder: mean colour of the reference set's aligned crops.
  const sum: [number, number, number] = [0, 0, 0];
  let count = 0;
  for (const p of [...positives, ...negatives]) {
    for (const file of [p.a, p.b]) {
      const c = (await face(file)).crop255;
      for (let i = 0; i < c.length; i += 3) {
        sum[0] += c[i]!;
        sum[1] += c[i + 1]!;
        sum[2] += c[i + 2]!;
        count++;
      }
    }
  }
  const fill = sum.map((s) => Math.round((s / count) * 10) / 10) as [number, number, number];
  console.log(`reference: ${positives.length} same-person and ${negatives.length} different-people pairs from pairsDevTrain.txt; ${recognizer} occluder RGB ${fill.join(', ')}`);

  const thetas: ThetaEntry[] = [];
  const measure = async (settings: DiffSettings, n: number, label: string): Promise<void> => {
    const maxima = async (pairs: typeof positives): Promise<number[]> => {
      const out: number[] = [];
      for (const p of pairs.slice(0, n)) out.push(maxDelta((await occlusionMap(await face(p.a), await face(p.b), entry, inference, settings, fill)).delta));
      return out;
    };
    const t0 = performance.now();
    const neg = await maxima(negatives);
    const pos = await maxima(positives);
    const ms = (performance.now() - t0) / (neg.length + pos.length);
    // Negatives are the class that should exceed Theta.
    const { threshold, accuracy } = bestAccuracyThreshold(neg, pos);
    const auc = rocAuc(neg, pos);
    console.log(`${label}: Theta ${threshold.toFixed(5)}, AUC of max(Delta) ${auc.toFixed(3)}, separation ${(accuracy * 100).toFixed(1)} % (${neg.length}+${pos.length} pairs, ${ms.toFixed(0)} ms/pair)`);
    console.log(`  max(Delta) negatives: median ${median(neg).toFixed(5)}; positives: median ${median(pos).toFixed(5)}`);
    thetas.push({
      recognizer,
      modelSha256: entry.sha256,
      patch: settings.patch,
      stride: settings.stride,
      mode: settings.mode,
      refined: settings.refine !== null,
      theta: threshold,
      auc,
      separation: accuracy,
      negatives: neg.length,
      positives: pos.length,
      pairList: 'LFW View-1 pairsDevTrain.txt',
      pairListSha256: createHash('sha256').update(text).digest('hex'),
      measuredAt: new Date().toISOString(),
    });
  };
  await measure(INTERACTIVE, perClass, 'interactive (16 px patches, stride 8, coarse-to-fine)');
  if (densePerClass > 0) await measure(DENSE, densePerClass, 'dense (16 px patches, stride 2)');

  const file: ThetaFile = { schema: 1, fill: { [recognizer]: fill }, thetas };
  writeFileSync(path.join(MODELS_DIR, 'theta.json'), `${JSON.stringify(file, null, 2)}\n`);
  console.log('wrote resources/models/theta.json');
  await inference.close();
  catalog.close();
  rmSync(scratch, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

void main();
