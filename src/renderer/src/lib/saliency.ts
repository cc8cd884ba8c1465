/**
 * Renderer-side helpers for saliency maps and the hiding game: paper 002's "top 5 % only" view,
 * and the hiding-game curve spec for vega-embed.
 */
import { SALIENCY_METHODS, type HidingGameResult } from '../../../shared/contract';

export type SaliencyMethod = (typeof SALIENCY_METHODS)[number];
/** Methods that need a contrast target (cEBP and its truncated form, paper 001; GB difference, paper 002). */
export const CONTRASTIVE: readonly SaliencyMethod[] = ['cebp', 'tcebp', 'saliency-difference'];

export const METHOD_LABELS: Record<SaliencyMethod, string> = {
  gradient: 'Gradient',
  'gradient-input': 'Gradient × (reference − input)',
  guided: 'Guided backprop',
  deconvnet: 'Deconvnet',
  gradcam: 'Grad-CAM',
  'guided-gradcam': 'Guided Grad-CAM',
  ebp: 'Excitation backprop',
  cebp: 'Contrastive EBP',
  tcebp: 'Truncated cEBP',
  'saliency-difference': 'Saliency difference',
  random: 'Random (baseline)',
};

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

type Cell = HidingGameResult['cells'][number];

/** Paper 001 Fig. 5: % identified (rank 1) or verified vs % of the face hidden, one line per method. */
export function hidingGameSpec(cells: Cell[], replacement: Cell['replacement'], metric: 'rank1' | 'verified', title: string): unknown {
  const values = cells
    .filter((c) => c.replacement === replacement)
    .map((c) => ({ method: METHOD_LABELS[c.method] ?? c.method, hidden: 100 * c.level, correct: 100 * c[metric] }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // The replacement goes in the title: VegaChart's dark theme does not colour subtitles.
    title: { text: `${title} · replacement: ${replacement}` },
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'hidden', type: 'quantitative', title: '% of the face hidden (least important first)', scale: { domain: [0, 100] } },
      y: { field: 'correct', type: 'quantitative', title: metric === 'rank1' ? '% identified at rank 1' : '% verified at the threshold', scale: { domain: [0, 100] } },
      color: { field: 'method', type: 'nominal', title: 'method' },
    },
  };
}
