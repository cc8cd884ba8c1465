/** Guided backpropagation (Springenberg et al.; paper 002 Algorithm 1): only positive evidence passes each ReLU. */
import type { Explainer } from '../explainer';
import type { SaliencyRuntime } from '../runtime';
import type { ExplainInput } from '../explainer';
import { cosineSeed, embeddingOf, inputSignal } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

/** GB(y, X) of paper 002 for target vector y: per pixel, the largest channel of the guided signal. */
export async function guidedMap(rt: SaliencyRuntime, input: ExplainInput, target: Float32Array, e?: Float32Array): Promise<Float32Array> {
  const seed = cosineSeed(e ?? (await embeddingOf(rt, input)), target);
  return inputSignal(rt, input, 'guided', seed, 'max');
}

export const guided: Explainer = {
  id: 'guided',
  label: SALIENCY_METHOD_LABELS.guided,
  contrastive: false,
  async run(rt, input) {
    return { data: await guidedMap(rt, input, input.target.vector), passes: 1 };
  },
};
