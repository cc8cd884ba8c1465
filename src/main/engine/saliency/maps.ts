/**
 * Saliency maps as every method returns them, and the post-processing of paper 001 (Gaussian
 * smoothing with sigma = 2 % of the width, then unit mass) and paper 002 (the top 5 % view).
 * Maps live in the recognizer's aligned crop (width x height, row-major).
 */
import { gaussianBlur } from '../vision/part-swap';

export interface Map2d {
  width: number;
  height: number;
  data: Float32Array;
}

/** Paper 001: sigma = 2 % of the image width (4.5 px at 224). */
export function smoothingSigma(width: number): number {
  return 0.02 * width;
}

/** Negative values clipped to 0, then scaled to sum 1. An all-zero map stays all zero (no evidence anywhere). */
export function unitMass(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]! > 0 ? data[i]! : 0;
    out[i] = v;
    sum += v;
  }
  if (sum > 0 && Number.isFinite(sum)) for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** Paper 001's post-processing: smoothed with N(0, (2 % of width)^2), then unit mass. */
export function postprocess(map: Map2d): Map2d {
  const clipped = unitMass(map.data);
  return { width: map.width, height: map.height, data: unitMass(gaussianBlur(clipped, map.width, map.height, smoothingSigma(map.width))) };
}

/**
 * Per-pixel reduction of an NHWC input-space signal (one image): 'maxabs' is the gradient saliency
 * of Simonyan et al. as paper 001 uses it (max over colour channels of |signal|), 'max' keeps the
 * sign (guided backprop's positive evidence), 'sum' adds the channels (excitation backprop's
 * probability mass per pixel).
 */
export function reduceChannels(signal: Float32Array, width: number, height: number, channels: number, how: 'maxabs' | 'max' | 'sum', offset = 0): Float32Array {
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    const base = offset + p * channels;
    let v = how === 'sum' ? 0 : -Infinity;
    for (let c = 0; c < channels; c++) {
      const s = signal[base + c]!;
      if (how === 'sum') v += s;
      else v = Math.max(v, how === 'maxabs' ? Math.abs(s) : s);
    }
    out[p] = v;
  }
  return out;
}

/** Bilinear resize of a coarse map (e.g. a 7 x 7 Grad-CAM) to the crop, pixel centres aligned. */
export function resizeBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / dh - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / dw - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Value at quantile q (0..1) of the map, by sorting a copy. */
export function quantile(data: Float32Array, q: number): number {
  const sorted = Float32Array.from(data).sort();
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)));
  return sorted[i]!;
}

/** Paper 002's view: 1 on the top `share` of pixels by value, 0 elsewhere. */
export function topShareMask(data: Float32Array, share = 0.05): Uint8Array {
  const order = rankOrder(data);
  const keep = Math.round(share * data.length);
  const out = new Uint8Array(data.length);
  for (let k = data.length - keep; k < data.length; k++) out[order[k]!] = 1;
  return out;
}

/**
 * Pixel indices from least to most important. Ties (flat regions, e.g. a map of zeros) are broken
 * by a fixed pseudo-random permutation so that hiding a flat map hides scattered pixels, not the
 * top rows first.
 */
export function rankOrder(data: Float32Array): Uint32Array {
  const n = data.length;
  const tie = new Uint32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    tie[i] = s;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => data[a]! - data[b]! || tie[a]! - tie[b]!);
  return order;
}

/** Map mass inside a mask (0..1 weights), over the map's total. */
export function massInside(map: Float32Array, mask: Float32Array | Uint8Array): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]! > 0 ? map[i]! : 0;
    total += v;
    inside += v * mask[i]!;
  }
  return total > 0 ? inside / total : 0;
}

/** A seeded uniform random map: the hiding game's baseline. */
export function randomMap(width: number, height: number, seed: number): Map2d {
  const data = new Float32Array(width * height);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = (s >>> 0) / 4294967296;
  }
  return { width, height, data: unitMass(data) };
}
