/**
 * `subjects.maps`: CAM and PCAM of one portrait under a subject's stored characterization (paper
 * 000, Fig. 3: CAM spreads over the whole face, PCAM polarizes towards what sets the person apart),
 * with the hair mask, in the aligned crop's frame plus the crop -> photo transform, as `diff.pair`.
 */
import type { ParsedReq, Res } from '../../../shared/contract';
import type { Catalog } from '../catalog/catalog';
import { EngineError } from '../errors';
import type { InferenceService } from '../models/inference';
import { invertSimilarity } from '../vision/align';
import { hairMask } from '../vision/hair';
import { alignedFace } from './aligned-face';
import { camMap, pcamMap, type MapShape, type PcamModel } from './pcam';

/** Hair is returned at a quarter of the crop's side: enough to outline it, a sixteenth of the bytes. */
const HAIR_STEP = 4;

interface StoredCharacterization {
  id: number;
  createdAt: string;
  result: {
    subject: string;
    portraits: { sha256: string; representativeness: number }[];
    arbitrary: string[];
    mostRepresentative: string;
    leastRepresentative: string;
    metric: { shape: MapShape; b: number; rho: number };
    cam?: number[];
  };
  model: PcamModel;
}

function loadCharacterization(catalog: Catalog, subject: string, modelSha256: string): StoredCharacterization | undefined {
  const row = catalog.db
    .prepare(
      "SELECT id, result, payload, created_at FROM analyses WHERE kind = 'characterization' AND json_extract(inputs, '$.subject') = ? AND instr(models, ?) > 0 ORDER BY id DESC LIMIT 1",
    )
    .get(subject, modelSha256) as { id: number; result: string; payload: Buffer | null; created_at: string } | undefined;
  if (!row?.payload) return undefined;
  const result = JSON.parse(row.result) as StoredCharacterization['result'];
  const m = new Float32Array(row.payload.buffer.slice(row.payload.byteOffset, row.payload.byteOffset + row.payload.byteLength));
  return { id: row.id, createdAt: row.created_at, result, model: { shape: result.metric.shape, m, b: result.metric.b, rho: result.metric.rho } };
}

/** A map's positive part as shares of its mass (sums to 1; all zeros when nothing is positive). */
export function positiveShares(map: Float32Array): number[] {
  let total = 0;
  for (const v of map) if (v > 0) total += v;
  return Array.from(map, (v) => (v > 0 && total > 0 ? v / total : 0));
}

export async function characterizationMaps(
  catalog: Catalog,
  inference: InferenceService,
  r: ParsedReq<'subjects.maps'>,
): Promise<Res<'subjects.maps'>> {
  const entry = inference.registry.get(r.recognizer);
  if (entry.task !== 'recognizer') throw new EngineError('invalid_request', `${entry.id} is a ${entry.task}, not a recognizer`);
  if (!catalog.getOriginal(r.sha256)) throw new EngineError('not_found', `no original ${r.sha256.slice(0, 12)}… in this catalog`);
  const stored = loadCharacterization(catalog, r.subject, entry.sha256);
  if (!stored) throw new EngineError('not_found', `"${r.subject}" has no characterization with this ${entry.id} file; characterize the subject first`);
  if (!stored.result.cam) throw new EngineError('not_found', `"${r.subject}" was characterized before CAM was kept with the result; characterize the subject again`);
  const { shape } = stored.model;
  let face;
  try {
    face = await alignedFace({ sha256: r.sha256 }, { catalog, inference }, entry, 'primary');
  } catch (e) {
    throw new EngineError('invalid_request', `portrait: ${(e as Error).message}`);
  }
  const features = (await inference.run(entry.id, face.crop))['feature_map']!.data;
  if (features.length !== shape.z * shape.w * shape.h) throw new EngineError('internal', `${entry.id}'s feature map does not match the stored characterization's shape`);
  const pcam = pcamMap(stored.model, features, 0);
  const cam = camMap(Float32Array.from(stored.result.cam), features, shape);

  const crop = entry.input.width;
  const hair = await hairMask(face.crop255, crop, face.mesh, inference);
  const side = Math.ceil(crop / HAIR_STEP);
  const coarse = new Array<number>(side * side).fill(0);
  for (let y = 0; y < crop; y++) {
    for (let x = 0; x < crop; x++) {
      const c = Math.floor(y / HAIR_STEP) * side + Math.floor(x / HAIR_STEP);
      coarse[c] = coarse[c]! + hair[y * crop + x]! / (HAIR_STEP * HAIR_STEP);
    }
  }

  const res = stored.result;
  const mine = res.portraits.find((p) => p.sha256 === r.sha256);
  const role = r.sha256 === res.mostRepresentative ? 'most' : r.sha256 === res.leastRepresentative ? 'least' : mine ? 'portrait' : res.arbitrary.includes(r.sha256) ? 'arbitrary' : 'other';
  return {
    subject: r.subject,
    sha256: r.sha256,
    face: face.face,
    recognizer: entry.id,
    modelSha256: entry.sha256,
    characterizedAt: stored.createdAt,
    role,
    representativeness: mine?.representativeness ?? null,
    grid: { width: shape.w, height: shape.h },
    crop: { width: crop, height: entry.input.height },
    cropToPhoto: invertSimilarity(face.toCrop),
    cam: positiveShares(cam),
    pcam: positiveShares(pcam),
    hair: { width: side, height: side, coverage: coarse.map((v) => Math.round(v * 1000) / 1000) },
  };
}
