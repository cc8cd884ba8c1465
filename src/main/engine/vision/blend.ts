/**
 * Multi-band (Laplacian pyramid) blending of two aligned crops under a soft mask: each frequency
 * band is mixed with the mask blurred to that band's scale, so coarse shading blends smoothly while
 * fine detail keeps sharp edges (Burt and Adelson's method).
 */

/** One channel-interleaved float image, NHWC with 3 channels. */
interface Plane {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

const KERNEL = [1, 4, 6, 4, 1].map((v) => v / 16);

function blur(p: Plane): Plane {
  const { width: w, height: h, channels: c } = p;
  const tmp = new Float32Array(p.data.length);
  const out = new Float32Array(p.data.length);
  const clamp = (v: number, n: number): number => (v < 0 ? 0 : v >= n ? n - 1 : v);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let t = -2; t <= 2; t++) s += KERNEL[t + 2]! * p.data[(y * w + clamp(x + t, w)) * c + k]!;
        tmp[(y * w + x) * c + k] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let t = -2; t <= 2; t++) s += KERNEL[t + 2]! * tmp[(clamp(y + t, h) * w + x) * c + k]!;
        out[(y * w + x) * c + k] = s;
      }
    }
  }
  return { ...p, data: out };
}

function down(p: Plane): Plane {
  const b = blur(p);
  const w = Math.ceil(p.width / 2);
  const h = Math.ceil(p.height / 2);
  const out = new Float32Array(w * h * p.channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < p.channels; k++) out[(y * w + x) * p.channels + k] = b.data[(2 * y * p.width + 2 * x) * p.channels + k]!;
  return { data: out, width: w, height: h, channels: p.channels };
}

/** Upsamples to width x height by pixel replication, then smooths (the pyramid's expand step). */
function up(p: Plane, width: number, height: number): Plane {
  const out = new Float32Array(width * height * p.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sy = Math.min(p.height - 1, y >> 1);
      const sx = Math.min(p.width - 1, x >> 1);
      for (let k = 0; k < p.channels; k++) out[(y * width + x) * p.channels + k] = p.data[(sy * p.width + sx) * p.channels + k]!;
    }
  }
  return blur({ data: out, width, height, channels: p.channels });
}

function laplacian(p: Plane, levels: number): Plane[] {
  const bands: Plane[] = [];
  let current = p;
  for (let i = 0; i < levels - 1; i++) {
    const next = down(current);
    const expanded = up(next, current.width, current.height);
    bands.push({ ...current, data: current.data.map((v, j) => v - expanded.data[j]!) });
    current = next;
  }
  bands.push(current);
  return bands;
}

/**
 * `top` over `bottom` where `mask` (width x height, 0..1) is 1. Both crops NHWC, 3 channels, same
 * size. `levels` bands (default: until the smallest side is about 8 px).
 */
export function multiBandBlend(top: Float32Array, bottom: Float32Array, mask: Float32Array, width: number, height: number, levels?: number): Float32Array {
  if (top.length !== width * height * 3 || bottom.length !== top.length || mask.length !== width * height) throw new Error('blend inputs must share one size');
  const n = levels ?? Math.max(1, Math.floor(Math.log2(Math.min(width, height) / 8)) + 1);
  const la = laplacian({ data: top, width, height, channels: 3 }, n);
  const lb = laplacian({ data: bottom, width, height, channels: 3 }, n);
  // The mask's Gaussian pyramid: each band mixes with the mask at its own scale.
  let m: Plane = { data: mask, width, height, channels: 1 };
  const masks: Plane[] = [m];
  for (let i = 1; i < n; i++) {
    m = down(m);
    masks.push(m);
  }
  const mixed = la.map((band, i) => {
    const mm = masks[i]!;
    return { ...band, data: band.data.map((v, j) => {
      const a = mm.data[Math.floor(j / 3)]!;
      return v * a + lb[i]!.data[j]! * (1 - a);
    }) };
  });
  // Collapse the pyramid.
  let out = mixed[n - 1]!;
  for (let i = n - 2; i >= 0; i--) {
    const band = mixed[i]!;
    const expanded = up(out, band.width, band.height);
    out = { ...band, data: band.data.map((v, j) => v + expanded.data[j]!) };
  }
  return out.data.map((v) => Math.max(0, Math.min(255, v)));
}
