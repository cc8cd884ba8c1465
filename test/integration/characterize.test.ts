/**
 * Characterization on real portraits through the job worker: a person against others, reproducible
 * from a seed, with clear errors for subjects that cannot be characterized.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CharacterizeResult, JobSnapshot, Res } from '../../src/shared/contract';

type LookalikesRes = Res<'lookalikes.query'>;
import { createEngine, type Engine } from '../../src/main/engine';
import { createRouter } from '../../src/main/transport/router';
import { REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const LFW = path.join(SHARED_DATA, 'lfw/images');

function result(job: JobSnapshot): CharacterizeResult {
  if (job.kind !== 'subject.characterize' || !job.result) throw new Error(`no characterization (${job.state}: ${job.error?.message ?? ''})`);
  return job.result;
}

describe('subject characterization (PCAM) on LFW portraits', () => {
  const tmp = tempDir();
  let engine: Engine;
  const unidentifiedPowell = new Set<string>();
  beforeAll(async () => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
    const src = path.join(tmp.dir, 'people');
    const copy = (person: string, count: number) => {
      mkdirSync(path.join(src, person), { recursive: true });
      for (let n = 1; n <= count; n++) {
        const name = `${person}_${String(n).padStart(4, '0')}.jpg`;
        copyFileSync(path.join(LFW, person, name), path.join(src, person, name));
      }
    };
    copy('Colin_Powell', 6);
    copy('George_W_Bush', 4);
    copy('Tony_Blair', 2);
    for (const p of readdirSync(LFW).filter((p) => existsSync(path.join(LFW, p, `${p}_0001.jpg`))).slice(0, 6)) copy(p, 1);
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [src], subjectFromFolder: true, analyze: true } }).id);
    expect(job.state).toBe('succeeded');
    // Unidentified photos, as in a case: three of them are Colin Powell (ground truth for the weighted search).
    const loose = path.join(tmp.dir, 'unidentified');
    mkdirSync(loose);
    for (const n of [10, 11, 12]) copyFileSync(path.join(LFW, 'Colin_Powell', `Colin_Powell_00${n}.jpg`), path.join(loose, `photo-${n}.jpg`));
    const unlabelled = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: readdirSync(loose).map((f) => path.join(loose, f)), analyze: true } }).id);
    expect(unlabelled.state).toBe('succeeded');
    for (const f of readdirSync(loose)) unidentifiedPowell.add(createHash('sha256').update(readFileSync(path.join(loose, f))).digest('hex'));
  }, 180_000);
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('ranks parts and portraits, learns (loss falls), and reproduces itself from the seed', async () => {
    const params = { subject: 'Colin_Powell', arbitrary: 6, epochs: 150, seed: 3, trainer: 'typescript' as const };
    const first = result(await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params }).id));
    expect(first.portraits).toHaveLength(6);
    expect(first.arbitrary).toHaveLength(6);
    // Eight facial parts and hair, plus the ears where the representative portrait's crop shows them.
    expect(first.parts.map((p) => p.rank)).toEqual(first.parts.map((_, i) => i + 1));
    expect(first.parts.length).toBe(first.parts.some((p) => p.part === 'ears') ? 10 : 9);
    expect(first.parts.map((p) => p.part)).toContain("hair");
    expect(first.parts.map((p) => p.score)).toEqual([...first.parts.map((p) => p.score)].sort((a, b) => b - a));
    expect(first.mostRepresentative).not.toBe(first.leastRepresentative);
    expect(first.portraits[0]!.sha256).toBe(first.mostRepresentative);
    expect(first.losses.at(-1)!).toBeLessThan(first.losses[0]! / 2);
    // Shares are fractions of the map's positive mass: each in [0, 1], together at most 1.
    expect(first.parts.every((p) => p.individual >= 0 && p.individual <= 1)).toBe(true);
    expect(first.parts.reduce((s, p) => s + p.individual, 0)).toBeLessThanOrEqual(1 + 1e-6);
    const again = result(await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params }).id));
    expect(again.parts).toEqual(first.parts);
    expect(again.portraits).toEqual(first.portraits);
    expect(engine.catalog.audit.list(5).map((e) => e.action)).toContain('subject.characterize');
    // The ONNX trainer (what a GPU would run) learns the same metric: each portrait's
    // representativeness agrees to 2 % (float sums in another order can swap near-ties in the ranking).
    const runtime = result(await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params: { ...params, trainer: 'runtime' } }).id));
    const reference = new Map(first.portraits.map((p) => [p.sha256, p.representativeness]));
    for (const p of runtime.portraits) {
      const ts = reference.get(p.sha256)!;
      expect(Math.abs(p.representativeness - ts) / Math.abs(ts), p.sha256).toBeLessThan(0.02);
    }
  }, 120_000);

  it('finds look-alikes among other people only, best first, from the stored embeddings', async () => {
    const router = createRouter(engine.handlers);
    const call = (payload: unknown) => router.handle('lookalikes.query', payload) as Promise<{ ok: boolean; data?: LookalikesRes; error?: { message: string } }>;
    const r = await call({ face: { path: path.join(LFW, 'Colin_Powell', 'Colin_Powell_0001.jpg') }, limit: 5 });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const res = r.data!;
    expect(res.query.subject).toBe('Colin_Powell');
    const faces = (engine.catalog.db.prepare("SELECT count(*) AS n FROM embeddings WHERE model_id = 'faceres'").get() as { n: number }).n;
    expect(res.searched).toBe(faces);
    expect(res.results).toHaveLength(5);
    expect(res.results.every((h) => h.subject !== 'Colin_Powell')).toBe(true);
    expect(res.results.map((h) => h.score)).toEqual([...res.results.map((h) => h.score)].sort((a, b) => b - a));
    // A face from outside the catalog is analysed on the fly; its own person is not excluded then.
    const outside = await call({ face: { path: path.join(LFW, 'Colin_Powell', 'Colin_Powell_0007.jpg') }, limit: 3 });
    expect(outside.data!.query.subject).toBeNull();
    const top = outside.data!.results[0]!;
    expect(top.subject === 'Colin_Powell' || unidentifiedPowell.has(top.sha256), JSON.stringify(top)).toBe(true); // the same person ranks first
    expect((await call({ face: { path: path.join(LFW, 'Colin_Powell', 'Colin_Powell_0001.jpg') }, recognizer: 'selfie' })).error?.message).toMatch(/not a recognizer/);
    // Weighted by Colin Powell's characterization (learned in the test above): re-ranked by its metric.
    const weighted = await call({ face: { path: path.join(LFW, 'Colin_Powell', 'Colin_Powell_0001.jpg') }, limit: 4, weighted: true });
    expect(weighted.ok, JSON.stringify(weighted.error)).toBe(true);
    const distances = weighted.data!.results.map((h) => h.metricDistance!);
    expect(weighted.data!.weighted).toBe(true);
    expect(distances).toHaveLength(4);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(weighted.data!.results.every((h) => h.subject !== 'Colin_Powell')).toBe(true);
    // Measured from Colin Powell's characterization, the unidentified photos of him come first.
    const first3 = weighted.data!.results.slice(0, 3);
    expect(first3.every((h) => unidentifiedPowell.has(h.sha256)), JSON.stringify(weighted.data!.results)).toBe(true);
    expect(new Set(first3.map((h) => h.sha256)).size).toBe(3);
    const uncharacterized = await call({ face: { path: path.join(LFW, 'George_W_Bush', 'George_W_Bush_0001.jpg') }, weighted: true });
    expect(uncharacterized.error?.message).toMatch(/"George_W_Bush" has no characterization/);
  }, 60_000);

  it('fuses each person\'s characteristic parts into the other; both stay recognizable in the hybrid', async () => {
    const out = path.join(tmp.dir, 'hybrids');
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.hybrid', params: { a: 'Colin_Powell', b: 'George_W_Bush', outDir: out } }).id);
    if (job.kind !== 'subject.hybrid' || !job.result) throw new Error(`no hybrids (${job.state}: ${job.error?.message ?? ''})`);
    const r = job.result;
    expect(r.hybrids.map((h) => `${h.from}>${h.into}`)).toEqual(['Colin_Powell>George_W_Bush', 'George_W_Bush>Colin_Powell']);
    for (const h of r.hybrids) {
      expect(h.parts).toHaveLength(2);
      expect(existsSync(h.file!)).toBe(true);
      // The base person stays recognizable, and the hybrid is not the base portrait unchanged. (Whether
      // the donor also stays recognizable depends on the sets; measured and reported, not asserted.)
      expect(h.similarityToInto, `${h.into} with ${h.from}'s parts`).toBeGreaterThan(0.6);
      expect(h.similarityToInto).toBeLessThan(0.995);
      expect(h.similarityToFrom).toBeGreaterThan(-1);
    }
    // What the window shows: the two aligned sources and each hybrid as a JPEG preview of the PNG file written.
    expect(r.sources.map((x) => x.subject)).toEqual(['Colin_Powell', 'George_W_Bush']);
    const size = engine.inference().registry.get(r.recognizer).input.width;
    for (const h of r.hybrids) {
      const jpeg = Buffer.from(h.image.slice('data:image/jpeg;base64,'.length), 'base64');
      const meta = await sharp(jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', size, size]);
      const shown = await sharp(jpeg).raw().toBuffer();
      const written = await sharp(readFileSync(h.file!)).raw().toBuffer();
      expect(shown.length).toBe(written.length);
      expect(shown.reduce((sum, v, i) => sum + Math.abs(v - written[i]!), 0) / shown.length).toBeLessThan(3);
      expect(h.fromPortrait).toBe(r.sources.find((x) => x.subject === h.from)!.sha256);
      expect(h.intoPortrait).toBe(r.sources.find((x) => x.subject === h.into)!.sha256);
    }
    console.log('hybrids', r.baseline.toFixed(3), r.hybrids.map((h) => `${h.from}>${h.into} ${h.parts.join('+')} from ${h.similarityToFrom.toFixed(3)} into ${h.similarityToInto.toFixed(3)}`).join('; '));
    const same = await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.hybrid', params: { a: 'Colin_Powell', b: 'Colin_Powell' } }).id);
    expect(same.error?.message).toMatch(/two different people/);
  }, 120_000);

  it('explains what is missing when a subject cannot be characterized', async () => {
    const unknown = await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params: { subject: 'Nobody_Here' } }).id);
    expect(unknown.error?.message).toMatch(/no subject named "Nobody_Here"/);
    const few = await engine.jobs.waitFor(engine.jobs.start({ kind: 'subject.characterize', params: { subject: 'Tony_Blair' } }).id);
    expect(few.error?.message).toMatch(/has 2 analysed portraits; characterization needs at least 3/);
  }, 60_000);
});
