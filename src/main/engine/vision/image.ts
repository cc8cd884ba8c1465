/**
 * Decoding any accepted photo into the one pixel format the models take: 8-bit sRGB, 3 channels,
 * EXIF orientation applied, alpha flattened onto mid grey, first frame of an animation.
 */
import sharp from 'sharp';
import { ImageError, MAX_INPUT_PIXELS } from './probe';

export interface RgbImage {
  /** Interleaved RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

export async function decodeRgb(input: Uint8Array | string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated', pages: 1 })
      .rotate() // EXIF orientation
      .toColourspace('srgb') // CMYK, greyscale, 16-bit and ICC-tagged inputs all end as 8-bit sRGB
      .flatten({ background: { r: 128, g: 128, b: 128 } })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError(`unexpected ${info.channels} channels after conversion`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`cannot decode the image (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * Bilinear sample of channel `c` at (x, y). Outside the image: `fill` when given (letterboxing),
 * else the nearest edge pixel (alignment crops near the border).
 */
function sample(img: RgbImage, x: number, y: number, c: number, fill?: number): number {
  const { width: w, height: h, data } = img;
  if (fill !== undefined && (x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5)) return fill;
  const cx = Math.min(Math.max(x, 0), w - 1);
  const cy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const p = (xx: number, yy: number): number => data[(yy * w + xx) * 3 + c] as number;
  return (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
}

/**
 * Fills `outW x outH` NHWC float pixels (0..255) by mapping each output pixel centre through
 * `toSource` (output -> source coordinates, pixel centres at +0.5) and sampling bilinearly.
 */
export function resample(
  img: RgbImage,
  outW: number,
  outH: number,
  toSource: (x: number, y: number) => [number, number],
  fill?: number,
  out = new Float32Array(outW * outH * 3),
): Float32Array {
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = toSource(x + 0.5, y + 0.5);
      const o = (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = sample(img, sx - 0.5, sy - 0.5, c, fill);
    }
  }
  return out;
}
