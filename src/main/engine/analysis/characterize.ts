/**
 * Characterizing one person of the catalog (paper 000): PCAM trained on the person's portraits
 * (P_ind) against portraits of other subjects (P_arb), then the most and least representative
 * portraits, and the facial parts that make the person distinctive: PCAM mass of the individual's
 * class inside each part on the representative portrait, against the same on the arbitrary set.
 */
import type { Catalog } from '../catalog/catalog';
import type { InferenceService } from '../models/inference';
import type { ModelEntry } from '../models/manifest';
import { earMasks } from '../vision/ears';
import { hairMask, personMask } from '../vision/hair';
import { partMasks, PART_NAMES, type PartName } from '../vision/parts';
import { alignedFace, type AlignedFace } from './aligned-face';
import { chooseProvider } from '../models/providers';
import { embed2, pcamMap, representativeness, seededRandom, trainCam, trainPcam, trainPcamOnRuntime, type FeatureMap, type MapShape, type PcamModel } from './pcam';

export interface CharacterizeOptions {
  recognizer?: string;
  /** Portraits of other subjects in P_arb. */
  arbitrary?: number;
  /** Most portraits of the person used. */
  maxPortraits?: number;
  seed?: number;
  epochs?: number;
  /** Where the metric is learned: TypeScript, or an ONNX graph on the best execution provider (GPU where present). */
  trainer?: 'typescript' | 'runtime';
  onProgress?: (done: number, total: number, message: string) => void;
  /** After every training epoch: the hinge loss of each epoch so far. */
  onLoss?: (losses: number[], epochs: number) => void;
  signal?: AbortSignal;
}

export interface Characterization {
  subject: string;
  recognizer: string;
  modelSha256: string;
  seed: number;
  portraits: { sha256: string; representativeness: number }[];
  arbitrary: string[];
  mostRepresentative: string;
  leastRepresentative: string;
  /** Parts, most characteristic first: PCAM mass share on the representative portrait minus the arbitrary set's. */
  parts: { part: PartName | 'hair' | 'ears'; score: number; individual: number; arbitrary: number; rank: number }[];
  losses: number[];
  /** The learned metric (kept with the cached result, for the characterization-weighted look-alikes). */
  model: PcamModel;
  /** The mean of the person's portraits under the metric (M f, Eq. 3): where the weighted look-alikes measure from. */
  centre: [number, number];
  /** CAM's class layer on the same sets (per-channel weights), kept to show CAM beside PCAM. */
  cam: Float32Array;
}

/** Part masks pooled onto the feature grid: the share of each cell that a part covers. */
function cellMasks(face: AlignedFace, hair: Float32Array, ears: Float32Array, crop: number, shape: MapShape): Float32Array[] {
  const masks = [...partMasks(face.mesh, crop, crop), { mask: hair }, { mask: ears }];
  const cell = crop / shape.w;
  return masks.map((m) => {
    const out = new Float32Array(shape.w * shape.h);
    for (let y = 0; y < crop; y++) {
      for (let x = 0; x < crop; x++) {
        const c = Math.min(shape.h - 1, Math.floor(y / cell)) * shape.w + Math.min(shape.w - 1, Math.floor(x / cell));
        out[c] = out[c]! + m.mask[y * crop + x]! / (cell * cell);
      }
    }
    return out;
  });
}

/** Share of a map's positive mass inside each part. */
function partShares(map: Float32Array, masks: Float32Array[]): number[] {
  let total = 0;
  for (const v of map) if (v > 0) total += v;
  return masks.map((m) => {
    let s = 0;
    for (let i = 0; i < map.length; i++) if (map[i]! > 0) s += m[i]! * map[i]!;
    return total ? s / total : 0;
  });
}

/** Aligned faces and the recognizer's last feature maps for catalogued portraits (primary faces). */
export async function featureMaps(
  catalog: Catalog,
  inference: InferenceService,
  entry: ModelEntry,
  shas: string[],
  options: Pick<CharacterizeOptions, 'signal' | 'onProgress'> = {},
): Promise<{ faces: AlignedFace[]; maps: FeatureMap[] }> {
  const faces: AlignedFace[] = [];
  const maps: FeatureMap[] = [];
  for (const [i, sha] of shas.entries()) {
    if (options.signal?.aborted) throw new Error('cancelled');
    options.onProgress?.(i, shas.length + 1, `features ${i + 1}/${shas.length}`);
    const { face, map } = await featureMap(catalog, inference, entry, sha, 'primary');
    faces.push(face);
    maps.push(map);
  }
  return { faces, maps };
}

/** One catalogued face, aligned, and the recognizer's last feature map of it. */
export async function featureMap(catalog: Catalog, inference: InferenceService, entry: ModelEntry, sha256: string, face: number | 'primary'): Promise<{ face: AlignedFace; map: FeatureMap }> {
  const aligned = await alignedFace({ sha256 }, { catalog, inference }, entry, face);
  return { face: aligned, map: (await inference.run(entry.id, aligned.crop))['feature_map']!.data };
}

export async function characterizeSubject(catalog: Catalog, inference: InferenceService, subject: string, options: CharacterizeOptions = {}): Promise<Characterization> {
  const recognizer = options.recognizer ?? 'faceres';
  const entry = inference.registry.get(recognizer);
  const fmOut = entry.outputs.find((o) => o.name === 'feature_map');
  if (!fmOut || fmOut.shape.length !== 4) throw new Error(`${recognizer} exposes no feature map to characterize with`);
  const shape: MapShape = { z: Number(fmOut.shape[1]), h: Number(fmOut.shape[2]), w: Number(fmOut.shape[3]) };
  const seed = options.seed ?? 1;
  const row = catalog.db.prepare('SELECT id FROM subjects WHERE name = ?').get(subject) as { id: number } | undefined;
  if (!row) throw new Error(`no subject named "${subject}" in this catalog`);
  const mine = (catalog.db.prepare("SELECT sha256 FROM portraits WHERE subject_id = ? AND state = 'analyzed' ORDER BY sha256").all(row.id) as { sha256: string }[])
    .map((r) => r.sha256)
    .slice(0, options.maxPortraits ?? 40);
  if (mine.length < 3) throw new Error(`"${subject}" has ${mine.length} analysed portraits; characterization needs at least 3`);
  // Arbitrary others: one portrait per other subject, drawn with the seed (reproducible).
  const others = catalog.db
    .prepare("SELECT min(p.sha256) AS sha256 FROM portraits p WHERE p.subject_id IS NOT NULL AND p.subject_id != ? AND p.state = 'analyzed' GROUP BY p.subject_id ORDER BY p.subject_id")
    .all(row.id) as { sha256: string }[];
  const rand = seededRandom(seed);
  const shuffled = others.map((o) => ({ o, k: rand() })).sort((a, b) => a.k - b.k).map((x) => x.o.sha256);
  const arb = shuffled.slice(0, options.arbitrary ?? 40);
  if (arb.length < 3) throw new Error('characterization needs portraits of at least 3 other subjects in the catalog');

  const all = [...mine, ...arb];
  const { faces, maps } = await featureMaps(catalog, inference, entry, all, options);
  const ind = maps.slice(0, mine.length);
  const arbMaps = maps.slice(mine.length);
  options.onProgress?.(all.length, all.length + 1, 'learning the metric');
  const epochs = options.epochs ?? 300;
  const curve: number[] = [];
  const trainOptions = {
    seed,
    epochs,
    onEpoch: (_epoch: number, loss: number) => {
      curve.push(loss);
      options.onLoss?.(curve, epochs);
      return !options.signal?.aborted;
    },
  };
  const { model, losses } =
    options.trainer === 'runtime'
      ? await trainPcamOnRuntime(ind, arbMaps, shape, { ...trainOptions, provider: (await chooseProvider('auto')).provider })
      : trainPcam(ind, arbMaps, shape, trainOptions);
  const rep = representativeness(model, ind, arbMaps);
  const centre = metricCentre(model, ind);
  const order = rep.map((r, i) => ({ r, i })).sort((a, b) => b.r - a.r);
  const best = order[0]!.i;
  const crop = entry.input.width;
  let earsSeen = false;
  const masksOf = async (face: AlignedFace, own = false): Promise<Float32Array[]> => {
    const person = await personMask(face.crop255, crop, inference);
    // Ears where visible in the crop (recognizer crops are tight: often they are not).
    const ears = new Float32Array(crop * crop);
    for (const ear of earMasks(face.crop255, crop, face.mesh, person)) {
      if (!ear.visible) continue;
      if (own) earsSeen = true;
      for (let i = 0; i < ears.length; i++) ears[i] = Math.max(ears[i]!, ear.mask[i]!);
    }
    return cellMasks(face, await hairMask(face.crop255, crop, face.mesh, inference, person), ears, crop, shape);
  };
  // The individual's class (0) on the representative portrait against the arbitrary portraits.
  const indShares = partShares(pcamMap(model, ind[best]!, 0), await masksOf(faces[best]!, true));
  const names = [...PART_NAMES, 'hair' as const, 'ears' as const];
  const arbShares = names.map(() => 0);
  for (const [k, f] of arbMaps.entries()) {
    const shares = partShares(pcamMap(model, f, 0), await masksOf(faces[mine.length + k]!));
    shares.forEach((s, p) => (arbShares[p] = arbShares[p]! + s / arbMaps.length));
  }
  const parts = names
    .map((part, p) => ({ part, score: indShares[p]! - arbShares[p]!, individual: indShares[p]!, arbitrary: arbShares[p]!, rank: 0 }))
    // Ears are ranked only where the representative portrait shows them.
    .filter((x) => x.part !== 'ears' || earsSeen)
    .sort((a, b) => b.score - a.score)
    .map((x, i) => ({ ...x, rank: i + 1 }));
  return {
    subject,
    recognizer,
    modelSha256: entry.sha256,
    seed,
    portraits: mine.map((sha, i) => ({ sha256: sha, representativeness: rep[i]! })).sort((a, b) => b.representativeness - a.representativeness),
    arbitrary: arb,
    mostRepresentative: mine[best]!,
    leastRepresentative: mine[order[order.length - 1]!.i]!,
    parts,
    losses,
    model,
    centre,
    cam: trainCam(ind, arbMaps, shape),
  };
}

/** The mean of feature maps under a characterization's metric (M f, Eq. 3). */
export function metricCentre(model: PcamModel, maps: FeatureMap[]): [number, number] {
  const points = maps.map((f) => embed2(model, f));
  return [points.reduce((s, p) => s + p[0], 0) / points.length, points.reduce((s, p) => s + p[1], 0) / points.length];
}

/**
 * Squared distance under a characterization's metric from the centre of the person's portraits to a
 * feature map: how much a face looks like the person by what characterizes them. Measured from the
 * centre, not from the query portrait: on LFW this ranks the person's held-out portraits far better
 * (bench/lookalikes.ts --weighted: mAP 0.985 vs 0.930 from the query, 0.938 by plain cosine).
 */
export function distanceToCentre(model: PcamModel, centre: [number, number], f: FeatureMap): number {
  const [x, y] = embed2(model, f);
  return (x - centre[0]) ** 2 + (y - centre[1]) ** 2;
}

/** A stored characterization's metric; `centre` is null where it was stored before centres were (recompute it from `portraits`). */
export interface StoredMetric {
  model: PcamModel;
  centre: [number, number] | null;
  portraits: string[];
}

export function storedMetric(catalog: Catalog, subject: string, modelSha256: string): StoredMetric | undefined {
  const row = catalog.db
    .prepare("SELECT inputs, result, payload FROM analyses WHERE kind = 'characterization' AND json_extract(inputs, '$.subject') = ? AND instr(models, ?) > 0 ORDER BY id DESC LIMIT 1")
    .get(subject, modelSha256) as { inputs: string; result: string; payload: Buffer | null } | undefined;
  if (!row?.payload) return undefined;
  const { shape, b, rho, centre } = (JSON.parse(row.result) as { metric: { shape: MapShape; b: number; rho: number; centre?: [number, number] } }).metric;
  const m = new Float32Array(row.payload.buffer.slice(row.payload.byteOffset, row.payload.byteOffset + row.payload.byteLength));
  return { model: { shape, m, b, rho }, centre: centre ?? null, portraits: (JSON.parse(row.inputs) as { portraits: string[] }).portraits };
}
