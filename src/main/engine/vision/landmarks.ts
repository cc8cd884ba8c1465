/**
 * Dense landmarks with FaceMesh (468 points) on a rotated square crop around a detection, and
 * the five alignment points (eye centres, nose tip, mouth corners) derived from them.
 */
import type { InferenceService } from '../models/inference';
import { applySimilarity, estimateSimilarity, invertSimilarity, warpSimilarity, type Point, type Similarity } from './align';
import type { Detection } from './detect';
import type { RgbImage } from './image';

export const MESH_SIZE = 192;
/** The crop around the detection box is this much larger than the box (FaceMesh expects margin). */
const CROP_ENLARGE = 1.6;

/**
 * FaceMesh indices (MediaPipe canonical mesh): outer and inner eye corners, nose tip, mouth
 * corners. "Right" is the subject's right, on the image's left in a frontal photo.
 */
export const MESH = {
  rightEyeOuter: 33,
  rightEyeInner: 133,
  leftEyeInner: 362,
  leftEyeOuter: 263,
  noseTip: 1,
  mouthRight: 61,
  mouthLeft: 291,
} as const;

export interface FaceLandmarks {
  /** 468 points in source pixels (x, y) with FaceMesh's relative depth z (crop pixels). */
  mesh: [number, number, number][];
  /** Eye centres (subject's right, left), nose tip, mouth corners (right, left), in source pixels. */
  five: Point[];
  /** FaceMesh's face-presence confidence for the crop, 0..1. */
  confidence: number;
}

/** Source -> crop transform: the detection box, enlarged, rotated upright by its eye line. */
export function meshCrop(det: Detection): Similarity {
  const [re, le] = det.keypoints as [Point, Point];
  const angle = Math.atan2(le[1] - re[1], le[0] - re[0]);
  const cx = det.x + det.width / 2;
  const cy = det.y + det.height / 2;
  const side = Math.max(det.width, det.height) * CROP_ENLARGE;
  const s = MESH_SIZE / side;
  // Rotate by -angle about the box centre, scale to the crop, centre it.
  const a = s * Math.cos(-angle);
  const b = s * Math.sin(-angle);
  return { a, b, tx: MESH_SIZE / 2 - (a * cx - b * cy), ty: MESH_SIZE / 2 - (b * cx + a * cy) };
}

export function fivePoints(mesh: [number, number, number][]): Point[] {
  const p = (i: number): Point => [(mesh[i] as number[])[0] as number, (mesh[i] as number[])[1] as number];
  const mid = (i: number, j: number): Point => [(p(i)[0] + p(j)[0]) / 2, (p(i)[1] + p(j)[1]) / 2];
  return [mid(MESH.rightEyeOuter, MESH.rightEyeInner), mid(MESH.leftEyeInner, MESH.leftEyeOuter), p(MESH.noseTip), p(MESH.mouthRight), p(MESH.mouthLeft)];
}

export async function faceLandmarks(img: RgbImage, det: Detection, inference: InferenceService): Promise<FaceLandmarks> {
  const toCrop = meshCrop(det);
  const crop = warpSimilarity(img, toCrop, MESH_SIZE, MESH_SIZE);
  for (let i = 0; i < crop.length; i++) crop[i] = (crop[i] as number) / 255;
  const out = await inference.run('facemesh', crop);
  const raw = out['mesh']?.data;
  const flag = out['face_flag']?.data[0];
  if (!raw || raw.length !== 468 * 3 || flag === undefined) throw new Error('facemesh returned unexpected outputs');
  const back = invertSimilarity(toCrop);
  const mesh: [number, number, number][] = [];
  for (let i = 0; i < 468; i++) {
    const [x, y] = applySimilarity(back, [raw[i * 3] as number, raw[i * 3 + 1] as number]);
    mesh.push([x, y, raw[i * 3 + 2] as number]);
  }
  return { mesh, five: fivePoints(mesh), confidence: flag };
}

/** Five-point alignment of a face onto a recognizer's template. */
export function alignFive(five: Point[], template: Point[]): Similarity {
  return estimateSimilarity(five, template);
}
