import sharp, { type Metadata } from 'sharp';

/** Largest image we agree to decode: guards against decompression bombs (a 20000x20000 PNG header). */
export const MAX_INPUT_PIXELS = 100_000_000;
/** Largest file we read into memory for import. */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif']);
const FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif']);

export class ImageError extends Error {
  override name = 'ImageError';
}

/** Longest side of a catalog thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 256;

export interface Thumbnail {
  format: 'webp';
  width: number;
  height: number;
  data: Uint8Array;
}

export interface ImageProbe {
  format: string;
  width: number;
  height: number;
  /** Upright, sRGB, at most THUMBNAIL_SIZE on its longest side. */
  thumbnail: Thumbnail;
}

/**
 * Reads an image's header and checks that it is a format Facet accepts, within the pixel limit.
 * Orientation-aware: width/height are as displayed (EXIF orientation applied).
 */
export async function probeImage(data: Uint8Array): Promise<ImageProbe> {
  if (data.byteLength === 0) throw new ImageError('the file is empty');
  let meta: Metadata;
  try {
    // Header only, so no pixel limit here: our own check below names the dimensions.
    meta = await sharp(data, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (e) {
    throw new ImageError(`not a readable image (${(e as Error).message.split('\n')[0]})`);
  }
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw new ImageError(`unsupported image format ${meta.format ?? 'unknown'} (accepted: JPEG, PNG, WebP, TIFF, GIF)`);
  }
  if (!meta.width || !meta.height) throw new ImageError('the image has no dimensions');
  if (meta.width * meta.height > MAX_INPUT_PIXELS) {
    throw new ImageError(
      `the image is ${meta.width}x${meta.height} pixels, over the limit of ${MAX_INPUT_PIXELS / 1e6} megapixels`,
    );
  }
  let thumbnail: Thumbnail;
  try {
    // Header checks pass on a truncated file; decoding the whole image for the thumbnail proves
    // the pixel data is all there.
    const { data: webp, info } = await sharp(data, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated', pages: 1 })
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .webp({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    thumbnail = { format: 'webp', width: info.width, height: info.height, data: new Uint8Array(webp.buffer, webp.byteOffset, webp.byteLength) };
  } catch (e) {
    throw new ImageError(`the image data is damaged (${(e as Error).message.split('\n')[0]})`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  return {
    format: meta.format,
    width: rotated ? meta.height : meta.width,
    height: rotated ? meta.width : meta.height,
    thumbnail,
  };
}
