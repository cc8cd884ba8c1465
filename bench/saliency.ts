/**
 * Saliency methods on real LFW faces (papers 001, 002):
 *  - time per map, per method, per recognizer (CPU unless FACET_PROVIDER says otherwise);
 *  - the part-swap ground truth of the pair-difference benchmark (bench/part-swap.ts): A' is A
 *    with one part of B's face. Each method explains A' with target B and contrast A
 *    (contrastive methods natively; the others as ReLU(M(B) - M(A)), paper 002 Eq. 1's form), and
 *    the facial parts are ranked by map density (share of mass over share of area). Top-1 = the
 *    swapped part ranks first. Occlusion's figure for the same pairs comes from bench/part-swap.ts.
 * Run by hand: `npx tsx bench/saliency.ts [pairs = 20] [--recognizer mobileface] [--methods a,b]`
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedFace, type AlignedFace } from '../src/main/engine/analysis/aligned-face';
import { parsePairList } from '../src/main/engine/analysis/pairs';
import { Catalog } from '../src/main/engine/catalog/catalog';
import { InferenceService } from '../src/main/engine/models/inference';
import type { ProviderName } from '../src/main/engine/models/providers';
import { epsilonFor } from '../src/main/engine/saliency/handler';
import { EXPLAINERS, explain, type MethodId } from '../src/main/engine/saliency/index';
import { massInside, unitMass, postprocess } from '../src/main/engine/saliency/maps';
import { SaliencyRuntime } from '../src/main/engine/saliency/runtime';
import { toModelRange } from '../src/main/engine/vision/pipeline';
import { partMasks, PART_NAMES } from '../src/main/engine/vision/parts';
import { partSwap } from '../src/main/engine/vision/part-swap';
import { SHARED_DATA } from '../test/helpers/fixtures';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'resources/models');
/** As bench/part-swap.ts (importing it would run it): parts with a crisp counterpart in another face. */
const SWAPPABLE = ['eyebrows', 'eyes', 'nose', 'mouth', 'chin'] as const;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 20);
  const model = flag('--recognizer') ?? 'mobileface';
  const provider = (process.env['FACET_PROVIDER'] ?? 'cpu') as ProviderName;
  const methods = (flag('--methods')?.split(',') ?? EXPLAINERS.map((e) => e.id)) as MethodId[];
  const lfw = path.join(SHARED_DATA, 'lfw');
  const list = parsePairList(readFileSync(path.join(lfw, 'pairsDevTest.txt'), 'utf8'), { imagesDir: path.join(lfw, 'images'), baseDir: lfw });
  const negatives = list.pairs.filter((p) => !p.same);
  const pairs = Array.from({ length: Math.min(n, negatives.length) }, (_, i) => negatives[Math.floor((i * negatives.length) / n)]!);
  const work = mkdtempSync(path.join(os.tmpdir(), 'facet-bench-'));
  const catalog = Catalog.open(work);
  const inference = new InferenceService({ modelsDir: MODELS });
  const rt = new SaliencyRuntime(inference.registry, provider);
  const entry = rt.entry(model);
  const { width, height } = entry.input;
  const epsilon = epsilonFor(MODELS, entry);
  const used = methods.filter((m) => m !== 'tcebp' || epsilon !== undefined);
  if (used.length < methods.length) console.log('tcebp skipped: no epsilon for this model (run tools/calibrate-saliency.ts)');

  const times: Record<string, number[]> = {};
  const hits: Record<string, { n: number; top1: number; top2: number }> = {};
  const t0 = performance.now();
  for (const p of pairs) {
    let a: AlignedFace;
    let b: AlignedFace;
    try {
      a = await alignedFace({ path: p.a }, { catalog, inference }, entry, 'centre');
      b = await alignedFace({ path: p.b }, { catalog, inference }, entry, 'centre');
    } catch {
      continue;
    }
    const ea = (await rt.forward(model, a.crop, 1)).embedding.data;
    const eb = (await rt.forward(model, b.crop, 1)).embedding.data;
    const masks = partMasks(a.mesh, width, height);
    for (const part of SWAPPABLE) {
      const mask = masks[PART_NAMES.indexOf(part)]!.mask;
      const swapped = toModelRange(partSwap(a.crop255, b.crop255, width, height, mask, { inside: true }), entry.input.range);
      const target = { kind: 'pair' as const, label: 'donor', vector: eb };
      const contrast = { kind: 'pair' as const, label: 'base', vector: ea };
      for (const method of used) {
        const e = EXPLAINERS.find((x) => x.id === method)!;
        const input = { model, crop: swapped, target, contrast, ...(epsilon !== undefined ? { epsilon } : {}) };
        let map: Float32Array;
        if (e.contrastive) {
          const r = await explain(rt, method, input);
          (times[method] ??= []).push(r.millis);
          map = r.map;
        } else {
          const y = await explain(rt, method, input);
          const z = await explain(rt, method, { ...input, target: contrast });
          (times[method] ??= []).push(y.millis);
          map = method === 'random' ? y.map : postprocess({ width, height, data: unitMass(Float32Array.from(y.raw, (v, i) => v - z.raw[i]!)) }).data;
        }
        const ranking = masks.map((m) => ({ part: m.name, density: m.area > 0 ? massInside(map, m.mask) / (m.area / (width * height)) : 0 })).sort((x, y) => y.density - x.density);
        const rank = ranking.findIndex((r) => r.part === part) + 1;
        const h = (hits[method] ??= { n: 0, top1: 0, top2: 0 });
        h.n++;
        if (rank === 1) h.top1++;
        if (rank <= 2) h.top2++;
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`saliency on ${model} (${provider}), ${width}x${height} crops; part swaps of ${pairs.length} LFW DevTest different-people pairs x ${SWAPPABLE.length} parts (${seconds.toFixed(0)} s)`);
  console.log('method                  ms/map (median)   swaps   top-1     top-2');
  for (const method of used) {
    const ts = (times[method] ?? []).slice().sort((x, y) => x - y);
    const med = ts[Math.floor(ts.length / 2)] ?? NaN;
    const h = hits[method] ?? { n: 0, top1: 0, top2: 0 };
    const pct = (x: number): string => `${((100 * x) / Math.max(1, h.n)).toFixed(1)} %`.padStart(8);
    console.log(`${method.padEnd(24)}${med.toFixed(1).padStart(10)}        ${String(h.n).padStart(5)}  ${pct(h.top1)}  ${pct(h.top2)}`);
  }
  console.log('(chance: top-1 1/8 = 12.5 %; occlusion (paper 003) on the same swaps: `npx tsx bench/part-swap.ts`)');
  await rt.close();
  await inference.close();
  catalog.close();
  rmSync(work, { recursive: true, force: true });
}

void main();
