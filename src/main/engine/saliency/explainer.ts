/**
 * The shared explainer interface. A method turns (recognizer, aligned face, target[, contrast]) into
 * a raw map over the crop; `explain` (index.ts) adds paper 001's post-processing. Targets are
 * directions in embedding space because recognizers have no class scores (issue 7):
 *  - pair: the embedding of a reference face (score = cosine similarity to it),
 *  - class: an identity's mean embedding (its other portraits),
 *  - not-class: the mean over other identities (the "everyone else" of contrastive EBP, 001 Eq. 2).
 */
import type { SaliencyRuntime } from './runtime';

export type TargetKind = 'pair' | 'class' | 'not-class';

export interface Target {
  kind: TargetKind;
  /** Who or what the target stands for, for display and provenance. */
  label: string;
  /** A direction in the recognizer's embedding space (normalized by the methods). */
  vector: Float32Array;
}

export interface ExplainInput {
  model: string;
  /** One aligned face, NHWC, in the recognizer's input range. */
  crop: Float32Array;
  target: Target;
  /** Contrastive methods: what the target is contrasted with (not-class, or another identity). */
  contrast?: Target;
  /** The occluder colour in the model's input range (gradient-input); default: mid-range grey. */
  reference?: readonly number[];
  /** Truncated cEBP's epsilon (paper 001: 70th percentile of EBP on a validation set). */
  epsilon?: number;
  /** Seed of the random baseline. */
  seed?: number;
}

export interface RawMap {
  /** Crop-sized, row-major; any sign (post-processing clips and normalizes). */
  data: Float32Array;
  /** Backward passes run (forward passes are not counted). */
  passes: number;
}

export interface Explainer {
  id: string;
  label: string;
  /** Needs `contrast`. */
  contrastive: boolean;
  run(rt: SaliencyRuntime, input: ExplainInput): Promise<RawMap>;
}
