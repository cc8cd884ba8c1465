/**
 * Import against hostile and odd input, CSV mappings, thumbnails, and a kill -9 in the middle of
 * an analysing import: the catalog must open intact and the run must resume without duplicates.
 */
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult, JobSnapshot } from '../../src/shared/contract';
import { createEngine, type Engine } from '../../src/main/engine';
import { facesOf } from '../../src/main/engine/catalog/faces';
import { REPO_ROOT, SHARED_DATA, tempDir, writeBadCorpus, noiseImage } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');
const DEMO = path.join(REPO_ROOT, 'node_modules/@vladmandic/face-api/demo');
const BIN = path.join(REPO_ROOT, 'bin/facet.js');
const lfw = (person: string, n: number): string => path.join(SHARED_DATA, 'lfw/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

function ingestResult(job: JobSnapshot): IngestResult {
  if (job.kind !== 'store.ingest' || !job.result) throw new Error(`no ingest result (${job.state}: ${job.error?.message ?? ''})`);
  return job.result;
}

describe('import: bad-input corpus, CSV mappings and thumbnails', () => {
  const tmp = tempDir();
  let engine: Engine;
  const inDir = path.join(tmp.dir, 'in');
  beforeAll(() => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('gives each bad file a clear error, and analyses every odd but valid one correctly', async () => {
    const bad = await writeBadCorpus(path.join(inDir, 'bad'));
    const face = lfw('Colin_Powell', 1);
    const odd = path.join(inDir, 'odd');
    mkdirSync(odd, { recursive: true });
    await sharp(face).toColourspace('cmyk').jpeg().toFile(path.join(odd, 'cmyk.jpg'));
    await sharp(face).toColourspace('rgb16').png().toFile(path.join(odd, 'sixteen.png'));
    // Stored sideways with an EXIF tag saying "rotate 90° clockwise to view".
    await sharp(face).rotate(-90).jpeg().withMetadata({ orientation: 6 }).toFile(path.join(odd, 'exif-rotated.jpg'));
    writeFileSync(path.join(odd, 'noface.png'), await noiseImage(77, 'png', 200));
    copyFileSync(path.join(DEMO, 'sample1.jpg'), path.join(odd, 'group.jpg'));
    const unicodeDir = path.join(inDir, 'Zoë Ångström 写真');
    mkdirSync(unicodeDir, { recursive: true });
    copyFileSync(lfw('Tony_Blair', 1), path.join(unicodeDir, 'portrait été.jpg'));

    const job = await engine.jobs.waitFor(
      engine.jobs.start({ kind: 'store.ingest', params: { paths: [path.join(inDir, 'bad'), odd, unicodeDir], analyze: true, subjectFromFolder: true } }).id,
    );
    expect(job.state).toBe('succeeded');
    const r = ingestResult(job);
    const errors = Object.fromEntries(r.errors.map((e) => [path.basename(e.path), e.message]));
    expect(errors).toEqual({
      'empty.jpg': 'the file is empty',
      'text.jpg': expect.stringMatching(/not a readable image/),
      'truncated.jpg': expect.stringMatching(/damaged/),
      'bomb.png': expect.stringMatching(/20000x20000 pixels, over the limit of 100 megapixels/),
    });
    expect(Object.keys(bad)).toHaveLength(4);
    expect(r.added).toBe(6);
    expect(r.analyzed).toBe(6);

    const bySource = (name: string): string => {
      const row = engine.catalog.db.prepare('SELECT sha256 FROM originals WHERE original_name = ?').get(name) as { sha256: string } | undefined;
      if (!row) throw new Error(`${name} not catalogued`);
      return row.sha256;
    };
    for (const name of ['cmyk.jpg', 'sixteen.png', 'exif-rotated.jpg']) {
      const faces = facesOf(engine.catalog, bySource(name));
      expect(faces, name).toHaveLength(1);
      // Upright after conversion: eyes level, detector confident.
      expect(Math.abs(faces[0]!.quality.roll), name).toBeLessThan(15);
      expect(faces[0]!.quality.detectorScore, name).toBeGreaterThan(0.7);
    }
    // The EXIF-rotated copy is the same face as the plain one: same embedding, near enough.
    const [plain] = facesOf(engine.catalog, bySource('cmyk.jpg'));
    const [rotated] = facesOf(engine.catalog, bySource('exif-rotated.jpg'));
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    expect(dot(plain!.embeddings[0]!.vector, rotated!.embeddings[0]!.vector)).toBeGreaterThan(0.9);
    expect(facesOf(engine.catalog, bySource('noface.png'))).toHaveLength(0);
    expect(facesOf(engine.catalog, bySource('group.jpg')).length).toBeGreaterThanOrEqual(3);
    // Unicode folder and file names: stored, named, and the subject taken from the folder.
    const subject = engine.catalog.db
      .prepare('SELECT s.name FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE p.sha256 = ?')
      .get(bySource('portrait été.jpg')) as { name: string };
    expect(subject.name).toBe('Zoë Ångström 写真');

    // Thumbnails: one per original, upright, at most 256 px.
    const rotatedOriginal = engine.catalog.getOriginal(bySource('exif-rotated.jpg'))!;
    expect([rotatedOriginal.width, rotatedOriginal.height]).toEqual([250, 250]);
    const count = engine.catalog.db.prepare('SELECT count(*) AS n FROM thumbnails').get() as { n: number };
    expect(count.n).toBe(6);
    const group = engine.catalog.getThumbnail(bySource('group.jpg'))!;
    const meta = await sharp(group.data).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBe(256);
    // An upright thumbnail of the rotated portrait matches the plain one pixel for pixel, roughly.
    const px = async (sha: string) => sharp(engine.catalog.getThumbnail(sha)!.data).resize(16, 16).greyscale().raw().toBuffer();
    const [a, b] = [await px(bySource('cmyk.jpg')), await px(bySource('exif-rotated.jpg'))];
    const meanAbs = a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(meanAbs).toBeLessThan(12);
  });

  it('imports a CSV mapping: relative paths, subjects, and a per-row error for a bad row', async () => {
    const dir = path.join(inDir, 'csv');
    mkdirSync(path.join(dir, 'photos'), { recursive: true });
    copyFileSync(lfw('Serena_Williams', 1), path.join(dir, 'photos', 'a.jpg'));
    copyFileSync(lfw('Serena_Williams', 2), path.join(dir, 'photos', 'b.jpg'));
    const csv = path.join(dir, 'mapping.csv');
    writeFileSync(csv, '\ufeffPath,Subject\nphotos/a.jpg,Serena Williams\n"photos/b.jpg","Serena Williams"\n,Nobody\nphotos/missing.jpg,Ghost\n');
    const r = ingestResult(await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { csv } }).id));
    expect(r.added).toBe(2);
    expect(r.errors.map((e) => e.message)).toEqual(['row has no path', 'no such file']);
    expect(r.errors[1]!.path).toMatch(/missing\.jpg$/);
    const names = engine.catalog.db
      .prepare("SELECT o.original_name AS n, s.name AS s FROM originals o JOIN portraits p ON p.sha256 = o.sha256 JOIN subjects s ON s.id = p.subject_id WHERE o.original_name IN ('a.jpg', 'b.jpg') ORDER BY n")
      .all();
    expect(names).toEqual([
      { n: 'a.jpg', s: 'Serena Williams' },
      { n: 'b.jpg', s: 'Serena Williams' },
    ]);
    // A CSV without a path column fails the whole import before anything is stored.
    writeFileSync(csv, 'name,who\nx,y\n');
    const failed = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { csv } }).id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.message).toMatch(/needs a header row with a path column/);
  });
});

describe('kill -9 during an analysing import, then resume', () => {
  const tmp = tempDir();
  const catalog = path.join(tmp.dir, 'catalog');
  afterAll(() => tmp.cleanup());
  const facet = (args: string[]) => spawnSync(process.execPath, [BIN, '--catalog', catalog, ...args], { encoding: 'utf8', timeout: 300_000 });

  it('leaves a catalog that opens intact, loses nothing committed, and resumes without duplicates', async () => {
    // 40 LFW portraits from 8 people, in their person folders.
    const people = readdirSync(path.join(SHARED_DATA, 'lfw/images')).filter((p) => existsSync(lfw(p, 5))).slice(0, 8);
    const src = path.join(tmp.dir, 'people');
    for (const p of people) {
      mkdirSync(path.join(src, p), { recursive: true });
      for (let n = 1; n <= 5; n++) copyFileSync(lfw(p, n), path.join(src, p, path.basename(lfw(p, n))));
    }
    const child = spawn(process.execPath, [BIN, '--catalog', catalog, 'import', src, '--subject-from-folder', '--analyze'], { stdio: 'ignore' });
    const dbFile = path.join(catalog, 'catalog.sqlite');
    // Wait until some files are fully done (committed and analysed), then kill without warning.
    const finished = (): number => {
      if (!existsSync(dbFile)) return 0;
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM import_items WHERE status != 'pending'").get() as { n: number }).n;
      } catch {
        return 0; // tables not created yet
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 120_000;
    while (finished() < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = finished();
    expect(before).toBeGreaterThanOrEqual(8);
    expect(before).toBeLessThan(40); // killed mid-run

    const db = new Database(dbFile);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const committed = (db.prepare('SELECT count(*) AS n FROM originals').get() as { n: number }).n;
    expect(committed).toBeGreaterThanOrEqual(before);
    db.close();
    const audit = facet(['audit', 'verify']);
    expect(audit.status, audit.stdout + audit.stderr).toBe(0);

    const runs = JSON.parse(facet(['--json', 'imports']).stdout) as { id: number; state: string; counts: { pending: number } }[];
    expect(runs[0]).toMatchObject({ id: 1, state: 'running' });
    expect(runs[0]!.counts.pending).toBe(40 - before);

    const resumed = facet(['--json', 'import', '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const job = JSON.parse(resumed.stdout) as JobSnapshot;
    const r = ingestResult(job);
    expect(r).toMatchObject({ runId: 1, resumed: true, files: 40, added: 40, errors: [], duplicates: [] });
    // Only the files left pending were worked on this time.
    expect(r.analyzed).toBeLessThanOrEqual(40 - before + 1);

    const after = new Database(dbFile, { readonly: true });
    const one = (sql: string) => (after.prepare(sql).get() as { n: number }).n;
    expect(one('SELECT count(*) AS n FROM originals')).toBe(40);
    expect(one("SELECT count(*) AS n FROM portraits WHERE state = 'analyzed'")).toBe(40);
    expect(one('SELECT count(*) AS n FROM thumbnails')).toBe(40);
    expect(one('SELECT count(*) AS n FROM subjects')).toBe(8);
    expect(one('SELECT count(*) AS n FROM (SELECT portrait, idx FROM faces GROUP BY portrait, idx HAVING count(*) > 1)')).toBe(0);
    expect(one("SELECT count(*) AS n FROM import_items WHERE status != 'added'")).toBe(0);
    expect(one("SELECT count(*) AS n FROM import_runs WHERE state = 'done'")).toBe(1);
    after.close();
    expect(facet(['audit', 'verify']).status).toBe(0);
    expect(facet(['store', 'verify']).status).toBe(0);
    // Nothing left to resume.
    const again = facet(['import', '--resume']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/no unfinished import to resume/);
  }, 300_000);
});
