/**
 * Grad-CAM (Selvaraju et al.): the last feature map's channels weighted by their spatially averaged
 * score gradient, ReLU, resized to the crop. Coarse (7x7 for faceres, 4x4 mobileface, 2x2
 * faceapi-resnet) by construction.
 */
import type { Explainer, ExplainInput } from '../explainer';
import { resizeBilinear } from '../maps';
import type { SaliencyRuntime } from '../runtime';
import { cosineSeed, dims, embeddingOf, featureGradient } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export async function gradCamMap(rt: SaliencyRuntime, input: ExplainInput): Promise<Float32Array> {
  const seed = cosineSeed(await embeddingOf(rt, input), input.target.vector);
  const { grad, activation } = await featureGradient(rt, input, seed);
  const [, c, h, w] = activation.dims as [number, number, number, number];
  const cam = new Float32Array(h * w);
  for (let k = 0; k < c; k++) {
    let alpha = 0;
    for (let i = 0; i < h * w; i++) alpha += grad.data[k * h * w + i]!;
    alpha /= h * w;
    for (let i = 0; i < h * w; i++) cam[i] = cam[i]! + alpha * activation.data[k * h * w + i]!;
  }
  for (let i = 0; i < cam.length; i++) cam[i] = Math.max(cam[i]!, 0);
  const { width, height } = dims(rt, input.model);
  return resizeBilinear(cam, w, h, width, height);
}

export const gradcam: Explainer = {
  id: 'gradcam',
  label: SALIENCY_METHOD_LABELS.gradcam,
  contrastive: false,
  async run(rt, input) {
    return { data: await gradCamMap(rt, input), passes: 1 };
  },
};
