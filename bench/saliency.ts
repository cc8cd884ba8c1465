/**
 * Saliency methods on real LFW faces (papers 001, 002):
 *  - time per map, per method, per recognizer (CPU unless FACET_PROVIDER says otherwise);
 *  - the part-swap ground truth of the pair-difference benchmark (bench/part-swap.ts): A' is A
 *    with one part of B's face. Two formulations: contrast (A' with target B against A; the
 *    non-contrastive methods as ReLU(M(B) - M(A)), paper 002 Eq. 1's form) and pair (A' with
 *    target A plus A with target A', as occlusion of both faces does). Facial parts are ranked by
 *    map density (share of mass over share of area) and by mass; top-1 = the swapped part ranks
 *    first. Occlusion's figure for the same pairs comes from bench/part-swap.ts.
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
import { fillFor, loadThetas, toRange } from '../src/main/engine/analysis/pair-diff-service';
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
  const reference = toRange(fillFor(loadThetas(MODELS), model), entry.input.range);
  if (used.length < methods.length) console.log('tcebp skipped: no epsilon for this model (run tools/calibrate-saliency.ts)');

  const times: Record<string, number[]> = {};
  const hits: Record<string, { n: number; top1: number; top2: number; top1Mass: number }> = {};
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
      const eSwapped = (await rt.forward(model, swapped, 1)).embedding.data;
      const target = { kind: 'pair' as const, label: 'donor', vector: eb };
      const contrast = { kind: 'pair' as const, label: 'base', vector: ea };
      const common = { model, reference, ...(epsilon !== undefined ? { epsilon } : {}) };
      const score = (key: string, map: Float32Array, millis: number): void => {
        (times[key] ??= []).push(millis);
        // Two rankings: by density (mass over area: small parts are not penalized) and by mass
        // (like occlusion's total effect in bench/part-swap.ts).
        const scored = masks.map((m) => ({ part: m.name, mass: massInside(map, m.mask), density: m.area > 0 ? massInside(map, m.mask) / (m.area / (width * height)) : 0 }));
        const rankBy = (k: 'mass' | 'density'): number => [...scored].sort((x, y) => y[k] - x[k]).findIndex((r) => r.part === part) + 1;
        const h = (hits[key] ??= { n: 0, top1: 0, top2: 0, top1Mass: 0 });
        h.n++;
        if (rankBy('density') === 1) h.top1++;
        if (rankBy('density') <= 2) h.top2++;
        if (rankBy('mass') === 1) h.top1Mass++;
      };
      for (const method of used) {
        const e = EXPLAINERS.find((x) => x.id === method)!;
        // Contrast: what makes A' look like the donor B rather than the base A (paper 002 Eq. 1's
        // question); the contrastive methods answer it natively, the others as ReLU(M(B) - M(A)).
        if (e.contrastive) {
          const r = await explain(rt, method, { ...common, crop: swapped, target, contrast });
          score(method, r.map, r.millis);
        } else {
          const y = await explain(rt, method, { ...common, crop: swapped, target, contrast });
          const z = await explain(rt, method, { ...common, crop: swapped, target: contrast, contrast: target });
          score(method, method === 'random' ? y.map : postprocess({ width, height, data: unitMass(Float32Array.from(y.raw, (v, k) => v - z.raw[k]!)) }).data, y.millis + z.millis);
        }
        // Pair (paper 003's question, where do A and A' differ for the network): each face
        // explained with the other as its target, the two maps added, as occlusion of both does.
        if (!e.contrastive) {
          const x = await explain(rt, method, { ...common, crop: swapped, target: contrast });
          const w = await explain(rt, method, { ...common, crop: a.crop, target: { kind: 'pair', label: "A'", vector: eSwapped } });
          score(`${method}, pair`, postprocess({ width, height, data: Float32Array.from(x.raw, (v, k) => v + w.raw[k]!) }).data, x.millis + w.millis);
        }
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`saliency on ${model} (${provider}), ${width}x${height} crops; part swaps of ${pairs.length} LFW DevTest different-people pairs x ${SWAPPABLE.length} parts (${seconds.toFixed(0)} s)`);
  console.log('method (formulation)          ms/swap (median)   swaps   top-1     top-2   top-1 by mass');
  for (const method of used.flatMap((m) => (EXPLAINERS.find((x) => x.id === m)!.contrastive ? [m] : [m, `${m}, pair`]))) {
    const ts = (times[method] ?? []).slice().sort((x, y) => x - y);
    const med = ts[Math.floor(ts.length / 2)] ?? NaN;
    const h = hits[method] ?? { n: 0, top1: 0, top2: 0, top1Mass: 0 };
    const pct = (x: number): string => `${((100 * x) / Math.max(1, h.n)).toFixed(1)} %`.padStart(8);
    console.log(`${method.padEnd(30)}${med.toFixed(1).padStart(10)}        ${String(h.n).padStart(5)}  ${pct(h.top1)}  ${pct(h.top2)}  ${pct(h.top1Mass)}`);
  }
  console.log('(chance: top-1 1/8 = 12.5 %; occlusion (paper 003) on the same swaps: `npx tsx bench/part-swap.ts`)');
  await rt.close();
  await inference.close();
  catalog.close();
  rmSync(work, { recursive: true, force: true });
}

void main();
