import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT, SHARED_DATA } from './fixtures';

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** RGB pixels (NHWC, 0..255 floats) of `file`, optionally cropped to `region`, resized to width x height. */
export async function rgbFloat(file: string, width: number, height: number, region?: Region): Promise<Float32Array> {
  let img = sharp(file).rotate().removeAlpha().toColourspace('srgb');
  if (region) img = img.extract(region);
  const raw = await img.resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return Float32Array.from(raw);
}

export function scale(data: Float32Array, mul: number, add = 0): Float32Array {
  return data.map((v) => v * mul + add);
}

/** Real face photos: LFW from ../shared/data when present, else the sample photos face-api ships. */
export function facePhotos(): { file: string; person: string; region?: Region }[] {
  const lfw = path.join(SHARED_DATA, 'lfw/images');
  // LFW images are 250x250 with the face roughly centred; this square holds the face.
  const lfwFace: Region = { left: 68, top: 68, width: 114, height: 114 };
  if (existsSync(lfw)) {
    return [
      ['George_W_Bush', 1],
      ['George_W_Bush', 2],
      ['Colin_Powell', 1],
      ['Tony_Blair', 1],
      ['Serena_Williams', 1],
    ].map(([person, n]) => ({
      person: person as string,
      file: path.join(lfw, person as string, `${person}_${String(n).padStart(4, '0')}.jpg`),
      region: lfwFace,
    }));
  }
  const demo = path.join(REPO_ROOT, 'node_modules/@vladmandic/face-api/demo');
  return ['sample1.jpg', 'sample2.jpg', 'sample3.jpg'].map((f) => ({ person: f, file: path.join(demo, f) }));
}
