/** Gradient saliency (Simonyan et al., as paper 001 uses it): max over colour channels of |d score / d pixel|. */
import type { Explainer } from '../explainer';
import { cosineSeed, embeddingOf, inputSignal } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const gradient: Explainer = {
  id: 'gradient',
  label: SALIENCY_METHOD_LABELS.gradient,
  contrastive: false,
  async run(rt, input) {
    const seed = cosineSeed(await embeddingOf(rt, input), input.target.vector);
    return { data: await inputSignal(rt, input, 'gradient', seed, 'maxabs'), passes: 1 };
  },
};
