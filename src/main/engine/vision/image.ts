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
 * Fills `outW x outH` NHWC float pixels (0..255) by mapping each output pixel centre through the
 * similarity `toSource` (output -> source: u = a*x - b*y + tx, v = b*x + a*y + ty; pixel centres at
 * +0.5) and sampling bilinearly.
 * Outside the image: `fill` when given (letterboxing), else the nearest edge pixel (alignment
 * crops near the border). Hot path: one coordinate map per pixel, all channels at once.
 */
export function resample(
  img: RgbImage,
  outW: number,
  outH: number,
  toSource: { a: number; b: number; tx: number; ty: number },
  fill?: number,
  out = new Float32Array(outW * outH * 3),
): Float32Array {
  const { width: w, height: h, data } = img;
  const { a, b, tx, ty } = toSource;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = a * (x + 0.5) - b * (y + 0.5) + tx - 0.5;
      const sy = b * (x + 0.5) + a * (y + 0.5) + ty - 0.5;
      const o = (y * outW + x) * 3;
      if (fill !== undefined && (sx < -0.5 || sy < -0.5 || sx > w - 0.5 || sy > h - 0.5)) {
        out[o] = fill;
        out[o + 1] = fill;
        out[o + 2] = fill;
        continue;
      }
      const cx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      const cy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      const y1 = y0 + 1 < h ? y0 + 1 : h - 1;
      const fx = cx - x0;
      const fy = cy - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const i00 = (y0 * w + x0) * 3;
      const i01 = (y0 * w + x1) * 3;
      const i10 = (y1 * w + x0) * 3;
      const i11 = (y1 * w + x1) * 3;
      for (let c = 0; c < 3; c++) {
        out[o + c] =
          (data[i00 + c] as number) * w00 + (data[i01 + c] as number) * w01 + (data[i10 + c] as number) * w10 + (data[i11 + c] as number) * w11;
      }
    }
  }
  return out;
}
