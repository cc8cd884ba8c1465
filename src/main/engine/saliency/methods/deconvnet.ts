/** Deconvnet (Zeiler and Fergus): the backward signal with ReLU applied to it, not to the forward activations. */
import type { Explainer } from '../explainer';
import { cosineSeed, embeddingOf, inputSignal } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const deconvnet: Explainer = {
  id: 'deconvnet',
  label: SALIENCY_METHOD_LABELS.deconvnet,
  contrastive: false,
  async run(rt, input) {
    const seed = cosineSeed(await embeddingOf(rt, input), input.target.vector);
    return { data: await inputSignal(rt, input, 'deconvnet', seed, 'maxabs'), passes: 1 };
  },
};
