/** Uniform random map: the hiding game's baseline (paper 001 Fig. 5). */
import type { Explainer } from '../explainer';
import { randomMap } from '../maps';
import { dims } from './common';

export const random: Explainer = {
  id: 'random',
  label: 'Random (baseline)',
  contrastive: false,
  smooth: false,
  async run(rt, input) {
    const { width, height } = dims(rt, input.model);
    return { data: randomMap(width, height, input.seed ?? 1).data, passes: 0 };
  },
};
