/**
 * The face pipeline for one decoded photo: detect every face, landmark it, align it to each
 * recognizer's template, embed it, and measure the quality signals a reviewer needs to judge it.
 */
import type { ModelEntry } from '../models/manifest';
import type { InferenceService } from '../models/inference';
import { alignmentResidual, estimateSimilarity, warpSimilarity, type Point, type Similarity } from './align';
import { detectFaces, type Detection, type DetectOptions } from './detect';
import type { RgbImage } from './image';
import { faceLandmarks, type FaceLandmarks } from './landmarks';

export interface FaceQuality {
  detectorScore: number;
  /** Detection box width in source pixels. */
  boxWidth: number;
  /** Distance between the eye centres in source pixels: the usual face-size measure. */
  interOcular: number;
  /** Head pose estimates in degrees from the five points (roll exact; yaw and pitch approximate). */
  roll: number;
  yaw: number;
  pitch: number;
  /** Variance of the Laplacian of the grey aligned crop: low means blurred. */
  sharpness: number;
  landmarkConfidence: number;
}

export interface FaceEmbedding {
  model: string;
  vector: Float32Array;
  /** L2 norm before any normalization: low norms flag unreliable images (paper 004). */
  norm: number;
  /** RMS distance between aligned landmarks and the template, in crop pixels (five-point models). */
  alignmentResidual: number | null;
}

export interface AnalyzedFace {
  detection: Detection;
  landmarks: FaceLandmarks;
  quality: FaceQuality;
  embeddings: FaceEmbedding[];
}

const deg = (r: number): number => (r * 180) / Math.PI;

/** Roll from the eye line; yaw and pitch from where the nose tip sits relative to eyes and mouth. */
export function estimatePose(five: Point[]): { roll: number; yaw: number; pitch: number; interOcular: number } {
  const [re, le, nose, mr, ml] = five as [Point, Point, Point, Point, Point];
  const roll = Math.atan2(le[1] - re[1], le[0] - re[0]);
  // Express the nose in a frame where the eye line is horizontal and the eye distance is 1.
  const iod = Math.hypot(le[0] - re[0], le[1] - re[1]);
  const c = Math.cos(-roll);
  const s = Math.sin(-roll);
  const eyes: Point = [(re[0] + le[0]) / 2, (re[1] + le[1]) / 2];
  const mouth: Point = [(mr[0] + ml[0]) / 2, (mr[1] + ml[1]) / 2];
  const local = ([x, y]: Point): Point => [((x - eyes[0]) * c - (y - eyes[1]) * s) / iod, ((x - eyes[0]) * s + (y - eyes[1]) * c) / iod];
  const n = local(nose);
  const m = local(mouth);
  // Frontal faces put the nose tip on the eye-mouth midline, about 55 % of the way down.
  const yaw = Math.asin(Math.max(-1, Math.min(1, (n[0] - m[0] / 2) * 2)));
  const pitch = Math.asin(Math.max(-1, Math.min(1, (n[1] / Math.max(m[1], 1e-6) - 0.55) * 2)));
  return { roll: deg(roll), yaw: deg(yaw), pitch: deg(pitch), interOcular: iod };
}

/** Variance of the 4-neighbour Laplacian over a grey version of an NHWC float crop. */
export function laplacianVariance(crop: Float32Array, width: number, height: number): number {
  const grey = new Float32Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * (crop[i * 3] as number) + 0.587 * (crop[i * 3 + 1] as number) + 0.114 * (crop[i * 3 + 2] as number);
  }
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = (grey[i - 1] as number) + (grey[i + 1] as number) + (grey[i - width] as number) + (grey[i + width] as number) - 4 * (grey[i] as number);
      sum += l;
      sq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}

/** Source -> crop transform for a recognizer, from its manifest alignment. */
export function recognizerAlignment(entry: ModelEntry, det: Detection, five: Point[]): { transform: Similarity; residual: number | null } {
  const { alignment } = entry;
  if (alignment.kind === 'five-point') {
    const transform = estimateSimilarity(five, alignment.points as Point[]);
    return { transform, residual: alignmentResidual(transform, five, alignment.points as Point[]) };
  }
  if (alignment.kind === 'box') {
    // An upright square around the detection box, enlarged by the margin.
    const side = Math.max(det.width, det.height) * (1 + alignment.margin);
    const s = alignment.size[0] / side;
    const cx = det.x + det.width / 2;
    const cy = det.y + det.height / 2;
    return { transform: { a: s, b: 0, tx: alignment.size[0] / 2 - s * cx, ty: alignment.size[1] / 2 - s * cy }, residual: null };
  }
  throw new Error(`${entry.id} has no face alignment; it is not a recognizer`);
}

/** Scales 0..255 pixels into the value range the model's manifest declares. */
export function toModelRange(crop: Float32Array, range: [number, number]): Float32Array {
  const [lo, hi] = range;
  if (lo === 0 && hi === 255) return crop;
  const k = (hi - lo) / 255;
  return crop.map((v) => lo + v * k);
}

export interface AnalyzeOptions extends DetectOptions {
  /** Recognizers to embed with (manifest ids). */
  recognizers: string[];
}

export async function analyzeFaces(img: RgbImage, inference: InferenceService, options: AnalyzeOptions): Promise<AnalyzedFace[]> {
  const detections = await detectFaces(img, inference, options);
  const entries = options.recognizers.map((id) => inference.registry.get(id));
  const faces: AnalyzedFace[] = [];
  for (const detection of detections) {
    const landmarks = await faceLandmarks(img, detection, inference);
    const pose = estimatePose(landmarks.five);
    let sharpness = Number.NaN;
    const embeddings: FaceEmbedding[] = [];
    for (const entry of entries) {
      const { transform, residual } = recognizerAlignment(entry, detection, landmarks.five);
      const crop = warpSimilarity(img, transform, entry.input.width, entry.input.height);
      if (Number.isNaN(sharpness)) sharpness = laplacianVariance(crop, entry.input.width, entry.input.height);
      const out = await inference.run(entry.id, toModelRange(crop, entry.input.range));
      const vector = out['embedding']?.data ?? out[entry.outputs[0]?.name ?? '']?.data;
      if (!vector) throw new Error(`${entry.id} returned no embedding`);
      embeddings.push({ model: entry.id, vector, norm: Math.hypot(...vector), alignmentResidual: residual });
    }
    faces.push({
      detection,
      landmarks,
      quality: {
        detectorScore: detection.score,
        boxWidth: detection.width,
        interOcular: pose.interOcular,
        roll: pose.roll,
        yaw: pose.yaw,
        pitch: pose.pitch,
        sharpness,
        landmarkConfidence: landmarks.confidence,
      },
      embeddings,
    });
  }
  // Largest face first: the primary face unless the user picks another.
  return faces.sort((a, b) => b.detection.width * b.detection.height - a.detection.width * a.detection.height);
}
