/**
 * Case report export time on real LFW portraits: pair reports (HTML, PDF; the first one computes
 * the difference map, later ones read it from the catalog) and a subject report.
 * Run: npx tsx bench/reports.ts [portraits of the subject, default 20]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine } from '../src/main/engine';

const DATA = path.resolve(import.meta.dirname, '../../shared/data/lfw/images');
const person = 'Colin_Powell';
const n = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-reports-'));
const engine = createEngine({ catalogDir: path.join(dir, 'catalog'), modelsDir: path.resolve(import.meta.dirname, '../resources/models') });
try {
  const files = readdirSync(path.join(DATA, person)).sort().slice(0, n).map((f) => path.join(DATA, person, f));
  const job = await engine.jobs.waitFor(engine.jobs.start({ kind: 'store.ingest', params: { paths: files, analyze: true, subjectFromFolder: true, recognizers: ['faceres', 'mobileface', 'faceapi-resnet'] } }).id);
  if (job.state !== 'succeeded') throw new Error(`import ${job.state}`);
  const [a, b] = engine.catalog.listOriginals(0, 2).items.map((o) => o.sha256) as [string, string];
  const time = async (label: string, req: Parameters<typeof engine.handlers['reports.export']>[0]): Promise<void> => {
    const t0 = performance.now();
    const r = await engine.handlers['reports.export'](req);
    console.log(`${label.padEnd(34)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${(r.bytes / 1024).toFixed(0).padStart(5)} KiB`);
  };
  await time('pair HTML (first: computes the map)', { pair: { a, b }, format: 'html' });
  await time('pair HTML (map from the catalog)', { pair: { a, b }, format: 'html' });
  await time('pair PDF', { pair: { a, b }, format: 'pdf' });
  await time(`subject HTML (${files.length} portraits)`, { subject: person, format: 'html' });
  await time(`subject PDF (${files.length} portraits)`, { subject: person, format: 'pdf' });
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
