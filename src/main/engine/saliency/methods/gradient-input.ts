/**
 * Gradient x (reference - input): the first-order estimate of what occluding each pixel with the
 * reference colour does to the score, i.e. paper 003's occlusion quantity by Taylor expansion,
 * from one backward pass instead of one forward pass per patch. Each face is compared with the
 * occluder, never with the other face's pixels.
 */
import type { Explainer } from '../explainer';
import { cosineSeed, dims, embeddingOf } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export const gradientInput: Explainer = {
  id: 'gradient-input',
  label: SALIENCY_METHOD_LABELS['gradient-input'],
  contrastive: false,
  async run(rt, input) {
    const { width, height, channels } = dims(rt, input.model);
    const seed = cosineSeed(await embeddingOf(rt, input), input.target.vector);
    const signal = (await rt.backward(input.model, 'gradient', 'embedding', [], input.crop, 1, seed, [1, seed.length]))['signal']!.data;
    const [lo, hi] = rt.entry(input.model).input.range;
    const ref = input.reference ?? [0, 1, 2].map(() => (lo + hi) / 2);
    const out = new Float32Array(width * height);
    for (let p = 0; p < out.length; p++) {
      let v = 0;
      for (let c = 0; c < channels; c++) v += signal[p * channels + c]! * (ref[c % ref.length]! - input.crop[p * channels + c]!);
      out[p] = Math.abs(v);
    }
    return { data: out, passes: 1 };
  },
};
