/**
 * A face aligned for one recognizer: its crop in the model's input range, the source -> crop
 * transform (to map maps back onto the photo), and its dense landmarks in crop pixels (for the
 * facial-part masks). Taken from the catalog's stored analysis when there is one, otherwise the
 * image is analysed in memory.
 */
import type { Catalog } from '../catalog/catalog';
import type { ModelEntry } from '../models/manifest';
import type { InferenceService } from '../models/inference';
import { applySimilarity, warpSimilarity, type Point, type Similarity } from '../vision/align';
import type { Detection } from '../vision/detect';
import { decodeRgb, type RgbImage } from '../vision/image';
import { analyzeFaces, recognizerAlignment, toModelRange } from '../vision/pipeline';
import { readImageInput, type FaceChoice } from './face-source';

export interface AlignedFace {
  sha256: string;
  /** Face number in the photo (0 = largest) and how many were found. */
  face: number;
  facesFound: number;
  image: RgbImage;
  /** Source pixels -> crop pixels. */
  toCrop: Similarity;
  /** The crop, NHWC, in the recognizer's input range. */
  crop: Float32Array;
  /** The crop in 0..255 (for part swaps and display). */
  crop255: Float32Array;
  /** FaceMesh's 468 points in crop pixels. */
  mesh: Point[];
  box: { x: number; y: number; width: number; height: number };
}

interface Candidate {
  idx: number;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  five: Point[];
  mesh: Point[];
}

function pick(faces: Candidate[], choice: FaceChoice, img: RgbImage, primary: number): Candidate {
  if (!faces.length) throw new Error('no face found in the image');
  if (typeof choice === 'number') {
    const f = faces.find((c) => c.idx === choice);
    if (!f) throw new Error(`there is no face ${choice}: ${faces.length} face${faces.length === 1 ? '' : 's'} found (numbered from 0, largest first)`);
    return f;
  }
  if (choice === 'centre') {
    const d = (c: Candidate): number => Math.hypot(c.box.x + c.box.width / 2 - img.width / 2, c.box.y + c.box.height / 2 - img.height / 2);
    return [...faces].sort((p, q) => d(p) - d(q))[0]!;
  }
  return faces.find((c) => c.idx === primary) ?? faces[0]!;
}

function storedCandidates(catalog: Catalog, sha256: string): { faces: Candidate[]; primary: number } | undefined {
  const portrait = catalog.db.prepare('SELECT state, primary_idx FROM portraits WHERE sha256 = ?').get(sha256) as { state: string; primary_idx: number | null } | undefined;
  if (portrait?.state !== 'analyzed') return undefined;
  const rows = catalog.db.prepare('SELECT idx, x, y, width, height, score, five, mesh FROM faces WHERE portrait = ? ORDER BY idx').all(sha256) as {
    idx: number;
    x: number;
    y: number;
    width: number;
    height: number;
    score: number;
    five: string;
    mesh: Buffer;
  }[];
  const faces = rows.map((r) => {
    const flat = new Float32Array(r.mesh.buffer.slice(r.mesh.byteOffset, r.mesh.byteOffset + r.mesh.byteLength));
    const mesh: Point[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) mesh.push([flat[i]!, flat[i + 1]!]);
    return { idx: r.idx, box: { x: r.x, y: r.y, width: r.width, height: r.height }, score: r.score, five: JSON.parse(r.five) as Point[], mesh };
  });
  return { faces, primary: portrait.primary_idx ?? 0 };
}

export async function alignedFace(
  input: { path: string } | { sha256: string },
  ctx: { catalog: Catalog; inference: InferenceService },
  entry: ModelEntry,
  choice: FaceChoice,
): Promise<AlignedFace> {
  const { data, sha256 } = await readImageInput(ctx.catalog, input);
  const image = await decodeRgb(data);
  let found = storedCandidates(ctx.catalog, sha256);
  if (!found) {
    const analysed = await analyzeFaces(image, ctx.inference, { recognizers: [] });
    found = {
      primary: 0,
      faces: analysed.map((f, idx) => ({
        idx,
        box: { x: f.detection.x, y: f.detection.y, width: f.detection.width, height: f.detection.height },
        score: f.detection.score,
        five: f.landmarks.five,
        mesh: f.landmarks.mesh.map(([x, y]) => [x, y] as Point),
      })),
    };
  }
  const chosen = pick(found.faces, choice, image, found.primary);
  const det = { ...chosen.box, score: chosen.score, keypoints: chosen.five } as unknown as Detection;
  const { transform } = recognizerAlignment(entry, det, chosen.five);
  const crop255 = warpSimilarity(image, transform, entry.input.width, entry.input.height);
  return {
    sha256,
    face: chosen.idx,
    facesFound: found.faces.length,
    image,
    toCrop: transform,
    crop255,
    crop: toModelRange(crop255, entry.input.range),
    mesh: chosen.mesh.map((p) => applySimilarity(transform, p)),
    box: chosen.box,
  };
}
