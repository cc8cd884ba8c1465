/**
 * Facial hybrids over LFW identity pairs: do both people stay recognizable? For each pair, the
 * cosine of the two source portraits (baseline) and of each hybrid to its donor and its base.
 * Needs an LFW catalog analysed with faceres: `npx tsx bench/hybrids.ts <catalog> [pairs=5]`.
 */
import path from 'node:path';
import { characterizeSubject } from '../src/main/engine/analysis/characterize';
import { makeHybrids } from '../src/main/engine/analysis/hybrid';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx bench/hybrids.ts <catalog> [pairs]');
  const count = Number(process.argv[3] ?? 5);
  const catalog = Catalog.open(dir);
  const inference = new InferenceService({ modelsDir: path.resolve(import.meta.dirname, '../resources/models') });
  const names = (catalog.db
    .prepare("SELECT s.name, count(*) AS n FROM subjects s JOIN portraits p ON p.subject_id = s.id WHERE p.state = 'analyzed' GROUP BY s.id HAVING n >= 20 ORDER BY s.name")
    .all() as { name: string }[]).map((r) => r.name);
  const step = Math.max(1, Math.floor(names.length / (2 * count)));
  let donorAbove = 0;
  let baseAbove = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const a = names[(2 * i * step) % names.length]!;
    const b = names[((2 * i + 1) * step) % names.length]!;
    const ca = await characterizeSubject(catalog, inference, a, { maxPortraits: 30 });
    const cb = await characterizeSubject(catalog, inference, b, { maxPortraits: 30 });
    const r = await makeHybrids(catalog, inference, ca, cb);
    for (const h of r.hybrids) {
      total++;
      if (h.similarityToFrom > r.baseline) donorAbove++;
      if (h.similarityToInto > r.baseline) baseAbove++;
      console.log(`${h.from}'s ${h.parts.join('+')} into ${h.into}: baseline ${r.baseline.toFixed(3)}, to donor ${h.similarityToFrom.toFixed(3)}, to base ${h.similarityToInto.toFixed(3)}`);
    }
  }
  console.log(`hybrids closer to their donor than the two sources are to each other: ${donorAbove}/${total}; closer to their base: ${baseAbove}/${total}`);
  await inference.close();
  catalog.close();
}

void main();
