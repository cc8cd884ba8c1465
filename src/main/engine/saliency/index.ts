/**
 * Saliency for face recognizers (papers 001 and 002): the methods, one module each on the
 * explainer interface, and `explain`, which runs one and post-processes its map as paper 001 does.
 */
import { SALIENCY_METHODS } from '../../../shared/contract';
import type { ExplainInput, Explainer } from './explainer';
import { postprocess, unitMass } from './maps';
import { cebp } from './methods/cebp';
import { deconvnet } from './methods/deconvnet';
import { ebp } from './methods/ebp';
import { gradcam } from './methods/gradcam';
import { gradient } from './methods/gradient';
import { gradientInput } from './methods/gradient-input';
import { guided } from './methods/guided';
import { guidedGradcam } from './methods/guided-gradcam';
import { random } from './methods/random';
import { saliencyDifference } from './methods/saliency-difference';
import { tcebp } from './methods/tcebp';
import type { SaliencyRuntime } from './runtime';

export type { ExplainInput, Explainer, Target, TargetKind } from './explainer';

export const EXPLAINERS: readonly Explainer[] = [gradient, gradientInput, guided, deconvnet, gradcam, guidedGradcam, ebp, cebp, tcebp, saliencyDifference, random];
export const METHOD_IDS = SALIENCY_METHODS;
export type MethodId = (typeof SALIENCY_METHODS)[number];

export function explainer(id: string): Explainer {
  const e = EXPLAINERS.find((x) => x.id === id);
  if (!e) throw new Error(`unknown saliency method "${id}"; known: ${EXPLAINERS.map((x) => x.id).join(', ')}`);
  return e;
}

export interface SaliencyResult {
  method: MethodId;
  model: string;
  width: number;
  height: number;
  /** Post-processed: smoothed (sigma = 2 % of width) and unit mass. */
  map: Float32Array;
  /** Before smoothing, unit mass (negative values clipped). */
  raw: Float32Array;
  target: { kind: string; label: string };
  contrast: { kind: string; label: string } | null;
  passes: number;
  millis: number;
}

export async function explain(rt: SaliencyRuntime, method: MethodId, input: ExplainInput): Promise<SaliencyResult> {
  const e = explainer(method);
  const { width, height } = rt.entry(input.model).input;
  const t0 = performance.now();
  const raw = await e.run(rt, input);
  if (raw.data.length !== width * height) throw new Error(`${method} returned ${raw.data.length} values for a ${width}x${height} crop`);
  for (const v of raw.data) if (!Number.isFinite(v)) throw new Error(`${method} produced a non-finite value on ${input.model}`);
  const map = postprocess({ width, height, data: raw.data }).data;
  return {
    method,
    model: input.model,
    width,
    height,
    map,
    raw: unitMass(raw.data),
    target: { kind: input.target.kind, label: input.target.label },
    contrast: e.contrastive && input.contrast ? { kind: input.contrast.kind, label: input.contrast.label } : null,
    passes: raw.passes,
    millis: performance.now() - t0,
  };
}
