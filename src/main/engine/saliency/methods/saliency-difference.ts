/**
 * Saliency difference (paper 002 Eq. 1): ReLU(GB(y, X) - GB(z, X)), what makes this face look like
 * y rather than z.
 */
import type { Explainer } from '../explainer';
import { embeddingOf, requireContrast } from './common';
import { guidedMap } from './guided';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const saliencyDifference: Explainer = {
  id: 'saliency-difference',
  label: SALIENCY_METHOD_LABELS['saliency-difference'],
  contrastive: true,
  async run(rt, input) {
    const contrast = requireContrast(input, 'saliency-difference');
    const e = await embeddingOf(rt, input);
    const y = await guidedMap(rt, input, input.target.vector, e);
    const z = await guidedMap(rt, input, contrast.vector, e);
    return { data: Float32Array.from(y, (v, i) => Math.max(v - z[i]!, 0)), passes: 2 };
  },
};
