/** What the gradient-family methods share: seeds at the embedding, input-space maps, EBP. */
import type { ExplainInput } from '../explainer';
import { reduceChannels, unitMass } from '../maps';
import type { SaliencyRuntime, Tensor } from '../runtime';
import type { BackwardRule } from '../backward';

export function normalized(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return Float32Array.from(v, (x) => x / n);
}

/** d cos(e, t) / de: the score's gradient at the embedding, the seed of the gradient methods. */
export function cosineSeed(e: Float32Array, target: Float32Array): Float32Array {
  if (e.length !== target.length) throw new Error(`the target has ${target.length} dimensions; the recognizer's embedding has ${e.length}`);
  const t = normalized(target);
  let norm = 0;
  for (const x of e) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  let cos = 0;
  for (let i = 0; i < e.length; i++) cos += (e[i]! / norm) * t[i]!;
  return Float32Array.from(e, (x, i) => (t[i]! - (cos * x) / norm) / norm);
}

export function dims(rt: SaliencyRuntime, model: string): { width: number; height: number; channels: number } {
  const { width, height, channels } = rt.entry(model).input;
  return { width, height, channels };
}

/** Input-space signal of one backward pass from the embedding, reduced over colour channels. */
export async function inputSignal(rt: SaliencyRuntime, input: ExplainInput, rule: BackwardRule, seed: Float32Array, how: 'maxabs' | 'max' | 'sum'): Promise<Float32Array> {
  const { width, height, channels } = dims(rt, input.model);
  const out = await rt.backward(input.model, rule, 'embedding', [], input.crop, 1, seed, [1, seed.length]);
  return reduceChannels(out['signal']!.data, width, height, channels, how);
}

/** Score gradient at the last feature map (and the map itself), for Grad-CAM and the EBP seed. */
export async function featureGradient(rt: SaliencyRuntime, input: ExplainInput, seed: Float32Array): Promise<{ grad: Tensor; activation: Tensor; signal: Float32Array }> {
  if (!rt.hasFeatureMap(input.model)) throw new Error(`${input.model} exposes no feature_map output: Grad-CAM needs the last convolutional activation`);
  const out = await rt.backward(input.model, 'gradient', 'embedding', ['feature_map'], input.crop, 1, seed, [1, seed.length]);
  return { grad: out['signal:feature_map']!, activation: out['feature_map']!, signal: out['signal']!.data };
}

/**
 * Excitation backprop (paper 001 Eq. 1) for a target direction t. The target "neuron" is the
 * score <e, t>. Where the recognizer exposes its last feature map A and the score is linear in A
 * (global pooling and a linear head, as in all bundled recognizers), the top step is EBP's own
 * rule on that linear layer: P(A_i) ~ A_i+ * w_i+, with w = d<e,t>/dA (obtained by one gradient
 * pass); the excitation graph then carries P down to the pixels. Otherwise the walk starts at the
 * embedding with P(e_k) ~ max(e_k t_k, 0). Returns per-pixel probability mass, unit sum.
 */
export async function excitationMap(rt: SaliencyRuntime, input: ExplainInput, target: Float32Array): Promise<{ map: Float32Array; passes: number }> {
  const { width, height, channels } = dims(rt, input.model);
  const t = normalized(target);
  if (rt.hasFeatureMap(input.model)) {
    const { grad, activation } = await featureGradient(rt, input, t);
    const seed = new Float32Array(activation.data.length);
    for (let i = 0; i < seed.length; i++) seed[i] = Math.max(activation.data[i]!, 0) * Math.max(grad.data[i]!, 0);
    const p = unitMass(seed);
    const out = await rt.backward(input.model, 'excitation', 'feature_map', [], input.crop, 1, p, activation.dims);
    return { map: unitMass(reduceChannels(out['signal']!.data, width, height, channels, 'sum')), passes: 2 };
  }
  const { embedding } = await rt.forward(input.model, input.crop, 1);
  const e = embedding.data;
  if (e.length !== t.length) throw new Error(`the target has ${t.length} dimensions; the recognizer's embedding has ${e.length}`);
  const p = unitMass(Float32Array.from(e, (x, i) => x * t[i]!));
  const out = await rt.backward(input.model, 'excitation', 'embedding', [], input.crop, 1, p, [1, e.length]);
  return { map: unitMass(reduceChannels(out['signal']!.data, width, height, channels, 'sum')), passes: 1 };
}

export async function embeddingOf(rt: SaliencyRuntime, input: ExplainInput): Promise<Float32Array> {
  return (await rt.forward(input.model, input.crop, 1)).embedding.data;
}

export function requireContrast(input: ExplainInput, method: string): NonNullable<ExplainInput['contrast']> {
  if (!input.contrast) throw new Error(`${method} is contrastive: give a contrast target (not-class, or another identity)`);
  return input.contrast;
}
