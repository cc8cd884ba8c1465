/**
 * Ground-truth pairs for explanation tests: face A with one component replaced by face B's (both
 * aligned crops of the same recognizer). The change is known exactly, so an explanation method can
 * be checked for pointing at it.
 */

export interface PartSwapOptions {
  /**
   * Reach of the mask's soft edge, in pixels either side of it (a Gaussian blur with sigma =
   * feather / 3, cut at 3 sigma); default 3 px at 112 px, scaled with the crop.
   */
  feather?: number;
  /** Keep the whole blend inside the part, so no pixel of a neighbouring part changes (ground truth). */
  inside?: boolean;
  /** Map B's region to A's per-channel mean and standard deviation (default true). */
  colourMatch?: boolean;
}

/**
 * Separable Gaussian blur of a single-channel image. The kernel stops at 3 sigma, so the result is
 * exactly 0 farther than that from any non-zero pixel; borders renormalize over the pixels present.
 */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number, out = new Float32Array(width * height)): Float32Array {
  if (!(sigma > 0)) {
    out.set(src);
    return out;
  }
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * r + 1);
  for (let k = -r; k <= r; k++) kernel[k + r] = Math.exp((-k * k) / (2 * sigma * sigma));
  const tmp = new Float32Array(width * height);
  // Horizontal pass into tmp, vertical pass into out.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let norm = 0;
      const k0 = Math.max(-r, -x);
      const k1 = Math.min(r, width - 1 - x);
      for (let k = k0; k <= k1; k++) {
        const w = kernel[k + r] as number;
        sum += w * (src[row + x + k] as number);
        norm += w;
      }
      tmp[row + x] = sum / norm;
    }
  }
  for (let y = 0; y < height; y++) {
    const k0 = Math.max(-r, -y);
    const k1 = Math.min(r, height - 1 - y);
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let norm = 0;
      for (let k = k0; k <= k1; k++) {
        const w = kernel[k + r] as number;
        sum += w * (tmp[(y + k) * width + x] as number);
        norm += w;
      }
      out[y * width + x] = sum / norm;
    }
  }
  return out;
}

/**
 * The feathered blend weight of a swap: the mask blurred so its edge ramps over `feather` px each
 * side (exactly 0 farther out), clamped to 0..1.
 */
export function featherMask(mask: Float32Array, width: number, height: number, feather: number): Float32Array {
  const alpha = gaussianBlur(mask, width, height, feather / 3);
  for (let i = 0; i < alpha.length; i++) {
    const v = alpha[i] as number;
    alpha[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
  }
  return alpha;
}

/**
 * Per-channel gain and offset taking `src`'s weighted mean and standard deviation to `ref`'s
 * (NHWC, 3 channels; weights one per pixel).
 */
export function colourTransfer(src: Float32Array, ref: Float32Array, weights: Float32Array): { gain: number[]; offset: number[] } {
  const stats = (img: Float32Array, c: number): [number, number] => {
    let sw = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (w === 0) continue;
      const v = img[i * 3 + c] as number;
      sw += w;
      s1 += w * v;
      s2 += w * v * v;
    }
    if (sw === 0) return [0, 0];
    const mean = s1 / sw;
    return [mean, Math.sqrt(Math.max(0, s2 / sw - mean * mean))];
  };
  const gain: number[] = [];
  const offset: number[] = [];
  for (let c = 0; c < 3; c++) {
    const [ms, ss] = stats(src, c);
    const [mr, sr] = stats(ref, c);
    // A flat source region has no contrast to rescale: shift it only.
    const g = ss > 1e-6 ? sr / ss : 1;
    gain.push(g);
    offset.push(mr - g * ms);
  }
  return { gain, offset };
}

/**
 * A' = A with the masked region replaced by B's pixels: the mask is feathered by a Gaussian of
 * `feather` px, and B's region is colour-matched to A's first so the swap changes the component's
 * shape and texture, not its colour. Crops are NHWC float 0..255; outside the feathered mask A'
 * equals A exactly.
 */
export function partSwap(a: Float32Array, b: Float32Array, width: number, height: number, mask: Float32Array, opts: PartSwapOptions = {}): Float32Array {
  const n = width * height;
  if (a.length !== n * 3 || b.length !== n * 3) throw new Error(`partSwap expects two ${width}x${height}x3 crops`);
  if (mask.length !== n) throw new Error(`partSwap expects a ${width}x${height} mask`);
  const feather = opts.feather ?? (3 * Math.min(width, height)) / 112;
  const alpha = featherMask(mask, width, height, feather);
  // Cut at the part's edge: the blend ramps from about half at the boundary to full inside, and
  // no pixel outside changes (thin parts such as eyebrows keep their swap, which erosion would not).
  if (opts.inside) for (let i = 0; i < alpha.length; i++) alpha[i] = alpha[i]! * Math.min(1, Math.max(0, mask[i]!));
  let gain = [1, 1, 1];
  let offset = [0, 0, 0];
  if (opts.colourMatch ?? true) {
    // Statistics weighted by mask x alpha: then the mask-weighted mean of A' equals A's (up to
    // clipping to 0..255), because the blended-in difference (B' - A) has zero weighted mean there.
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) weights[i] = (mask[i] as number) * (alpha[i] as number);
    ({ gain, offset } = colourTransfer(b, a, weights));
  }
  const out = new Float32Array(a);
  for (let i = 0; i < n; i++) {
    const t = alpha[i] as number;
    if (t === 0) continue;
    for (let c = 0; c < 3; c++) {
      const j = i * 3 + c;
      const bv = (gain[c] as number) * (b[j] as number) + (offset[c] as number);
      const av = a[j] as number;
      out[j] = av + t * ((bv < 0 ? 0 : bv > 255 ? 255 : bv) - av);
    }
  }
  return out;
}

