/**
 * The hiding game (paper 001, sections IV-C and V-C): hide the least important pixels of a face by a
 * saliency map (50, 70, 90, 99 %), replace them with zero, the reference mean colour, or the mean
 * through a soft (blurred) mask, and measure how often the recognizer still identifies the person:
 *  - rank-1 identification among a gallery of identity templates (mean embeddings),
 *  - verification against one other portrait of the person at the calibrated threshold.
 * A map that orders pixels by their real importance keeps the person identifiable with more hidden
 * than a random map does.
 *
 * The contrastive game (V-C) asks what makes a person unique: the gallery is the person and their
 * closest look-alike identities (their templates' nearest neighbours), and the contrastive methods
 * are contrasted with the mean of those look-alikes.
 */
import type { Target } from './explainer';
import { explain, explainer, type MethodId } from './index';
import { rankOrder, smoothingSigma } from './maps';
import { normalized } from './methods/common';
import type { SaliencyRuntime } from './runtime';
import { gaussianBlur } from '../vision/part-swap';
import { toModelRange } from '../vision/pipeline';

export const LEVELS = [0.5, 0.7, 0.9, 0.99] as const;
export const REPLACEMENTS = ['zero', 'mean', 'mean-soft'] as const;
export type Replacement = (typeof REPLACEMENTS)[number];

/**
 * The crop (0..255 NHWC) with the `share` least important pixels of `map` replaced. 'mean-soft'
 * blends through the keep-mask blurred with the maps' own smoothing sigma (paper 001 Fig. 4, middle
 * row), so hiding leaves no hard edges for the recognizer to respond to.
 */
export function hide(crop255: Float32Array, map: Float32Array, width: number, height: number, share: number, replacement: Replacement, fill: readonly [number, number, number]): Float32Array {
  const n = width * height;
  if (map.length !== n || crop255.length !== n * 3) throw new Error(`hide: a ${width}x${height} map and RGB crop are needed`);
  const order = rankOrder(map);
  const keep = new Float32Array(n).fill(1);
  const hidden = Math.round(Math.min(1, Math.max(0, share)) * n);
  for (let k = 0; k < hidden; k++) keep[order[k]!] = 0;
  const alpha = replacement === 'mean-soft' ? gaussianBlur(keep, width, height, smoothingSigma(width)) : keep;
  const colour = replacement === 'zero' ? [0, 0, 0] : fill;
  const out = new Float32Array(crop255.length);
  for (let p = 0; p < n; p++) {
    const a = alpha[p]!;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = a * crop255[p * 3 + c]! + (1 - a) * colour[c]!;
  }
  return out;
}

export interface GameFace {
  identity: string;
  /** Aligned crop, 0..255 NHWC, for the game's recognizer. */
  crop255: Float32Array;
}

export interface GameSubject {
  identity: string;
  probe: GameFace;
  /** Other portraits of the person: their mean embedding is the template, the first one the verification reference. */
  gallery: GameFace[];
}

export interface GameOptions {
  model: string;
  methods: MethodId[];
  levels?: readonly number[];
  replacements?: readonly Replacement[];
  /** Reference mean colour, 0..255 (the occluder colour measured on aligned reference faces). */
  fill: readonly [number, number, number];
  /** Verification threshold on cosine similarity (the calibrated one for this recognizer). */
  threshold: number;
  /** Truncated cEBP's epsilon. */
  epsilon?: number;
  /** Contrastive game: gallery = the person + this many nearest identities (default 5). */
  lookalikes?: number;
  contrastive?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GameCell {
  method: MethodId;
  replacement: Replacement;
  /** Share of the crop hidden; 0 is the untouched face. */
  level: number;
  /** Share of probes identified at rank 1 among the gallery's templates. */
  rank1: number;
  /** Share of probes whose similarity to their reference portrait stays at or above the threshold. */
  verified: number;
  n: number;
}

export interface GameResult {
  model: string;
  contrastive: boolean;
  identities: number;
  probes: number;
  cells: GameCell[];
  /** Mean time per map, per method (ms). */
  millis: Record<string, number>;
}

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / (Math.sqrt(na * nb) || 1);
}

function meanOf(vectors: Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  for (const v of vectors) {
    const u = normalized(v);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + u[i]! / vectors.length;
  }
  return normalized(out);
}

export async function playHidingGame(rt: SaliencyRuntime, subjects: GameSubject[], options: GameOptions): Promise<GameResult> {
  const entry = rt.entry(options.model);
  const { width, height } = entry.input;
  const range = entry.input.range;
  const levels = options.levels ?? LEVELS;
  const replacements = options.replacements ?? REPLACEMENTS;
  const contrastive = options.contrastive ?? false;
  for (const m of options.methods) explainer(m);
  if (subjects.length < 2) throw new Error('the hiding game needs at least two identities');
  const embed = async (crops255: Float32Array[]): Promise<Float32Array[]> => {
    const size = width * height * 3;
    const batch = new Float32Array(crops255.length * size);
    crops255.forEach((c, i) => batch.set(toModelRange(c, range), i * size));
    const { embedding } = await rt.forward(options.model, batch, crops255.length);
    const dim = embedding.data.length / crops255.length;
    return crops255.map((_, i) => embedding.data.slice(i * dim, (i + 1) * dim));
  };

  // Templates from the gallery portraits only: the probe never contributes to its own target.
  const templates = new Map<string, Float32Array>();
  const references = new Map<string, Float32Array>();
  for (const s of subjects) {
    if (!s.gallery.length) throw new Error(`${s.identity} has no gallery portrait besides the probe`);
    const g = await embed(s.gallery.map((f) => f.crop255));
    templates.set(s.identity, meanOf(g));
    references.set(s.identity, g[0]!);
  }
  const ids = [...templates.keys()];
  const k = options.lookalikes ?? 5;
  const galleryOf = (id: string): string[] => {
    if (!contrastive) return ids;
    const own = templates.get(id)!;
    const others = ids.filter((x) => x !== id).sort((a, b) => cos(templates.get(b)!, own) - cos(templates.get(a)!, own));
    return [id, ...others.slice(0, k)];
  };

  const counts = new Map<string, { rank1: number; verified: number; n: number }>();
  const bump = (key: string, rank1: boolean, verified: boolean): void => {
    const c = counts.get(key) ?? { rank1: 0, verified: 0, n: 0 };
    c.rank1 += rank1 ? 1 : 0;
    c.verified += verified ? 1 : 0;
    c.n += 1;
    counts.set(key, c);
  };
  const millis: Record<string, number[]> = {};
  const total = subjects.length * options.methods.length;
  let done = 0;
  for (const s of subjects) {
    const gallery = galleryOf(s.identity);
    const score = (e: Float32Array): { rank1: boolean; verified: boolean } => {
      const own = cos(e, templates.get(s.identity)!);
      const best = Math.max(...gallery.filter((g) => g !== s.identity).map((g) => cos(e, templates.get(g)!)));
      return { rank1: own > best, verified: cos(e, references.get(s.identity)!) >= options.threshold };
    };
    const others = gallery.filter((g) => g !== s.identity).map((g) => templates.get(g)!);
    const target: Target = { kind: 'class', label: s.identity, vector: templates.get(s.identity)! };
    const contrast: Target = { kind: 'not-class', label: contrastive ? `look-alikes of ${s.identity}` : `not ${s.identity}`, vector: meanOf(others) };
    const [plain] = await embed([s.probe.crop255]);
    const base = score(plain!);
    for (const method of options.methods) {
      if (options.signal?.aborted) throw new Error('cancelled');
      const result = await explain(rt, method, {
        model: options.model,
        crop: toModelRange(s.probe.crop255, range),
        target,
        contrast,
        reference: options.fill.map((v) => range[0] + (v * (range[1] - range[0])) / 255),
        ...(options.epsilon !== undefined ? { epsilon: options.epsilon } : {}),
        seed: done + 1,
      });
      (millis[method] ??= []).push(result.millis);
      for (const r of replacements) bump(`${method}|${r}|0`, base.rank1, base.verified);
      const variants: { r: Replacement; level: number }[] = replacements.flatMap((r) => levels.map((level) => ({ r, level })));
      const hidden = await embed(variants.map((v) => hide(s.probe.crop255, result.map, width, height, v.level, v.r, options.fill)));
      variants.forEach((v, i) => {
        const sc = score(hidden[i]!);
        bump(`${method}|${v.r}|${v.level}`, sc.rank1, sc.verified);
      });
      options.onProgress?.(++done, total);
    }
  }
  const cells: GameCell[] = [];
  for (const method of options.methods) {
    for (const replacement of replacements) {
      for (const level of [0, ...levels]) {
        const c = counts.get(`${method}|${replacement}|${level}`)!;
        cells.push({ method, replacement, level, rank1: c.rank1 / c.n, verified: c.verified / c.n, n: c.n });
      }
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    model: options.model,
    contrastive,
    identities: subjects.length,
    probes: subjects.length,
    cells,
    millis: Object.fromEntries(Object.entries(millis).map(([m, xs]) => [m, mean(xs)])),
  };
}
