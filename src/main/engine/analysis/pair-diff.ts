/**
 * Pair-difference maps by pairwise occlusion (paper 003, Algorithm 1): both aligned faces are
 * covered at the same k x k patch with the reference-set mean, re-embedded, and the change of
 * their distance, d1 - d2 (original minus occluded cosine distance), is accumulated over the
 * patch's pixels and averaged by coverage. Positive values mark where the network sees the two
 * faces differ (covering them brings the faces closer); negative values, what makes them similar.
 *
 * Works on any embedding function (`Embedder`): the real recognizers through the inference
 * service, or a tiny known function in tests. Occluded images are embedded in batches.
 */

import { cosine } from './verification';

/** Embeds `n` images (NHWC, the model's input range) and returns one vector per image. */
export type Embedder = (images: Float32Array, n: number) => Promise<Float32Array[]>;

/** Which images are occluded: both (the paper's pair map), or only the first or second. */
export type OcclusionMode = 'pair' | 'a' | 'b';

export interface OcclusionGrid {
  /** Patch side, crop pixels. */
  patch: number;
  /** Step between patch positions, crop pixels. */
  stride: number;
}

export interface PairDiffOptions extends OcclusionGrid {
  mode?: OcclusionMode;
  /** Occluder value per channel, in the model's input range (the reference set's mean colour). */
  fill: number[];
  /** Images per forward batch. */
  batch?: number;
  /**
   * Coarse-to-fine: a coarse grid first, then the fine grid only where the coarse map reaches
   * `keep` x its maximum. Unrefined pixels keep the coarse values, rescaled to the fine scale.
   */
  refine?: { patch: number; stride: number; keep: number };
}

export interface PairDiffMap {
  width: number;
  height: number;
  /** Cosine distance of the unoccluded pair. */
  distance: number;
  /** Signed mean of d1 - d2 per pixel (0 where no patch covered it). */
  delta: Float32Array;
  /** Embeddings computed, the unoccluded pair included. */
  forwardPasses: number;
  mode: OcclusionMode;
  grid: OcclusionGrid;
  refined: boolean;
  /** Every occlusion measured: the patch and its d1 - d2 (for attributions that undo the patch blur). */
  samples: OcclusionSample[];
}

export interface OcclusionSample {
  x: number;
  y: number;
  size: number;
  change: number;
}

export function cosineDistance(a: Float32Array, b: Float32Array): number {
  return 1 - cosine(a, b);
}

/** Patch origins along one axis, the last one flush with the edge so every pixel is covered. */
export function patchOrigins(size: number, patch: number, stride: number): number[] {
  if (patch < 1 || stride < 1) throw new Error('patch and stride must be at least 1 pixel');
  if (patch > size) throw new Error(`a ${patch}-pixel patch does not fit a ${size}-pixel crop`);
  const out: number[] = [];
  for (let p = 0; p <= size - patch; p += stride) out.push(p);
  if (out[out.length - 1] !== size - patch) out.push(size - patch);
  return out;
}

interface Position {
  x: number;
  y: number;
  size: number;
}

function occlude(src: Float32Array, width: number, pos: Position, fill: number[], out: Float32Array, offset: number): void {
  out.set(src, offset);
  for (let y = pos.y; y < pos.y + pos.size; y++) {
    let o = offset + (y * width + pos.x) * 3;
    for (let x = 0; x < pos.size; x++, o += 3) {
      out[o] = fill[0]!;
      out[o + 1] = fill[1]!;
      out[o + 2] = fill[2]!;
    }
  }
}

/** Runs the occlusions at `positions` and accumulates d1 - d2 into `sum` / `count`. */
async function occlusionPass(
  a: Float32Array,
  b: Float32Array,
  width: number,
  height: number,
  ea: Float32Array,
  eb: Float32Array,
  positions: Position[],
  opts: Required<Pick<PairDiffOptions, 'mode' | 'fill' | 'batch'>>,
  embed: Embedder,
  sum: Float64Array,
  count: Uint32Array,
  samples: OcclusionSample[],
): Promise<number> {
  const size = width * height * 3;
  const perPos = opts.mode === 'pair' ? 2 : 1;
  const d1 = cosineDistance(ea, eb);
  const step = Math.max(1, Math.floor(opts.batch / perPos));
  let passes = 0;
  for (let start = 0; start < positions.length; start += step) {
    const chunk = positions.slice(start, start + step);
    const n = chunk.length * perPos;
    const images = new Float32Array(n * size);
    chunk.forEach((pos, i) => {
      if (opts.mode === 'pair') {
        occlude(a, width, pos, opts.fill, images, 2 * i * size);
        occlude(b, width, pos, opts.fill, images, (2 * i + 1) * size);
      } else occlude(opts.mode === 'a' ? a : b, width, pos, opts.fill, images, i * size);
    });
    const out = await embed(images, n);
    passes += n;
    chunk.forEach((pos, i) => {
      const [xa, xb] = opts.mode === 'pair' ? [out[2 * i]!, out[2 * i + 1]!] : opts.mode === 'a' ? [out[i]!, eb] : [ea, out[i]!];
      const change = d1 - cosineDistance(xa, xb);
      samples.push({ x: pos.x, y: pos.y, size: pos.size, change });
      for (let y = pos.y; y < pos.y + pos.size; y++) {
        for (let x = pos.x, p = y * width + pos.x; x < pos.x + pos.size; x++, p++) {
          sum[p] = sum[p]! + change;
          count[p] = count[p]! + 1;
        }
      }
    });
  }
  return passes;
}

function grid(width: number, height: number, patch: number, stride: number): Position[] {
  const xs = patchOrigins(width, patch, stride);
  return patchOrigins(height, patch, stride).flatMap((y) => xs.map((x) => ({ x, y, size: patch })));
}

/**
 * The pair-difference map of two aligned crops of the same recognizer (NHWC, the model's input
 * range). Unnormalized: apply `thetaNormalize` for display.
 */
export async function pairDifference(a: Float32Array, b: Float32Array, width: number, height: number, embed: Embedder, options: PairDiffOptions): Promise<PairDiffMap> {
  if (a.length !== width * height * 3 || b.length !== a.length) throw new Error(`both crops must be ${width}x${height}x3`);
  if (options.fill.length !== 3) throw new Error('the occluder needs one value per channel');
  const mode = options.mode ?? 'pair';
  const opts = { mode, fill: options.fill, batch: options.batch ?? 16 };
  const [ea, eb] = await embed(Float32Array.from([...a, ...b]), 2);
  let passes = 2;
  const n = width * height;
  const sum = new Float64Array(n);
  const count = new Uint32Array(n);
  const delta = new Float32Array(n);
  const samples: OcclusionSample[] = [];

  if (!options.refine) {
    passes += await occlusionPass(a, b, width, height, ea!, eb!, grid(width, height, options.patch, options.stride), opts, embed, sum, count, samples);
    for (let i = 0; i < n; i++) delta[i] = count[i] ? sum[i]! / count[i]! : 0;
    return { width, height, distance: cosineDistance(ea!, eb!), delta, forwardPasses: passes, mode, grid: { patch: options.patch, stride: options.stride }, refined: false, samples };
  }

  // Coarse pass.
  const cSum = new Float64Array(n);
  const cCount = new Uint32Array(n);
  passes += await occlusionPass(a, b, width, height, ea!, eb!, grid(width, height, options.refine.patch, options.refine.stride), opts, embed, cSum, cCount, samples);
  const coarse = new Float32Array(n);
  let cMax = 0;
  for (let i = 0; i < n; i++) {
    coarse[i] = cCount[i] ? cSum[i]! / cCount[i]! : 0;
    if (coarse[i]! > cMax) cMax = coarse[i]!;
  }
  // Fine pass only over patches that touch the high coarse region.
  const cut = options.refine.keep * cMax;
  const fine = grid(width, height, options.patch, options.stride).filter((pos) => {
    if (cMax <= 0) return false;
    for (let y = pos.y; y < pos.y + pos.size; y++) for (let x = pos.x; x < pos.x + pos.size; x++) if (coarse[y * width + x]! >= cut) return true;
    return false;
  });
  passes += await occlusionPass(a, b, width, height, ea!, eb!, fine, opts, embed, sum, count, samples);
  // Rescale coarse values to the fine patches' magnitude where both were measured.
  let fineMass = 0;
  let coarseMass = 0;
  for (let i = 0; i < n; i++) {
    if (!count[i]) continue;
    fineMass += Math.abs(sum[i]! / count[i]!);
    coarseMass += Math.abs(coarse[i]!);
  }
  const scale = coarseMass > 0 ? fineMass / coarseMass : 1;
  for (let i = 0; i < n; i++) delta[i] = count[i] ? sum[i]! / count[i]! : coarse[i]! * scale;
  return { width, height, distance: cosineDistance(ea!, eb!), delta, forwardPasses: passes, mode, grid: { patch: options.patch, stride: options.stride }, refined: true, samples };
}

/** Paper 003, eq. (1): max(0, min(1, delta / theta)). */
export function thetaNormalize(delta: Float32Array, theta: number): Float32Array {
  if (!(theta > 0)) throw new Error('theta must be positive');
  return delta.map((d) => Math.max(0, Math.min(1, d / theta)));
}

/** The map's maximum after clamping negatives to 0: what Theta is calibrated on. */
export function maxDelta(delta: Float32Array): number {
  let m = 0;
  for (const d of delta) if (d > m) m = d;
  return m;
}

/**
 * Per-region effect of a difference, undoing the patch blur: every occlusion's positive change is
 * modelled as the sum over regions of (pixels of the region the patch covers) x (that region's
 * effect per pixel), solved by non-negative least squares (cyclic coordinate descent; a handful of
 * unknowns). A pixel map spreads a difference over every pixel within a patch of it, so a small
 * part next to a large changed one soaks up its mass; the regression does not.
 * `regions` are masks (0..1 per pixel, width x height); pixels in none form one more, implicit region.
 */
export function regionEffects(samples: OcclusionSample[], regions: Float32Array[], width: number): number[] {
  const k = regions.length + 1;
  const rows = samples.map((s) => {
    const cover = new Float64Array(k);
    for (let y = s.y; y < s.y + s.size; y++) {
      for (let x = s.x; x < s.x + s.size; x++) {
        const p = y * width + x;
        let inside = 0;
        for (let j = 0; j < regions.length; j++) {
          const w = regions[j]![p]!;
          cover[j] = cover[j]! + w;
          inside += w;
        }
        cover[k - 1] = cover[k - 1]! + Math.max(0, 1 - inside);
      }
    }
    return { cover, target: Math.max(0, s.change) };
  });
  const x = new Float64Array(k);
  const norms = Array.from({ length: k }, (_, j) => rows.reduce((acc, r) => acc + r.cover[j]! ** 2, 0));
  const residual = rows.map((r) => r.target);
  for (let iter = 0; iter < 300; iter++) {
    let moved = 0;
    for (let j = 0; j < k; j++) {
      if (!norms[j]) continue;
      let g = 0;
      rows.forEach((r, i) => (g += r.cover[j]! * residual[i]!));
      const next = Math.max(0, x[j]! + g / norms[j]!);
      const step = next - x[j]!;
      if (step === 0) continue;
      rows.forEach((r, i) => (residual[i] = residual[i]! - step * r.cover[j]!));
      x[j] = next;
      moved = Math.max(moved, Math.abs(step));
    }
    if (moved < 1e-12) break;
  }
  return Array.from(x.subarray(0, regions.length));
}
