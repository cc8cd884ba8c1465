/** Excitation backprop (Zhang et al.; paper 001 Eq. 1): top-down winning probabilities through positive weights. */
import type { Explainer } from '../explainer';
import { excitationMap } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const ebp: Explainer = {
  id: 'ebp',
  label: SALIENCY_METHOD_LABELS.ebp,
  contrastive: false,
  async run(rt, input) {
    const { map, passes } = await excitationMap(rt, input, input.target.vector);
    return { data: map, passes };
  },
};
