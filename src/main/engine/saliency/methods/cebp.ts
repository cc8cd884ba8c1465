/**
 * Contrastive excitation backprop (paper 001 Eq. 2): the target's EBP map minus the contrast's
 * ("not-class": the mean over other identities), both unit mass; post-processing keeps the
 * positive part and smooths it (001 Fig. 6 c).
 */
import type { Explainer } from '../explainer';
import { excitationMap, requireContrast } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const cebp: Explainer = {
  id: 'cebp',
  label: SALIENCY_METHOD_LABELS.cebp,
  contrastive: true,
  async run(rt, input) {
    const contrast = requireContrast(input, 'cebp');
    const p = await excitationMap(rt, input, input.target.vector);
    const n = await excitationMap(rt, input, contrast.vector);
    return { data: Float32Array.from(p.map, (v, i) => v - n.map[i]!), passes: p.passes + n.passes };
  },
};
