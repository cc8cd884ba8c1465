/**
 * Truncated contrastive EBP (paper 001 section V-B): both EBP maps are set to zero where they fall
 * below epsilon and renormalized before subtracting, so the contrast stays inside the support of
 * the excitation (plain cEBP puts mass on hair and clothes when a near-perfect portrait spreads its
 * excitation). T = max(tr(P)/|tr(P)| - tr(N)/|tr(N)|, 0).
 */
import type { Explainer } from '../explainer';
import { unitMass } from '../maps';
import { excitationMap, requireContrast } from './common';
import { SALIENCY_METHOD_LABELS } from '../../../../shared/saliency';

export function truncate(map: Float32Array, epsilon: number): Float32Array {
  return unitMass(Float32Array.from(map, (v) => (v > epsilon ? v : 0)));
}

export function truncatedContrast(p: Float32Array, n: Float32Array, epsilon: number): Float32Array {
  const tp = truncate(p, epsilon);
  const tn = truncate(n, epsilon);
  return Float32Array.from(tp, (v, i) => Math.max(v - tn[i]!, 0));
}

export const tcebp: Explainer = {
  id: 'tcebp',
  label: SALIENCY_METHOD_LABELS.tcebp,
  contrastive: true,
  async run(rt, input) {
    const contrast = requireContrast(input, 'tcebp');
    if (input.epsilon === undefined || !(input.epsilon >= 0)) {
      throw new Error('tcebp needs epsilon (the 70th percentile of EBP maps on a validation set; see resources/models/saliency.json)');
    }
    const p = await excitationMap(rt, input, input.target.vector);
    const n = await excitationMap(rt, input, contrast.vector);
    return { data: truncatedContrast(p.map, n.map, input.epsilon), passes: p.passes + n.passes };
  },
};
