/**
 * Import with face analysis: portraits/s through the real job worker (hash, store, thumbnail,
 * detect, landmark, align, embed, commit), for 250x250 LFW portraits on this machine.
 * Goal (issue 4): >= 10 portraits/s on 2 cores with the default recognizer.
 * Run by hand: `npx tsx bench/import.ts [limit] [recognizers]` (default 500, faceres; e.g. 300
 * faceres,mobileface,faceapi-resnet for all three).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine } from '../src/main/engine';
import { SHARED_DATA } from '../test/helpers/fixtures';
import { lfwFiles } from './lfw-files';

async function main(): Promise<void> {
  const limit = Number(process.argv[2] ?? 500);
  const recognizers = (process.argv[3] ?? 'faceres').split(',');
  const inputs = lfwFiles(path.join(SHARED_DATA, 'lfw/images'), limit);
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-'));
  const engine = createEngine({ catalogDir: path.join(work, 'catalog') });
  try {
    // Warm-up on other files: model loading is a one-off cost, not throughput.
    const warm = lfwFiles(path.join(SHARED_DATA, 'lfw/images'), limit + 8).slice(limit);
    await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: warm, analyze: true, recognizers } }).id);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: inputs, analyze: true, recognizers } }).id);
    const seconds = (performance.now() - t0) / 1000;
    if (job.kind !== 'store.ingest' || !job.result) throw new Error(`import failed: ${job.error?.message}`);
    const r = job.result;
    console.log(`${inputs.length} LFW portraits (250x250), recognizers ${recognizers.join('+')}, ${os.cpus().length} cores`);
    console.log(`import + analysis: ${seconds.toFixed(1)} s, ${(inputs.length / seconds).toFixed(1)} portraits/s (goal >= 10/s: ${(inputs.length / seconds / 10).toFixed(2)}x)`);
    console.log(`added ${r.added}, analysed ${r.analyzed}, faces ${r.faces} (${(r.faces / r.analyzed).toFixed(2)} per portrait), errors ${r.errors.length}; main-process RSS +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
