/**
 * What the engine and the window both say about saliency methods: their names, and paper 001's
 * hiding-game curves as one Vega-Lite spec (the engine renders it to SVG/PNG for the CLI and
 * bench, the window draws it with vega-embed).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { HidingGameResult, SALIENCY_METHODS } from './contract';

export type SaliencyMethod = (typeof SALIENCY_METHODS)[number];
type Cell = HidingGameResult['cells'][number];

export const SALIENCY_METHOD_LABELS: Record<SaliencyMethod, string> = {
  gradient: 'Gradient',
  'gradient-input': 'Gradient × (reference − input)',
  guided: 'Guided backprop',
  deconvnet: 'Deconvnet',
  gradcam: 'Grad-CAM',
  'guided-gradcam': 'Guided Grad-CAM',
  ebp: 'Excitation backprop',
  cebp: 'Contrastive EBP',
  tcebp: 'Truncated cEBP',
  'saliency-difference': 'Saliency difference (GB)',
  random: 'Random (baseline)',
};

/** Paper 001 Fig. 5: % identified (rank 1) or verified against % of the face hidden, one line per method, for one replacement. */
export function hidingGameSpec(cells: readonly Cell[], replacement: Cell['replacement'], metric: 'rank1' | 'verified', title: string): TopLevelSpec {
  const values = cells
    .filter((c) => c.replacement === replacement)
    .map((c) => ({ method: SALIENCY_METHOD_LABELS[c.method], hidden: 100 * c.level, correct: 100 * c[metric] }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // The replacement goes in the title, not a subtitle: the window's dark theme leaves subtitles uncoloured.
    title: { text: `${title} · replacement: ${replacement}` },
    width: 420,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'hidden', type: 'quantitative', title: '% of the face hidden (least important first)', scale: { domain: [0, 100] } },
      y: { field: 'correct', type: 'quantitative', title: metric === 'rank1' ? '% identified at rank 1' : '% verified at the calibrated threshold', scale: { domain: [0, 100] } },
      color: { field: 'method', type: 'nominal', title: 'method', legend: { labelLimit: 280 } },
    },
  };
}
