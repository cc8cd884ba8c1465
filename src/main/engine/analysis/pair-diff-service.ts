/**
 * Pair-difference analysis of two faces for one recognizer: aligned crops -> occlusion map
 * (pair-diff.ts) -> Theta normalization (calibrated, with provenance, per recognizer and grid) ->
 * facial-part ranking. What the UI, the CLI (`facet diff`) and the benchmarks call.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { InferenceService } from '../models/inference';
import type { ModelEntry } from '../models/manifest';
import { partMasks, PART_NAMES, type PartName } from '../vision/parts';
import type { AlignedFace } from './aligned-face';
import { maxDelta, pairDifference, regionEffects, thetaNormalize, type Embedder, type OcclusionMode, type OcclusionSample, type PairDiffMap, type PairDiffOptions } from './pair-diff';

export interface DiffSettings {
  recognizer: string;
  patch: number;
  stride: number;
  mode: OcclusionMode;
  /** Coarse-to-fine acceleration (interactive default); off in dense mode. */
  refine: { patch: number; stride: number; keep: number } | null;
}

/** Interactive default: under a second per pair on 2 CPU cores (see bench/pair-diff.ts). */
export const INTERACTIVE: DiffSettings = { recognizer: 'mobileface', patch: 16, stride: 8, mode: 'pair', refine: { patch: 32, stride: 16, keep: 0.3 } };
/** Dense, as in the paper: every other pixel, every patch computed. */
export const DENSE: DiffSettings = { recognizer: 'mobileface', patch: 16, stride: 2, mode: 'pair', refine: null };
/** The dense grid computed only where the interactive grid finds differences. */
export const DENSE_FAST: DiffSettings = { recognizer: 'mobileface', patch: 16, stride: 2, mode: 'pair', refine: { patch: 16, stride: 8, keep: 0.3 } };

export const ThetaEntry = z.object({
  recognizer: z.string(),
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
  patch: z.number().int(),
  stride: z.number().int(),
  mode: z.enum(['pair', 'a', 'b']),
  refined: z.boolean(),
  theta: z.number().positive(),
  /** How well max(Delta) separates different-people pairs from same-person pairs (paper 003 Fig. 3b). */
  auc: z.number(),
  /** Share of negatives above Theta and positives below it (Theta's accuracy as a separator). */
  separation: z.number(),
  negatives: z.number().int(),
  positives: z.number().int(),
  pairList: z.string(),
  pairListSha256: z.string(),
  measuredAt: z.string(),
});
export type ThetaEntry = z.infer<typeof ThetaEntry>;

export const ThetaFile = z.object({
  schema: z.literal(1),
  /** Occluder: mean colour (0..255 RGB) of aligned faces in the reference set. */
  fill: z.record(z.string(), z.tuple([z.number(), z.number(), z.number()])),
  thetas: z.array(ThetaEntry),
});
export type ThetaFile = z.infer<typeof ThetaFile>;

export function loadThetas(modelsDir: string): ThetaFile {
  const file = path.join(modelsDir, 'theta.json');
  if (!existsSync(file)) return { schema: 1, fill: {}, thetas: [] };
  const parsed = ThetaFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`The Theta file ${file} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/** Mid grey when the reference set's mean colour was never measured for this recognizer. */
export function fillFor(thetas: ThetaFile, recognizer: string): [number, number, number] {
  return thetas.fill[recognizer] ?? [128, 128, 128];
}

export function thetaFor(thetas: ThetaFile, entry: ModelEntry, s: DiffSettings): ThetaEntry | undefined {
  return thetas.thetas.find(
    (t) => t.recognizer === entry.id && t.modelSha256 === entry.sha256 && t.patch === s.patch && t.stride === s.stride && t.mode === s.mode && t.refined === (s.refine !== null),
  );
}

export function inferenceEmbedder(inference: InferenceService, entry: ModelEntry): Embedder {
  const output = entry.outputs.find((o) => o.name === 'embedding')?.name ?? entry.outputs[0]!.name;
  const dim = entry.embeddingDim ?? 0;
  return async (images, n) => {
    const out = await inference.runBatch(entry.id, images, n);
    const flat = out[output]!.data;
    const per = dim || flat.length / n;
    return Array.from({ length: n }, (_, i) => flat.slice(i * per, (i + 1) * per));
  };
}

/** Scales 0..255 values into the model's input range (the occluder is given in 0..255). */
export function toRange(rgb: readonly [number, number, number], range: [number, number]): number[] {
  return rgb.map((v) => range[0] + (v * (range[1] - range[0])) / 255);
}

export async function occlusionMap(a: AlignedFace, b: AlignedFace, entry: ModelEntry, inference: InferenceService, s: DiffSettings, fill255: [number, number, number]): Promise<PairDiffMap> {
  const options: PairDiffOptions = { patch: s.patch, stride: s.stride, mode: s.mode, fill: toRange(fill255, entry.input.range), batch: 32, ...(s.refine ? { refine: s.refine } : {}) };
  return pairDifference(a.crop, b.crop, entry.input.width, entry.input.height, inferenceEmbedder(inference, entry), options);
}

export interface PartScore {
  part: PartName;
  /**
   * The part's total effect on the distance: its effect per pixel, from the occlusions themselves
   * (regionEffects: non-negative least squares that undoes the patch blur), times its area. What
   * the ranking uses (chosen on part swaps of LFW DevTrain pairs; see bench/part-swap.ts).
   */
  total: number;
  /** Effect per pixel. */
  effect: number;
  /** Mean positive Delta of the map inside the part. */
  density: number;
  /** Share of the map's positive mass inside the part. */
  share: number;
  rank: number;
}

/**
 * Ranks facial parts by how much difference the map puts inside them. The masks of both faces
 * are averaged: the map is shared by the aligned pair, whose landmarks differ slightly.
 */
export function rankParts(delta: Float32Array, width: number, height: number, meshes: [number, number][][], samples: OcclusionSample[]): PartScore[] {
  const masks = meshes.map((m) => partMasks(m, width, height));
  const averaged = PART_NAMES.map((_, k) => {
    const out = new Float32Array(width * height);
    for (const m of masks) for (let i = 0; i < out.length; i++) out[i] = out[i]! + m[k]!.mask[i]! / masks.length;
    return out;
  });
  const effects = regionEffects(samples, averaged, width);
  let total = 0;
  for (const d of delta) if (d > 0) total += d;
  const scores = PART_NAMES.map((part, k) => {
    let mass = 0;
    let area = 0;
    for (let i = 0; i < delta.length; i++) {
      let w = 0;
      for (const m of masks) w += m[k]!.mask[i]!;
      w /= masks.length;
      if (!w) continue;
      area += w;
      if (delta[i]! > 0) mass += w * delta[i]!;
    }
    return { part, total: effects[k]! * area, effect: effects[k]!, density: area ? mass / area : 0, share: total ? mass / total : 0, rank: 0 };
  });
  scores.sort((x, y) => y.total - x.total || y.density - x.density);
  scores.forEach((s, i) => (s.rank = i + 1));
  return scores;
}

export interface PairDiffResult {
  recognizer: string;
  modelSha256: string;
  settings: DiffSettings;
  width: number;
  height: number;
  distance: number;
  forwardPasses: number;
  /** Signed, unnormalized d1 - d2 per crop pixel. */
  delta: Float32Array;
  /** max(0, min(1, delta / theta)); with no calibrated Theta, delta / its own maximum (and `theta` is null). */
  normalized: Float32Array;
  theta: ThetaEntry | null;
  maxDelta: number;
  parts: PartScore[];
  /** The occlusions behind the map (kept with the cached result, for the part effects). */
  samples: OcclusionSample[];
  millis: number;
}

export async function diffFaces(a: AlignedFace, b: AlignedFace, entry: ModelEntry, inference: InferenceService, s: DiffSettings, thetas: ThetaFile): Promise<PairDiffResult> {
  const t0 = performance.now();
  const map = await occlusionMap(a, b, entry, inference, s, fillFor(thetas, entry.id));
  const theta = thetaFor(thetas, entry, s) ?? null;
  const peak = maxDelta(map.delta);
  const normalized = thetaNormalize(map.delta, theta?.theta ?? (peak > 0 ? peak : 1));
  return {
    recognizer: entry.id,
    modelSha256: entry.sha256,
    settings: s,
    width: map.width,
    height: map.height,
    distance: map.distance,
    forwardPasses: map.forwardPasses,
    delta: map.delta,
    normalized,
    theta,
    maxDelta: peak,
    parts: rankParts(map.delta, map.width, map.height, [a.mesh, b.mesh], map.samples),
    samples: map.samples,
    millis: performance.now() - t0,
  };
}
