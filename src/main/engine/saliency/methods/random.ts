/**
 * Uniform random map: the hiding game's baseline (paper 001 Fig. 5). It is post-processed like
 * every other map, so what it hides are blobs at the maps' own spatial scale: unsmoothed, a soft
 * mask over scattered pixels only dims the whole face, which a cosine recognizer barely notices.
 */
import type { Explainer } from '../explainer';
import { randomMap } from '../maps';
import { dims } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const random: Explainer = {
  id: 'random',
  label: SALIENCY_METHOD_LABELS.random,
  contrastive: false,
  async run(rt, input) {
    const { width, height } = dims(rt, input.model);
    return { data: randomMap(width, height, input.seed ?? 1).data, passes: 0 };
  },
};
