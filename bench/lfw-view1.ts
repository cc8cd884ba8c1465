/**
 * LFW View-1 for each bundled recognizer and a score-level fusion: the face pipeline (BlazeFace,
 * FaceMesh, per-model alignment) embeds every image once; thresholds and LR calibrations are
 * fitted on DevTrain and judged on DevTest. Prints accuracy, AUC, EER, TAR@FAR and Cllr.
 * Run by hand: `npx tsx bench/lfw-view1.ts [--limit N]` (N pairs per list, for a quick look).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateCalibration, fitLogistic, fitPav, rocSummary } from '../src/main/engine/analysis/calibration';
import { InferenceService } from '../src/main/engine/models/inference';
import { decodeRgb } from '../src/main/engine/vision/image';
import { analyzeFaces } from '../src/main/engine/vision/pipeline';

const ROOT = path.resolve(import.meta.dirname, '..');
const LFW = path.resolve(ROOT, '../shared/data/lfw');
const MODELS = ['faceres', 'mobileface', 'faceapi-resnet'];

interface Pair {
  a: string;
  b: string;
  same: boolean;
}

function readPairs(file: string, limit: number): Pair[] {
  const img = (name: string, n: string): string => path.join(LFW, 'images', name, `${name}_${n.padStart(4, '0')}.jpg`);
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split('\t')).filter((f) => f.length === 3 || f.length === 4);
  const pairs = lines.map((f) => (f.length === 3 ? { a: img(f[0]!, f[1]!), b: img(f[0]!, f[2]!), same: true } : { a: img(f[0]!, f[1]!), b: img(f[2]!, f[3]!), same: false }));
  if (!limit) return pairs;
  return [...pairs.filter((p) => p.same).slice(0, limit / 2), ...pairs.filter((p) => !p.same).slice(0, limit / 2)];
}

const cosine = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    x += a[i]! ** 2;
    y += b[i]! ** 2;
  }
  return d / Math.sqrt(x * y);
};

async function main(): Promise<void> {
  const limitArg = process.argv.indexOf('--limit');
  const limit = limitArg > 0 ? Number(process.argv[limitArg + 1]) : 0;
  const train = readPairs(path.join(LFW, 'pairsDevTrain.txt'), limit);
  const test = readPairs(path.join(LFW, 'pairsDevTest.txt'), limit);
  const files = [...new Set([...train, ...test].flatMap((p) => [p.a, p.b]))];
  const inference = new InferenceService({ modelsDir: path.join(ROOT, 'resources/models') });
  const embeddings = new Map<string, Map<string, Float32Array>>();
  let noFace = 0;
  const t0 = performance.now();
  for (const [i, file] of files.entries()) {
    const faces = await analyzeFaces(await decodeRgb(file), inference, { recognizers: MODELS });
    // LFW centres the pictured person: take the detection closest to the centre, not the largest.
    const face = faces.sort((p, q) => Math.hypot(p.detection.x + p.detection.width / 2 - 125, p.detection.y + p.detection.height / 2 - 125) - Math.hypot(q.detection.x + q.detection.width / 2 - 125, q.detection.y + q.detection.height / 2 - 125))[0];
    if (!face) noFace++;
    else embeddings.set(file, new Map(face.embeddings.map((e) => [e.model, e.vector])));
    if (i % 200 === 0) process.stderr.write(`${i}/${files.length} images\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await inference.close();
  console.log(`${files.length} images in ${seconds.toFixed(0)} s (${(files.length / seconds).toFixed(1)}/s, all three recognizers); no face found in ${noFace}`);

  // A pair whose image had no detected face scores as the least similar (counted, not dropped).
  const score = (model: string, p: Pair): number => {
    const a = embeddings.get(p.a)?.get(model);
    const b = embeddings.get(p.b)?.get(model);
    return a && b ? cosine(a, b) : -1;
  };
  const split = (pairs: Pair[], f: (p: Pair) => number) => ({
    targets: pairs.filter((p) => p.same).map(f),
    nonTargets: pairs.filter((p) => !p.same).map(f),
  });

  console.log('\nDevTest (fitted on DevTrain)');
  console.log('system           acc@trainThr   AUC     EER    TAR@FAR1e-2  Cllr(logit)  Cllr(PAV)  Cllr_min');
  const logLrs: Record<string, { train: (p: Pair) => number }> = {};
  const report = (name: string, f: (p: Pair) => number): void => {
    const tr = split(train, f);
    const te = split(test, f);
    const thr = rocSummary(tr.targets, tr.nonTargets).eerThreshold;
    const acc = (te.targets.filter((s) => s >= thr).length + te.nonTargets.filter((s) => s < thr).length) / (te.targets.length + te.nonTargets.length);
    const roc = rocSummary(te.targets, te.nonTargets, [1e-2]);
    const logistic = fitLogistic(tr.targets, tr.nonTargets);
    const pav = fitPav(tr.targets, tr.nonTargets);
    const lg = evaluateCalibration(logistic, te.targets, te.nonTargets);
    const pv = evaluateCalibration(pav, te.targets, te.nonTargets);
    logLrs[name] = { train: (p) => logistic.log10Lr(f(p)) };
    console.log(
      `${name.padEnd(16)} ${(acc * 100).toFixed(1).padStart(8)} %   ${roc.auc.toFixed(4)}  ${(roc.eer * 100).toFixed(1).padStart(4)} %  ${roc.tarAtFar[0]?.tar === null ? '   n/a' : ((roc.tarAtFar[0]!.tar! * 100).toFixed(1) + ' %').padStart(9)}    ${lg.cllr.toFixed(3).padStart(8)}    ${pv.cllr.toFixed(3).padStart(8)}   ${lg.cllrMin.toFixed(3)}`,
    );
  };
  for (const m of MODELS) report(m, (p) => score(m, p));
  // Fusion: sum of the per-model calibrated log LRs (treats the models' errors as independent).
  report('fusion (sum LR)', (p) => MODELS.reduce((s, m) => s + (logLrs[m]?.train(p) ?? 0), 0));
}

void main();
