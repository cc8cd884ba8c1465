/**
 * Truncated cEBP's epsilon per recognizer (paper 001 section V-B): "the 70th percentile of the EBP
 * signal, and epsilon the mean of this statistic on a validation set". The validation set is LFW
 * View-1 DevTrain's same-person pairs (never DevTest): each pair's first image is explained with the
 * second image's embedding as its target; the maps are unit mass before smoothing, as truncation
 * sees them. Writes resources/models/saliency.json.
 * Run: `npx tsx tools/calibrate-saliency.ts [faces per recognizer = 100] [recognizers...]`
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedFace } from '../src/main/engine/analysis/aligned-face';
import { parsePairList } from '../src/main/engine/analysis/pairs';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';
import { loadSaliencyFile, type SaliencyFile } from '../src/main/engine/saliency/handler';
import { explain } from '../src/main/engine/saliency/index';
import { quantile } from '../src/main/engine/saliency/maps';
import { SaliencyRuntime } from '../src/main/engine/saliency/runtime';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'resources/models');
const LFW = path.resolve(ROOT, '../shared/data/lfw');
const PERCENTILE = 70;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100);
  const models = process.argv.slice(3).length ? process.argv.slice(3) : ['mobileface', 'faceres', 'faceapi-resnet'];
  const list = parsePairList(readFileSync(path.join(LFW, 'pairsDevTrain.txt'), 'utf8'), { imagesDir: path.join(LFW, 'images'), baseDir: LFW });
  const positives = list.pairs.filter((p) => p.same);
  const pairs = Array.from({ length: Math.min(n, positives.length) }, (_, i) => positives[Math.floor((i * positives.length) / n)]!);
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-eps-'));
  const catalog = Catalog.open(work);
  const inference = new InferenceService({ modelsDir: MODELS });
  const rt = new SaliencyRuntime(inference.registry, 'cpu');
  const file: SaliencyFile = loadSaliencyFile(MODELS);
  for (const model of models) {
    const entry = inference.registry.get(model);
    const stats: number[] = [];
    const t0 = performance.now();
    for (const p of pairs) {
      let a;
      let b;
      try {
        a = await alignedFace({ path: p.a }, { catalog, inference }, entry, 'centre');
        b = await alignedFace({ path: p.b }, { catalog, inference }, entry, 'centre');
      } catch {
        continue;
      }
      const { embedding } = await rt.forward(model, b.crop, 1);
      const r = await explain(rt, 'ebp', { model, crop: a.crop, target: { kind: 'pair', label: 'validation', vector: embedding.data } });
      stats.push(quantile(r.raw, PERCENTILE / 100));
    }
    const epsilon = stats.reduce((s, x) => s + x, 0) / stats.length;
    const uniform = 1 / (entry.input.width * entry.input.height);
    console.log(`${model}: epsilon ${epsilon.toExponential(3)} from ${stats.length} faces (${(epsilon / uniform).toFixed(2)} x the uniform map's value), ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    file.epsilons = [
      ...file.epsilons.filter((e) => e.model !== model),
      { model, modelSha256: entry.sha256, epsilon, percentile: PERCENTILE, faces: stats.length, set: 'LFW View-1 pairsDevTrain.txt, same-person pairs', measuredAt: new Date().toISOString() },
    ];
  }
  file.epsilons.sort((x, y) => (x.model < y.model ? -1 : 1));
  writeFileSync(path.join(MODELS, 'saliency.json'), `${JSON.stringify(file, null, 2)}\n`);
  console.log(`wrote ${path.join(MODELS, 'saliency.json')}`);
  await rt.close();
  await inference.close();
  catalog.close();
  rmSync(work, { recursive: true, force: true });
}

void main();
