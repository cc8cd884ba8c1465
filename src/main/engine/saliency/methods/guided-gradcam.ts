/** Guided Grad-CAM (Selvaraju et al.): guided backprop, pixelwise times the resized Grad-CAM. */
import type { Explainer } from '../explainer';
import { gradCamMap } from './gradcam';
import { guidedMap } from './guided';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const guidedGradcam: Explainer = {
  id: 'guided-gradcam',
  label: SALIENCY_METHOD_LABELS['guided-gradcam'],
  contrastive: false,
  async run(rt, input) {
    const [gb, cam] = [await guidedMap(rt, input, input.target.vector), await gradCamMap(rt, input)];
    return { data: Float32Array.from(gb, (v, i) => Math.max(v, 0) * cam[i]!), passes: 2 };
  },
};
