/**
 * Renderer-side helpers for saliency maps and the hiding game: paper 002's "top 5 % only" view,
 * and the hiding-game curve spec for vega-embed (shared with the engine).
 */
import { SALIENCY_METHOD_LABELS, type SaliencyMethod } from '../../../shared/saliency';

export { hidingGameSpec } from '../../../shared/saliency';
export type { SaliencyMethod };

/** Methods that need a contrast target (cEBP and its truncated form, paper 001; GB difference, paper 002). */
export const CONTRASTIVE: readonly SaliencyMethod[] = ['cebp', 'tcebp', 'saliency-difference'];

export const METHOD_LABELS = SALIENCY_METHOD_LABELS;

/**
 * Paper 002's view: "mask out all but the top 5 percent of pixels by intensity". Keeps the values
 * at or above the (1 - share) quantile, zero elsewhere; ties at the cut are all kept.
 */
export function topShare(values: ArrayLike<number>, share: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const keep = Math.max(1, Math.round(sorted.length * share));
  const cut = sorted[sorted.length - keep] ?? 0;
  return Array.from(values, (v) => (v >= cut && v > 0 ? v : 0));
}
