/**
 * Verification and evaluation on real LFW photos through the engine's contract: known same-person
 * and different-people pairs must come out on the right side with LRs pointing the right way, and
 * every LR must name the calibration (and pair list) behind it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalResult, JobSnapshot, VerifyPairResult } from '../../src/shared/contract';
import { createEngine, type Engine } from '../../src/main/engine';
import { createRouter } from '../../src/main/transport/router';
import { noiseImage, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const IMAGES = path.join(SHARED_DATA, 'lfw/images');
const lfw = (person: string, n: number): string => path.join(IMAGES, person, `${person}_${String(n).padStart(4, '0')}.jpg`);

function evalResult(job: JobSnapshot): EvalResult {
  if (job.kind !== 'eval.pairs' || !job.result) throw new Error(`no evaluation result (${job.state}: ${job.error?.message ?? ''})`);
  return job.result;
}

describe('verification with calibrated likelihood ratios', () => {
  const tmp = tempDir();
  let engine: Engine;
  let call: (method: string, payload: unknown) => Promise<{ ok: boolean; data?: unknown; error?: { code: string; message: string } }>;
  const list = path.join(tmp.dir, 'pairs.txt');
  const out = path.join(tmp.dir, 'eval');

  beforeAll(() => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    const router = createRouter(engine.handlers);
    call = (method, payload) => router.handle(method, payload) as never;
    // 20 same-person and 20 different-people pairs from View-1 DevTest, in LFW format.
    const lines = readFileSync(path.join(SHARED_DATA, 'lfw/pairsDevTest.txt'), 'utf8').trim().split('\n').slice(1);
    writeFileSync(list, ['20', ...lines.slice(0, 20), ...lines.slice(500, 520)].join('\n'));
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('eval pairs: per-fold accuracy, ROC/EER/Cllr for each recognizer and the fusion, JSON and plots, a saved calibration', async () => {
    const job = await engine.jobs.waitFor(
      engine.jobs.start({ kind: 'eval.pairs', params: { list, images: IMAGES, outDir: out, saveCalibration: 'devtest-40' } }).id,
    );
    const r = evalResult(job);
    expect(r).toMatchObject({ format: 'lfw', pairs: 40, targets: 20, nonTargets: 20, folds: 10, foldSource: 'assigned', faceChoice: 'centre', unscorable: [] });
    expect(r.systems.map((s) => s.system)).toEqual(['faceres', 'mobileface', 'faceapi-resnet', 'fusion']);
    for (const s of r.systems) {
      expect(s.accuracy.perFold).toHaveLength(10);
      expect(s.auc, s.system).toBeGreaterThan(0.9);
      expect(s.accuracy.mean, s.system).toBeGreaterThan(0.8);
      expect(s.cllrMin).toBeLessThanOrEqual(s.cllr + 1e-9);
      expect(s.cllr, s.system).toBeLessThan(1); // better than no information
    }
    console.log('eval (40 DevTest pairs)', r.systems.map((s) => `${s.system} acc ${(s.accuracy.mean * 100).toFixed(1)} auc ${s.auc.toFixed(3)} cllr ${s.cllr.toFixed(3)}`).join('; '));
    // JSON holds every figure and the per-pair scores; plots exist as SVG and PNG with their titles.
    const json = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8')) as { systems: { scores: { targets: number[] } }[]; listSha256: string };
    expect(json.systems[0]!.scores.targets).toHaveLength(20);
    expect(json.listSha256).toBe(r.listSha256);
    for (const name of ['roc', 'det', 'tippett-fusion']) {
      const svg = readFileSync(path.join(out, `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg/);
      expect(svg).toContain(name === 'roc' ? 'ROC: pairs.txt' : name === 'det' ? 'DET: pairs.txt' : 'Tippett: fusion');
      const meta = await sharp(path.join(out, `${name}.png`)).metadata();
      expect(meta.width).toBeGreaterThan(400);
    }
    expect(r.savedCalibration).toBe('devtest-40');
  }, 240_000);

  it('verify: the same person scores above threshold with LR > 1, different people below with LR < 1, with provenance', async () => {
    const same = await call('verify.pair', { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('George_W_Bush', 2) }, calibration: 'devtest-40' });
    const diff = await call('verify.pair', { a: { path: lfw('George_W_Bush', 1) }, b: { path: lfw('Serena_Williams', 1) }, calibration: 'devtest-40' });
    expect(same.ok && diff.ok, JSON.stringify([same.error, diff.error])).toBe(true);
    const s = same.data as VerifyPairResult;
    const d = diff.data as VerifyPairResult;
    for (const [r, decision] of [[s, 'same'], [d, 'different']] as const) {
      expect(r.calibrationSet).toBe('devtest-40');
      for (const sys of r.systems) {
        expect(sys.decision, `${sys.system} ${decision}`).toBe(decision);
        for (const e of sys.evidence) {
          expect(decision === 'same' ? e.lr > 1 : e.lr < 1, `${sys.system} ${e.method} LR ${e.lr}`).toBe(true);
          expect(e.calibration.provenance).toMatchObject({ source: 'catalog', pairList: list, targets: 20, nonTargets: 20 });
          expect(e.verbal).toMatch(decision === 'same' ? /same person/ : /different people/);
        }
      }
      expect(r.systems.find((x) => x.system === 'fusion')?.evidence).toHaveLength(2);
      expect(r.a.norms.faceres).toBeGreaterThan(0);
    }
    expect(s.systems[0]!.score).toBeGreaterThan(d.systems[0]!.score);
    console.log('verify same', s.systems.map((x) => `${x.system} ${x.score.toFixed(3)} LR ${x.evidence[0]?.lr.toPrecision(3)}`).join('; '));
    console.log('verify diff', d.systems.map((x) => `${x.system} ${x.score.toFixed(3)} LR ${x.evidence[0]?.lr.toPrecision(3)}`).join('; '));
  }, 120_000);

  it('verify: a catalogued original is taken from the catalog by hash; bad input gets a clear error', async () => {
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [lfw('Tony_Blair', 1), lfw('Tony_Blair', 2)], analyze: true, recognizers: ['faceres'] } }).id);
    expect(job.state).toBe('succeeded');
    const sha = (engine.catalog.listOriginals(0, 10).items.find((o) => o.originalName === 'Tony_Blair_0001.jpg') as { sha256: string }).sha256;
    const r = await call('verify.pair', { a: { sha256: sha }, b: { path: lfw('Tony_Blair', 2) }, recognizers: ['faceres'] });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const v = r.data as VerifyPairResult;
    expect(v.a.source).toBe('catalog');
    expect(v.b.source).toBe('catalog'); // same bytes as the imported file
    expect(v.systems.map((x) => x.system)).toEqual(['faceres']);

    const noise = path.join(tmp.dir, 'noise.png');
    writeFileSync(noise, await noiseImage(3, 'png', 120));
    const cases: [unknown, RegExp][] = [
      [{ a: { path: path.join(tmp.dir, 'nope.jpg') }, b: { path: lfw('Tony_Blair', 2) } }, /first image: cannot read .*nope\.jpg: no such file/],
      [{ a: { path: lfw('Tony_Blair', 1) }, b: { path: noise } }, /second image: no face found/],
      [{ a: { path: lfw('Tony_Blair', 1), face: 4 }, b: { path: noise } }, /first image: there is no face 4: \d+ faces? found/],
      [{ a: { path: lfw('Tony_Blair', 1) }, b: { path: lfw('Tony_Blair', 2) }, recognizers: ['blazeface'] }, /blazeface is a detector, not a recognizer/],
      [{ a: { path: lfw('Tony_Blair', 1) }, b: { path: lfw('Tony_Blair', 2) }, calibration: 'no-such-set' }, /no calibration set named "no-such-set"/],
      [{ a: { path: 'relative.jpg' }, b: { sha256: sha } }, /absolute path/],
      [{ a: { path: lfw('Tony_Blair', 1), sha256: sha }, b: { sha256: sha } }, /either a path or a sha256/],
    ];
    for (const [payload, message] of cases) {
      const res = await call('verify.pair', payload);
      expect(res.ok).toBe(false);
      expect(`${res.error?.message} ${JSON.stringify((res.error as { issues?: unknown }).issues ?? '')}`).toMatch(message);
    }
  }, 120_000);

  it('lists calibrations with provenance, and which fit the installed model files', async () => {
    const res = await call('calibrations.list', {});
    expect(res.ok).toBe(true);
    const mine = (res.data as { name: string; modelId: string; applicable: boolean; provenance: { pairList: string } }[]).filter((c) => c.name === 'devtest-40');
    expect(mine).toHaveLength(8); // 3 recognizers + fusion, logistic and PAV each
    expect(mine.every((c) => c.applicable && c.provenance.pairList === list)).toBe(true);
    const audit = engine.catalog.audit.list(50).map((e) => e.action);
    expect(audit).toContain('calibration.save');
  });
});
