/**
 * Colour maps and the one function that draws an explanation map over a portrait. Any map in the
 * recognizer's aligned-crop frame (pair difference today, saliency methods later) is drawn the same
 * way: coloured through a colour map, opacity growing with the value, mapped into the photo by the
 * crop's similarity transform.
 */
import { interpolateGreys, interpolateInferno, interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';

export const COLORMAPS = {
  turbo: { label: 'Turbo', interpolate: interpolateTurbo },
  viridis: { label: 'Viridis', interpolate: interpolateViridis },
  inferno: { label: 'Inferno', interpolate: interpolateInferno },
  greys: { label: 'Greys', interpolate: interpolateGreys },
} as const;
export type ColormapName = keyof typeof COLORMAPS;

/** A map in crop pixels, row-major, values in [0, 1]. */
export interface CropMap {
  width: number;
  height: number;
  values: ArrayLike<number>;
}

/** Crop pixels -> photo pixels: x' = a x - b y + tx, y' = b x + a y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

const luts = new Map<ColormapName, Uint8ClampedArray>();

/**
 * 256 RGB entries. d3 returns CSS colour strings in more than one syntax (rgb() for turbo, hex
 * for viridis); letting a canvas parse them avoids a parser of our own.
 */
export function colormapLut(name: ColormapName): Uint8ClampedArray {
  const cached = luts.get(name);
  if (cached) return cached;
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  for (let i = 0; i < 256; i++) {
    ctx.fillStyle = COLORMAPS[name].interpolate(i / 255);
    ctx.fillRect(i, 0, 1, 1);
  }
  const lut = ctx.getImageData(0, 0, 256, 1).data;
  luts.set(name, lut);
  return lut;
}

export function legendGradient(name: ColormapName): string {
  return `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => COLORMAPS[name].interpolate(i / 10)).join(', ')})`;
}

/**
 * Draws `map` over a canvas that covers the photo (canvas pixels = photo pixels), through the
 * crop-to-photo transform. Returns false when there was nothing to draw.
 */
export function drawMap(
  canvas: HTMLCanvasElement,
  photo: { width: number; height: number },
  map: CropMap | null,
  cropToPhoto: Similarity | null,
  options: { colormap: ColormapName; opacity: number },
): boolean {
  canvas.width = photo.width;
  canvas.height = photo.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!map || !cropToPhoto) return false;
  const heat = document.createElement('canvas');
  heat.width = map.width;
  heat.height = map.height;
  const hctx = heat.getContext('2d')!;
  const pixels = hctx.createImageData(map.width, map.height);
  const lut = colormapLut(options.colormap);
  for (let p = 0; p < map.width * map.height; p++) {
    const v = Math.max(0, Math.min(1, map.values[p] ?? 0));
    const k = Math.round(v * 255) * 4;
    pixels.data[p * 4] = lut[k]!;
    pixels.data[p * 4 + 1] = lut[k + 1]!;
    pixels.data[p * 4 + 2] = lut[k + 2]!;
    pixels.data[p * 4 + 3] = Math.round(255 * v);
  }
  hctx.putImageData(pixels, 0, 0);
  const t = cropToPhoto;
  ctx.globalAlpha = options.opacity;
  ctx.imageSmoothingEnabled = true;
  ctx.setTransform(t.a, t.b, -t.b, t.a, t.tx, t.ty);
  ctx.drawImage(heat, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return true;
}
