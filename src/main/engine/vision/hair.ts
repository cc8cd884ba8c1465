/**
 * Hair in an aligned face crop (paper 000 adds hair because recognizers ignore it): the person
 * segmentation model's mask, minus the face (the FaceMesh face oval, grown a little so the skin
 * edge is not counted), above the mouth (so neck and shoulders are not counted).
 */
import type { InferenceService } from '../models/inference';
import type { Point } from './align';
import { resample, type RgbImage } from './image';
import { fillPolygon, MESH_PARTS, offsetContour } from './parts';

const SEGMENTER = 'selfie';

/** The person segmenter's probability (0..1) per crop pixel; `crop255`: size x size NHWC 0..255. */
export async function personMask(crop255: Float32Array, size: number, inference: InferenceService): Promise<Float32Array> {
  const entry = inference.registry.get(SEGMENTER);
  const side = entry.input.width;
  // The crop as an 8-bit image, resampled to the segmenter's input and scaled to its range.
  const img: RgbImage = { width: size, height: size, data: Uint8Array.from(crop255, (v) => Math.max(0, Math.min(255, Math.round(v)))) };
  const input = resample(img, side, side, { a: size / side, b: 0, tx: 0, ty: 0 });
  const [lo, hi] = entry.input.range;
  for (let i = 0; i < input.length; i++) input[i] = lo + (input[i]! * (hi - lo)) / 255;
  const person = (await inference.run(SEGMENTER, input))['mask']!.data;
  // Back to the crop's resolution (the probability in channel 0 of an RGB-shaped image).
  const personImg: RgbImage = { width: side, height: side, data: new Uint8Array(side * side * 3) };
  for (let i = 0; i < side * side; i++) personImg.data[i * 3] = Math.round(Math.max(0, Math.min(1, person[i]!)) * 255);
  const inCrop = resample(personImg, size, size, { a: side / size, b: 0, tx: 0, ty: 0 });
  return Float32Array.from({ length: size * size }, (_, p) => inCrop[p * 3]! / 255);
}

/** `crop255`: size x size NHWC 0..255; `mesh`: the 468 landmarks in crop pixels. */
export async function hairMask(crop255: Float32Array, size: number, mesh: Point[], inference: InferenceService, person?: Float32Array): Promise<Float32Array> {
  const inCrop = person ?? (await personMask(crop255, size, inference));
  const iod = Math.hypot(mesh[263]![0] - mesh[33]![0], mesh[263]![1] - mesh[33]![1]);
  const oval = offsetContour(MESH_PARTS.faceOval.map((i) => mesh[i]!), 0.08 * iod);
  const face = fillPolygon(oval, size, size);
  const mouthY = MESH_PARTS.lipsOuter.reduce((s: number, i: number) => s + mesh[i]![1], 0) / MESH_PARTS.lipsOuter.length;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size && y < mouthY; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      out[p] = inCrop[p]! >= 0.5 && face[p]! < 0.5 ? 1 : 0;
    }
  }
  return out;
}
