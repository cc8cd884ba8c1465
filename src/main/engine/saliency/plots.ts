/**
 * Hiding-game curves as paper 001 Fig. 5 draws them, with Vega-Lite (analysis/plots.ts renders
 * SVG and PNG): left, every method with mean replacement through the soft mask; right, each
 * replacement strategy for EBP (or the first method played) against the random map.
 */
import type { TopLevelSpec } from 'vega-lite';
import { hidingGameSpec, SALIENCY_METHOD_LABELS } from '../../../shared/saliency';
import { writePlot } from '../analysis/plots';
import type { GameCell } from './hiding-game';

export function replacementSpec(cells: GameCell[], method: string, title: string): TopLevelSpec {
  const values = cells
    .filter((c) => c.method === method || c.method === 'random')
    .map((c) => ({ curve: `${SALIENCY_METHOD_LABELS[c.method]}, ${c.replacement}`, hidden: 100 * c.level, correct: 100 * c.rank1 }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: `${method} against the random map, per replacement` },
    width: 420,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'hidden', type: 'quantitative', title: '% of the face hidden', scale: { domain: [0, 100] } },
      y: { field: 'correct', type: 'quantitative', title: '% identified at rank 1', scale: { domain: [0, 100] } },
      color: { field: 'curve', type: 'nominal', title: 'map, replacement' },
    },
  };
}

export async function writeHidingGamePlots(dir: string, result: { cells: GameCell[]; contrastive: boolean; identities: number }, model: string): Promise<string[]> {
  const prefix = result.contrastive ? 'contrastive-hiding-game' : 'hiding-game';
  const title = `${result.contrastive ? 'Contrastive hiding game' : 'Hiding game'}: ${model}, ${result.identities} people`;
  const methods = [...new Set(result.cells.map((c) => c.method))];
  const lead = methods.includes('ebp') ? 'ebp' : methods.find((m) => m !== 'random');
  // Paper 001's main curves use the mean through the soft mask; a game without it shows what it played.
  const replacement = result.cells.some((c) => c.replacement === 'mean-soft') ? 'mean-soft' : (result.cells[0]?.replacement ?? 'mean-soft');
  const files = [
    ...(await writePlot(dir, `${prefix}-rank1`, hidingGameSpec(result.cells, replacement, 'rank1', title))),
    ...(await writePlot(dir, `${prefix}-verified`, hidingGameSpec(result.cells, replacement, 'verified', title))),
  ];
  if (lead && methods.includes('random')) files.push(...(await writePlot(dir, `${prefix}-replacements`, replacementSpec(result.cells, lead, title))));
  return files;
}
