import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/main/engine';
import type { JobSnapshot } from '../../src/shared/contract';
import { hasSharedData, SHARED_DATA, tempDir, writeBadCorpus, writeNoiseImages } from '../helpers/fixtures';

function ingestResult(job: JobSnapshot) {
  if (job.kind !== 'store.ingest' || !job.result) throw new Error(`no ingest result: ${JSON.stringify(job)}`);
  return job.result;
}

describe('jobs run in worker threads with progress, results, per-file errors and cancel', () => {
  const tmp = tempDir();
  let engine: Engine;
  const events: JobSnapshot[] = [];

  beforeAll(() => {
    engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog') });
    engine.subscribe((e) => events.push(e.job));
  });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });

  it('imports a folder, reports duplicates and each bad file, and goes on', async () => {
    const good = await writeNoiseImages(path.join(tmp.dir, 'in/good'), 12);
    await writeBadCorpus(path.join(tmp.dir, 'in/bad'));
    // Sorts after the original, so the original is the one added and the copy the duplicate.
    writeFileSync(path.join(tmp.dir, 'in/good/zz_copy_of_first.png'), readFileSync(good[0]!));
    writeFileSync(path.join(tmp.dir, 'in/notes.txt'), 'ignored: not an image extension');

    const started = engine.jobs.start({
      kind: 'store.ingest',
      params: { paths: [path.join(tmp.dir, 'in'), path.join(tmp.dir, 'missing')], recursive: true },
    });
    expect(started.state).toMatch(/queued|running/);
    const job = await engine.jobs.waitFor(started.id);
    expect(job.state).toBe('succeeded');
    const r = ingestResult(job);
    // Every input of the run counts, the missing path included (it is a per-file error).
    expect(r.files).toBe(12 + 1 + 4 + 1);
    expect(r.added).toBe(12);
    expect(r.duplicates).toHaveLength(1);
    expect(r.duplicates[0]?.path).toMatch(/zz_copy_of_first\.png$/);
    const messages = Object.fromEntries(r.errors.map((e) => [path.basename(e.path), e.message]));
    expect(messages['missing']).toBe('no such file or folder');
    expect(messages['empty.jpg']).toBe('the file is empty');
    expect(messages['text.jpg']).toMatch(/not a readable image/);
    expect(messages['truncated.jpg']).toMatch(/damaged/);
    expect(messages['bomb.png']).toMatch(/20000x20000 pixels, over the limit/);
    expect(engine.catalog.stats().originals).toBe(12);

    const mine = events.filter((e) => e.id === started.id);
    expect(mine.map((e) => e.state)).toContain('running');
    expect(mine.at(-1)?.state).toBe('succeeded');
    expect(mine.at(-1)?.progress).toMatchObject({ done: 18, total: 18 });
    // Revisions order snapshots, so a late reply can never overwrite a newer event.
    const revisions = mine.map((e) => e.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(engine.jobs.get(started.id).revision).toBe(revisions.at(-1));
  });

  it('a second import of the same folder adds nothing', async () => {
    const job = await engine.jobs.waitFor(
      engine.jobs.start({ kind: 'store.ingest', params: { paths: [path.join(tmp.dir, 'in/good')], recursive: true } }).id,
    );
    const r = ingestResult(job);
    expect(r.added).toBe(0);
    expect(r.duplicates).toHaveLength(13);
  });

  it('cancel stops a running import and keeps what it committed', async () => {
    const folder = path.join(tmp.dir, 'many');
    await writeNoiseImages(folder, 1500, 10_000);
    const before = engine.catalog.stats().originals;
    const { id } = engine.jobs.start({ kind: 'store.ingest', params: { paths: [folder], recursive: true } });
    // Wait until real progress has been made, then cancel.
    await new Promise<void>((resolve) => {
      const stop = engine.jobs.onUpdate((j) => {
        if (j.id === id && j.progress.total !== null && j.progress.done >= 50) {
          stop();
          resolve();
        }
      });
    });
    engine.jobs.cancel(id);
    const job = await engine.jobs.waitFor(id);
    expect(job.state).toBe('cancelled');
    const r = ingestResult(job);
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.added + r.skipped + r.errors.length + r.duplicates.length).toBe(1500);
    expect(engine.catalog.stats().originals).toBe(before + r.added);
    // Everything committed is complete on disk.
    const verify = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.verify', params: {} }).id);
    expect(verify.result).toMatchObject({ missing: [], corrupted: [] });
  });

  it('cancelling a queued job never starts it; unknown ids are not_found', async () => {
    const busy = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), jobConcurrency: 1 });
    try {
      const first = busy.jobs.start({ kind: 'store.verify', params: {} });
      const second = busy.jobs.start({ kind: 'store.verify', params: {} });
      expect(busy.jobs.get(second.id).state).toBe('queued');
      expect(busy.jobs.cancel(second.id).state).toBe('cancelled');
      expect((await busy.jobs.waitFor(first.id)).state).toBe('succeeded');
      expect(busy.jobs.get(second.id).startedAt).toBeNull();
      expect(() => busy.jobs.cancel('job-nope')).toThrow(/No job/);
    } finally {
      await busy.close();
    }
  });

  it('the store check finds an altered and a missing original', async () => {
    const [a, b] = engine.catalog.listOriginals(0, 2).items;
    const fileA = engine.catalog.store.pathFor(a!.sha256);
    chmodSync(fileA, 0o644);
    writeFileSync(fileA, 'tampered');
    rmSync(engine.catalog.store.pathFor(b!.sha256));
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.verify', params: {} }).id);
    if (job.kind !== 'store.verify' || !job.result) throw new Error('no result');
    expect(job.result.missing).toEqual([b!.sha256]);
    expect(job.result.corrupted.map((c) => c.sha256)).toEqual([a!.sha256]);
    expect(job.result.intact).toBe(job.result.checked - 2);
  });

  it.skipIf(!hasSharedData)('imports real portraits from the shared data set', async () => {
    const dir = path.join(SHARED_DATA, 'five_celebrity_faces');
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: [dir], recursive: true } }).id);
    const r = ingestResult(job);
    expect(r.files).toBeGreaterThan(50);
    expect(r.errors).toEqual([]);
    expect(r.added + r.duplicates.length).toBe(r.files);
  });
});
