/**
 * Paper 000's representative portraits, validated: for LFW identities with many portraits, the most
 * representative portrait (by the learned PCAM metric) should verify against the rest of the
 * person's portraits better than the least representative one. Prints the mean faceres cosine of
 * each to the others, the gap, and how often it is positive; and the characterization time.
 * Needs a catalog of LFW analysed with faceres and subjects from folders:
 *   npx tsx bench/characterize.ts <catalog> [identities=15] [minPortraits=20]
 */
import path from 'node:path';
import { characterizeSubject } from '../src/main/engine/analysis/characterize';
import { cosine } from '../src/main/engine/analysis/verification';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { facesOf } from '../src/main/engine/catalog/faces';
import { InferenceService } from '../src/main/engine/models/inference';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx bench/characterize.ts <catalog> [identities] [minPortraits]');
  const count = Number(process.argv[3] ?? 15);
  const minPortraits = Number(process.argv[4] ?? 20);
  const catalog = Catalog.open(dir);
  const inference = new InferenceService({ modelsDir: path.resolve(import.meta.dirname, '../resources/models') });
  const subjects = catalog.db
    .prepare("SELECT s.name, count(*) AS n FROM subjects s JOIN portraits p ON p.subject_id = s.id WHERE p.state = 'analyzed' GROUP BY s.id HAVING n >= ? ORDER BY s.name")
    .all(minPortraits) as { name: string; n: number }[];
  const chosen = Array.from({ length: Math.min(count, subjects.length) }, (_, i) => subjects[Math.floor((i * subjects.length) / Math.min(count, subjects.length))]!);
  const embedding = (sha: string): Float32Array | undefined => facesOf(catalog, sha)[0]?.embeddings.find((e) => e.model === 'faceres')?.vector;
  const gaps: number[] = [];
  const rows: string[] = [];
  let seconds = 0;
  for (const s of chosen) {
    const t0 = performance.now();
    const c = await characterizeSubject(catalog, inference, s.name, { maxPortraits: 30, arbitrary: 40 });
    seconds += (performance.now() - t0) / 1000;
    const others = (sha: string): number => {
      const me = embedding(sha)!;
      const sims = c.portraits.filter((p) => p.sha256 !== sha).map((p) => embedding(p.sha256)).filter((v): v is Float32Array => !!v).map((v) => cosine(me, v));
      return sims.reduce((a, b) => a + b, 0) / sims.length;
    };
    const most = others(c.mostRepresentative);
    const least = others(c.leastRepresentative);
    gaps.push(most - least);
    rows.push(`${s.name.padEnd(24)} ${String(c.portraits.length).padStart(3)}  most ${most.toFixed(3)}  least ${least.toFixed(3)}  gap ${(most - least).toFixed(3)}  top parts ${c.parts.slice(0, 3).map((p) => p.part).join(', ')}`);
  }
  console.log(`${chosen.length} LFW identities with >= ${minPortraits} analysed portraits (up to 30 used, 40 others), faceres feature maps 1024x7x7`);
  for (const r of rows) console.log(r);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  console.log(`mean cosine gap (most - least representative, to the person's other portraits): ${mean.toFixed(3)}; positive for ${gaps.filter((g) => g > 0).length}/${gaps.length}; ${(seconds / chosen.length).toFixed(1)} s per characterization`);
  await inference.close();
  catalog.close();
}

void main();
