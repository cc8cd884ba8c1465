/**
 * Fits Facet's built-in score-to-LR calibrations on LFW View-1 and picks the default verification
 * system by evidence. Calibrations, thresholds and fusion are fitted on pairsDevTrain.txt only and
 * judged on pairsDevTest.txt. Writes (both committed):
 *   resources/models/calibrations.json  the built-in calibration set "lfw-view1", with provenance
 *   resources/models/evaluation.json    DevTest figures per recognizer and the fusion, and the default
 * `npm run models` then copies thresholds and figures into manifest.json for the model files they
 * were measured with. Run by hand (about 15 min on 2 cores without a catalog):
 *   npx tsx tools/calibrate-lfw.ts [--catalog DIR]   (DIR: a catalog holding LFW analysed with the
 *   three recognizers, e.g. from `facet import <lfw>/images --subject-from-folder --analyze
 *   --recognizers faceres,mobileface,faceapi-resnet`; its embeddings are reused, not recomputed)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestAccuracyThreshold, cllr, evaluateCalibration, restoreCalibration, rocSummary } from '../src/main/engine/analysis/calibration';
import { sourceFace, type SourcedFace } from '../src/main/engine/analysis/face-source';
import { parsePairList, type LabelledPair } from '../src/main/engine/analysis/pairs';
import { cosine, fitCalibrationSet, FUSION_ID, fusedScore, scoresOf, type ScoredPair, type StoredCalibration } from '../src/main/engine/analysis/verification';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';
import { FACET_VERSION } from '../src/main/engine/version';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LFW = path.resolve(ROOT, '../shared/data/lfw');
const MODELS_DIR = path.join(ROOT, 'resources/models');
const RECOGNIZERS = ['faceres', 'mobileface', 'faceapi-resnet'];
const SET_NAME = 'lfw-view1';

async function main(): Promise<void> {
  const catalogArg = process.argv.indexOf('--catalog');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'facet-calibrate-'));
  const catalog = Catalog.open(catalogArg > 0 ? (process.argv[catalogArg + 1] as string) : scratch);
  const inference = new InferenceService({ modelsDir: MODELS_DIR });
  const models = Object.fromEntries(RECOGNIZERS.map((id) => [id, inference.registry.get(id).sha256]));
  const read = (name: string) => {
    const file = path.join(LFW, name);
    const text = readFileSync(file);
    return { file: `LFW View-1 ${name}`, sha256: createHash('sha256').update(text).digest('hex'), list: parsePairList(text.toString('utf8'), { imagesDir: path.join(LFW, 'images'), baseDir: LFW }) };
  };
  const train = read('pairsDevTrain.txt');
  const test = read('pairsDevTest.txt');

  const faces = new Map<string, SourcedFace>();
  const files = [...new Set([...train.list.pairs, ...test.list.pairs].flatMap((p) => [p.a, p.b]))];
  let reused = 0;
  const t0 = performance.now();
  for (const [i, file] of files.entries()) {
    const f = await sourceFace({ path: file }, { catalog, inference }, RECOGNIZERS, 'centre');
    if (f.source === 'catalog') reused++;
    faces.set(file, f);
    if (i % 500 === 0) process.stderr.write(`${i}/${files.length} images (${reused} from the catalog)\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const noFace = files.filter((f) => !faces.get(f)?.face).length;
  console.log(`${files.length} images in ${seconds.toFixed(0)} s (${reused} from the catalog); no face in ${noFace}`);

  const score = (pairs: LabelledPair[]): ScoredPair[] =>
    pairs.map((p) => {
      const a = faces.get(p.a)?.face;
      const b = faces.get(p.b)?.face;
      return { same: p.same, scores: Object.fromEntries(RECOGNIZERS.map((m) => [m, a && b ? cosine(a.embeddings[m]!.vector, b.embeddings[m]!.vector) : null])) };
    });
  const trainPairs = score(train.list.pairs);
  const testPairs = score(test.list.pairs);
  const fittedAt = new Date().toISOString();
  const set = fitCalibrationSet(SET_NAME, trainPairs, models, {
    source: 'builtin',
    pairList: train.file,
    pairListSha256: train.sha256,
    targets: trainPairs.filter((p) => p.same).length,
    nonTargets: trainPairs.filter((p) => !p.same).length,
    fittedAt,
    facetVersion: FACET_VERSION,
  });

  // DevTest, judged with what was fitted on DevTrain only.
  const cal = (id: string, method: 'logistic' | 'pav'): StoredCalibration => set.find((c) => c.modelId === id && c.method === method)!;
  const members = RECOGNIZERS.map((id) => ({ id, calibration: restoreCalibration('logistic', cal(id, 'logistic').params, cal(id, 'logistic').bounds) }));
  const systemScores = (pairs: ScoredPair[], system: string) =>
    system === FUSION_ID ? scoresOf(pairs.map((p) => ({ same: p.same, scores: { [FUSION_ID]: fusedScore(p.scores, members) } })), FUSION_ID) : scoresOf(pairs, system);
  const systems = [...RECOGNIZERS, FUSION_ID].map((system) => {
    const { targets, nonTargets } = systemScores(testPairs, system);
    const threshold = cal(system, 'logistic').threshold;
    const accuracy = (targets.filter((s) => s >= threshold).length + nonTargets.filter((s) => s < threshold).length) / (targets.length + nonTargets.length);
    const roc = rocSummary(targets, nonTargets, [1e-2, 1e-3]);
    const lr = (method: 'logistic' | 'pav') => {
      const c = cal(system, method);
      const f = restoreCalibration(c.method, c.params, c.bounds);
      return cllr(targets.map((s) => 10 ** f.log10Lr(s)), nonTargets.map((s) => 10 ** f.log10Lr(s)));
    };
    const c = cal(system, 'logistic');
    const { cllrMin } = evaluateCalibration(restoreCalibration(c.method, c.params, c.bounds), targets, nonTargets);
    return {
      system,
      modelSha256: c.modelSha256,
      threshold,
      devTest: { accuracy, auc: roc.auc, eer: roc.eer, tarAtFar: roc.tarAtFar.map((t) => ({ far: t.far, tar: t.tar })), cllr: lr('logistic'), cllrPav: lr('pav'), cllrMin, bestAccuracy: bestAccuracyThreshold(targets, nonTargets).accuracy },
    };
  });
  // The default is the system with the best DevTest accuracy, ties broken by Cllr.
  const best = [...systems].sort((x, y) => y.devTest.accuracy - x.devTest.accuracy || x.devTest.cllr - y.devTest.cllr)[0]!;

  console.log('\nLFW View-1 DevTest (thresholds and calibrations fitted on DevTrain)');
  console.log('system            accuracy   AUC     EER    TAR@1e-2  TAR@1e-3  Cllr   Cllr(PAV)  Cllr_min  threshold');
  for (const s of systems) {
    const d = s.devTest;
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '  n/a' : `${(x * 100).toFixed(1)}%`);
    console.log(
      `${s.system.padEnd(16)} ${pct(d.accuracy).padStart(7)}   ${d.auc.toFixed(4)}  ${pct(d.eer).padStart(5)}  ${pct(d.tarAtFar[0]?.tar).padStart(7)}   ${pct(d.tarAtFar[1]?.tar).padStart(7)}   ${d.cllr.toFixed(3)}  ${d.cllrPav.toFixed(3)}      ${d.cllrMin.toFixed(3)}     ${s.threshold.toFixed(4)}`,
    );
  }
  console.log(`default: ${best.system}`);

  writeFileSync(path.join(MODELS_DIR, 'calibrations.json'), `${JSON.stringify({ schema: 1, calibrations: set }, null, 2)}\n`);
  const evaluation = {
    schema: 1,
    dataset: 'LFW View-1',
    fittedOn: { list: train.file, sha256: train.sha256, pairs: trainPairs.length },
    judgedOn: { list: test.file, sha256: test.sha256, pairs: testPairs.length },
    faceChoice: 'the detected face nearest the image centre (LFW centres its subject)',
    imagesWithoutFace: noFace,
    measuredAt: fittedAt,
    facetVersion: FACET_VERSION,
    models,
    default: { system: best.system, recognizers: RECOGNIZERS },
    systems,
  };
  writeFileSync(path.join(MODELS_DIR, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
  console.log('wrote resources/models/calibrations.json and evaluation.json; run `npm run models` to copy the figures into the manifest');
  await inference.close();
  catalog.close();
  rmSync(scratch, { recursive: true, force: true });
}

void main();
