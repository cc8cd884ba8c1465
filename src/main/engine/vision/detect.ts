/**
 * Face detection with BlazeFace (256x256, back-camera model): anchor decoding and non-maximum
 * suppression around the ONNX model, in source-image pixels.
 */
import type { InferenceService } from '../models/inference';
import type { Point } from './align';
import { resample, type RgbImage } from './image';

export const DETECTOR_SIZE = 256;

export interface Detection {
  /** Box in source pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  /**
   * BlazeFace's six keypoints in source pixels: the subject's right eye, left eye, nose tip,
   * mouth centre, right ear tragion, left ear tragion. (The subject's right eye is on the image's left.)
   */
  keypoints: Point[];
}

export interface DetectOptions {
  minScore?: number;
  iou?: number;
  maxFaces?: number;
}

let anchorCache: Point[] | undefined;
/** Anchor centres in input pixels: a 16x16 grid with 2 anchors per cell, then an 8x8 grid with 6. */
export function blazefaceAnchors(): Point[] {
  if (anchorCache) return anchorCache;
  const anchors: Point[] = [];
  for (const [stride, perCell] of [
    [16, 2],
    [32, 6],
  ] as const) {
    const cells = DETECTOR_SIZE / stride;
    for (let gy = 0; gy < cells; gy++)
      for (let gx = 0; gx < cells; gx++)
        for (let k = 0; k < perCell; k++) anchors.push([stride * (gx + 0.5), stride * (gy + 0.5)]);
  }
  anchorCache = anchors;
  return anchors;
}

export function iou(a: Detection, b: Detection): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression, highest score first. */
export function nonMaxSuppression(dets: Detection[], threshold: number, max: number): Detection[] {
  const kept: Detection[] = [];
  for (const d of [...dets].sort((a, b) => b.score - a.score)) {
    if (kept.length >= max) break;
    if (kept.every((k) => iou(k, d) < threshold)) kept.push(d);
  }
  return kept;
}

/**
 * Decodes raw model outputs (scores and 16-value regressions per anchor, in input pixels) into
 * detections in source pixels; `scale` maps input pixels to source pixels.
 */
export function decodeBlazeface(scores: Float32Array, boxes: Float32Array, scale: number, minScore: number): Detection[] {
  const anchors = blazefaceAnchors();
  if (scores.length !== anchors.length || boxes.length !== anchors.length * 16) {
    throw new Error(`BlazeFace output sizes ${scores.length}/${boxes.length} do not fit ${anchors.length} anchors`);
  }
  const out: Detection[] = [];
  anchors.forEach(([ax, ay], i) => {
    const logit = Math.max(-100, Math.min(100, scores[i] as number));
    const score = 1 / (1 + Math.exp(-logit));
    if (score < minScore) return;
    const r = boxes.subarray(i * 16, i * 16 + 16);
    const cx = ax + (r[0] as number);
    const cy = ay + (r[1] as number);
    const w = r[2] as number;
    const h = r[3] as number;
    const keypoints: Point[] = [];
    for (let k = 0; k < 6; k++) keypoints.push([(ax + (r[4 + 2 * k] as number)) * scale, (ay + (r[5 + 2 * k] as number)) * scale]);
    out.push({ x: (cx - w / 2) * scale, y: (cy - h / 2) * scale, width: w * scale, height: h * scale, score, keypoints });
  });
  return out;
}

/** The photo letterboxed into the detector's square input (padding right/bottom, black), in -1..1. */
export function detectorInput(img: RgbImage): { input: Float32Array; scale: number } {
  const side = Math.max(img.width, img.height);
  const scale = side / DETECTOR_SIZE;
  const input = resample(img, DETECTOR_SIZE, DETECTOR_SIZE, { a: scale, b: 0, tx: 0, ty: 0 }, 0);
  for (let i = 0; i < input.length; i++) input[i] = (input[i] as number) / 127.5 - 1;
  return { input, scale };
}

export async function detectFaces(img: RgbImage, inference: InferenceService, options: DetectOptions = {}): Promise<Detection[]> {
  const { input, scale } = detectorInput(img);
  const out = await inference.run('blazeface', input);
  const get = (name: string): Float32Array => {
    const t = out[name];
    if (!t) throw new Error(`blazeface returned no ${name}`);
    return t.data;
  };
  const scores = new Float32Array([...get('scores_16'), ...get('scores_32')]);
  const boxes = new Float32Array([...get('boxes_16'), ...get('boxes_32')]);
  const candidates = decodeBlazeface(scores, boxes, scale, options.minScore ?? 0.5);
  return nonMaxSuppression(candidates, options.iou ?? 0.3, options.maxFaces ?? 50);
}
