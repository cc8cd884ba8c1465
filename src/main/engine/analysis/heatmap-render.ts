/**
 * Heatmaps as pictures: a crop-sized map is mapped back onto the original photo through the
 * alignment transform, coloured (Turbo, from d3-scale-chromatic) with opacity growing with the
 * value, and given a legend that states the scale (0 .. Theta) so a reader knows what full colour
 * means. PNG via sharp.
 */
import { interpolateTurbo } from 'd3-scale-chromatic';
import sharp from 'sharp';
import { invertSimilarity, type Similarity } from '../vision/align';
import { resample, type RgbImage } from '../vision/image';

/** 256-entry RGB lookup table of the colour map. */
const LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(interpolateTurbo(i / 255));
    if (!m) throw new Error('unexpected colour format from d3-scale-chromatic');
    lut.set([Number(m[1]), Number(m[2]), Number(m[3])], i * 3);
  }
  return lut;
})();

export function colourOf(v: number): [number, number, number] {
  const i = Math.round(Math.max(0, Math.min(1, v)) * 255) * 3;
  return [LUT[i]!, LUT[i + 1]!, LUT[i + 2]!];
}

/** The map (0..1 values) as an opaque colour image, enlarged `scale` times. */
export async function heatmapPng(map: Float32Array, width: number, height: number, scale = 2): Promise<Buffer> {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < map.length; i++) rgb.set(colourOf(map[i]!), i * 3);
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(width * scale, height * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

const LEGEND_HEIGHT = 58;

function legendSvg(width: number, caption: string, max: string): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = colourOf(i / 10);
    return `<stop offset="${i * 10}%" stop-color="rgb(${r},${g},${b})"/>`;
  }).join('');
  const esc = (s: string): string => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LEGEND_HEIGHT}">
<defs><linearGradient id="g">${stops}</linearGradient></defs>
<rect width="100%" height="100%" fill="white"/>
<rect x="8" y="6" width="${width - 16}" height="12" fill="url(#g)" stroke="#333" stroke-width="0.5"/>
<text x="8" y="32" font-family="sans-serif" font-size="11">0</text>
<text x="${width - 8}" y="32" font-family="sans-serif" font-size="11" text-anchor="end">${esc(max)}</text>
<text x="${width / 2}" y="50" font-family="sans-serif" font-size="10" text-anchor="middle">${esc(caption)}</text>
</svg>`;
}

/**
 * The map drawn over the original photo. `toCrop` maps photo pixels to map pixels; outside the
 * crop nothing is drawn. Opacity is 0.65 x value, so weak values stay see-through.
 */
export async function overlayPng(image: RgbImage, map: Float32Array, mapWidth: number, mapHeight: number, toCrop: Similarity, legend: { caption: string; max: string }): Promise<Buffer> {
  // The map as a 3-channel image (value in channel 0), resampled into the photo's frame.
  const heat: RgbImage = { width: mapWidth, height: mapHeight, data: new Uint8Array(mapWidth * mapHeight * 3) };
  for (let i = 0; i < map.length; i++) heat.data[i * 3] = Math.round(Math.max(0, Math.min(1, map[i]!)) * 255);
  // resample maps output (photo) pixels to source (map) pixels: that is toCrop itself.
  const inPhoto = resample(heat, image.width, image.height, toCrop, 0);
  const out = new Uint8Array(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) {
    const v = inPhoto[p * 3]! / 255;
    const alpha = 0.65 * v;
    const [r, g, b] = colourOf(v);
    out[p * 3] = Math.round(image.data[p * 3]! * (1 - alpha) + r * alpha);
    out[p * 3 + 1] = Math.round(image.data[p * 3 + 1]! * (1 - alpha) + g * alpha);
    out[p * 3 + 2] = Math.round(image.data[p * 3 + 2]! * (1 - alpha) + b * alpha);
  }
  const width = Math.max(image.width, 240);
  const photo = await sharp(out, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  return sharp({ create: { width, height: image.height + LEGEND_HEIGHT, channels: 3, background: 'white' } })
    .composite([
      { input: photo, left: 0, top: 0 },
      { input: Buffer.from(legendSvg(width, legend.caption, legend.max)), left: 0, top: image.height },
    ])
    .png()
    .toBuffer();
}

/** Crop -> photo transform, for clients that draw the map themselves. */
export function cropToPhoto(toCrop: Similarity): Similarity {
  return invertSimilarity(toCrop);
}
