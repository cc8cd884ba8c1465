/**
 * Catalog screen paging: how long one page of catalog.originals takes through the router (request
 * and response validation included) on synthetic catalogs of 10k and 100k portraits, for the first
 * page, a deep page, and each filter and sort the screen offers. Median of repeated calls, in ms.
 *   npx tsx bench/catalog-page.ts [--sizes=10000,100000] [--repeat=15]
 */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createEngine } from '../src/main/engine';
import { createRouter } from '../src/main/transport/router';
import { seedCatalog, syntheticRows } from '../test/helpers/synthetic-catalog';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const sizes = arg('sizes', '10000,100000').split(',').map(Number);
const repeat = Number(arg('repeat', '15'));

const QUERIES: [string, (n: number) => Record<string, unknown>][] = [
  ['first page, newest import', () => ({ limit: 120 })],
  ['page at 90 % depth', (n) => ({ limit: 120, offset: Math.floor(n * 0.9) })],
  ['file name contains', () => ({ limit: 120, query: '_0001' })],
  ['subject name contains', () => ({ limit: 120, subject: 'son_0001' })],
  ['detector score >= 0.9', () => ({ limit: 120, minDetectorScore: 0.9 })],
  ['sharpness >= 390 (rare)', () => ({ limit: 120, minSharpness: 390 })],
  ['four quality minimums', () => ({ limit: 120, minDetectorScore: 0.8, minFaceSize: 100, minInterOcular: 40, minSharpness: 150 })],
  ['imported in 10 days', () => ({ limit: 120, importedFrom: '2026-01-10', importedTo: '2026-01-20' })],
  ['sort by subject', () => ({ limit: 120, sort: 'subject' })],
  ['sort by detector score', () => ({ limit: 120, sort: 'detector-score' })],
  ['sort by sharpness, deep page', (n) => ({ limit: 120, sort: 'sharpness', offset: Math.floor(n / 2) })],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const n of sizes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-catalog-'));
  const engine = createEngine({ catalogDir: dir });
  try {
    const t0 = performance.now();
    seedCatalog(engine.catalog, syntheticRows(n, 5));
    engine.catalog.db.exec('ANALYZE');
    console.log(`\n${n} portraits (seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s); median of ${repeat} calls:`);
    const router = createRouter(engine.handlers);
    for (const [label, make] of QUERIES) {
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < repeat; i++) {
        const s = performance.now();
        const res = await router.handle('catalog.originals', make(n));
        times.push(performance.now() - s);
        if (!res.ok) throw new Error(`${label}: ${res.error.message}`);
        total = (res.data as { total: number }).total;
      }
      console.log(`  ${label.padEnd(32)} ${median(times).toFixed(1).padStart(7)} ms   (${total} match)`);
    }
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
