/**
 * Store-ingest throughput: files/s and MiB/s for hashing, probing, storing and cataloguing originals
 * through the real job worker. Run by hand: `npx tsx bench/ingest.ts [folder] [limit]`
 * (default: the first 1000 LFW images from ../shared/data, else 1000 generated images).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine } from '../src/main/engine';
import { SHARED_DATA, writeNoiseImages } from '../test/helpers/fixtures';
import { lfwFiles } from './lfw-files';

async function main(): Promise<void> {
  const limit = Number(process.argv[3] ?? 1000);
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-'));
  let inputs: string[];
  let source: string;
  const lfw = process.argv[2] ?? path.join(SHARED_DATA, 'lfw/images');
  if (existsSync(lfw)) {
    source = lfw;
    inputs = lfwFiles(lfw, limit);
  } else {
    source = 'generated 48x48 PNGs';
    inputs = await writeNoiseImages(path.join(work, 'in'), limit);
  }
  const bytes = inputs.reduce((s, f) => s + statSync(f).size, 0);
  const engine = createEngine({ catalogDir: path.join(work, 'catalog') });
  try {
    const t0 = performance.now();
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: inputs, recursive: false } }).id);
    const seconds = (performance.now() - t0) / 1000;
    if (job.kind !== 'store.ingest' || !job.result) throw new Error(`ingest failed: ${job.error?.message}`);
    const t1 = performance.now();
    const verify = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.verify', params: {} }).id);
    const verifySeconds = (performance.now() - t1) / 1000;
    console.log(`source: ${source}; ${inputs.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB; ${os.cpus().length} cores`);
    console.log(`ingest: ${seconds.toFixed(2)} s, ${(inputs.length / seconds).toFixed(1)} files/s, ${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s (added ${job.result.added}, errors ${job.result.errors.length})`);
    console.log(`verify: ${verifySeconds.toFixed(2)} s, ${(inputs.length / verifySeconds).toFixed(1)} files/s (${verify.state})`);
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
