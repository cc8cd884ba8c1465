/**
 * Paper 000's representative portraits, validated: for LFW identities with many portraits, the most
 * representative portrait (by the learned PCAM metric) should verify against the rest of the
 * person's portraits better than the least representative one. Prints the mean faceres cosine of
 * each to the others, the gap, and how often it is positive; and the characterization time.
 * Needs a catalog of LFW analysed with faceres and subjects from folders:
 *   npx tsx bench/characterize.ts <catalog> [identities=15] [minPortraits=20]
 */
import path from 'node:path';
import { characterizeSubject, featureMaps } from '../src/main/engine/analysis/characterize';
import { activeRegion, camMap, iou, pcamMap, trainCam, trainPcam, type FeatureMap } from '../src/main/engine/analysis/pcam';
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
  const measures = {
    cam: { overlap: [] as number[], consistency: [] as number[], sameClass: [] as number[] },
    pcam: { overlap: [] as number[], consistency: [] as number[], sameClass: [] as number[] },
  };
  const entry = inference.registry.get('faceres');
  const fm = entry.outputs.find((o) => o.name === 'feature_map')!.shape;
  const shape = { z: Number(fm[1]), h: Number(fm[2]), w: Number(fm[3]) };
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  /** 000 section 5: overlap of active regions between P_ind and P_arb maps, and consistency within P_ind. */
  const measure = (indMaps: Float32Array[], arbMaps: Float32Array[]): { overlap: number; consistency: number } => {
    const ai = indMaps.map((m) => activeRegion(m));
    const aa = arbMaps.map((m) => activeRegion(m));
    const overlap = mean(ai.flatMap((x) => aa.map((y) => iou(x, y))));
    const consistency = mean(ai.flatMap((x, i) => ai.slice(i + 1).map((y) => iou(x, y))));
    return { overlap, consistency };
  };
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
    // CAM vs PCAM on the same sets (the person's portraits in catalog order, as characterization used them).
    const mine = [...c.portraits.map((p) => p.sha256)].sort();
    const { maps } = await featureMaps(catalog, inference, entry, [...mine, ...c.arbitrary]);
    const ind: FeatureMap[] = maps.slice(0, mine.length);
    const arb: FeatureMap[] = maps.slice(mine.length);
    const { model } = trainPcam(ind, arb, shape, { seed: c.seed });
    const w = trainCam(ind, arb, shape);
    // Each portrait's map for its own class (Fig. 3 of 000): the person's class on P_ind, the other on P_arb.
    // The binary CAM layer's weights are the difference of the two softmax rows, so the other class is its negative.
    const negW = w.map((v) => -v);
    const camM = measure(ind.map((f) => camMap(w, f, shape)), arb.map((f) => camMap(negW, f, shape)));
    const pcamM = measure(ind.map((f) => pcamMap(model, f, 0)), arb.map((f) => pcamMap(model, f, 1)));
    measures.cam.overlap.push(camM.overlap);
    measures.cam.consistency.push(camM.consistency);
    measures.pcam.overlap.push(pcamM.overlap);
    measures.pcam.consistency.push(pcamM.consistency);
    // The other reading of 000's Fig. 3: the person's class map on both sets (is what is active on
    // the person's portraits also active on others'?). CAM's is mostly negative on others' portraits,
    // so their active regions are empty and this overlap near 0 says little about CAM.
    measures.cam.sameClass.push(measure(ind.map((f) => camMap(w, f, shape)), arb.map((f) => camMap(w, f, shape))).overlap);
    measures.pcam.sameClass.push(measure(ind.map((f) => pcamMap(model, f, 0)), arb.map((f) => pcamMap(model, f, 0))).overlap);
    const most = others(c.mostRepresentative);
    const least = others(c.leastRepresentative);
    gaps.push(most - least);
    rows.push(`${s.name.padEnd(24)} ${String(c.portraits.length).padStart(3)}  most ${most.toFixed(3)}  least ${least.toFixed(3)}  gap ${(most - least).toFixed(3)}  top parts ${c.parts.slice(0, 3).map((p) => p.part).join(', ')}`);
  }
  console.log(`${chosen.length} LFW identities with >= ${minPortraits} analysed portraits (up to 30 used, 40 others), faceres feature maps 1024x7x7`);
  for (const r of rows) console.log(r);
  console.log('active regions (cells >= 50 % of the map maximum), mean IoU over identities:');
  for (const [name, m] of [['CAM ', measures.cam], ['PCAM', measures.pcam]] as const) {
    console.log(`  ${name}: overlap P_ind vs P_arb (each its own class) ${mean(m.overlap).toFixed(3)}, (the person's class on both) ${mean(m.sameClass).toFixed(3)}; consistency within P_ind ${mean(m.consistency).toFixed(3)}`);
  }
  console.log(`mean cosine gap (most - least representative, to the person's other portraits): ${mean(gaps).toFixed(3)}; positive for ${gaps.filter((g) => g > 0).length}/${gaps.length}; ${(seconds / chosen.length).toFixed(1)} s per characterization`);
  await inference.close();
  catalog.close();
}

void main();
