/**
 * resources/models/manifest.json: what each ONNX file is, where it came from, and how to feed it.
 * Written by tools/models/build.ts; read (and checked) by the runtime and `facet doctor`.
 */
import { z } from 'zod';

export const ModelTask = z.enum(['recognizer', 'detector', 'landmarks', 'iris', 'segmentation']);
export type ModelTask = z.infer<typeof ModelTask>;

const Point = z.tuple([z.number(), z.number()]);

export const Alignment = z.discriminatedUnion('kind', [
  /** Similarity transform of five landmarks (eye centres, nose tip, mouth corners) onto `points`. */
  z.object({ kind: z.literal('five-point'), size: z.tuple([z.number().int(), z.number().int()]), points: z.array(Point).length(5) }),
  /** The detector's box, padded to a square, resized to `size`. */
  z.object({ kind: z.literal('box'), size: z.tuple([z.number().int(), z.number().int()]), margin: z.number() }),
  z.object({ kind: z.literal('none') }),
]);
export type Alignment = z.infer<typeof Alignment>;

export const OutputSpec = z.object({
  name: z.string(),
  /** Dimensions; strings are symbolic (e.g. "batch"). */
  shape: z.array(z.union([z.number().int(), z.string()])),
  meaning: z.string(),
});

export const Head = z.discriminatedUnion('kind', [
  /** embedding = global average pool of feature_map. */
  z.object({ kind: z.literal('gap') }),
  /** embedding = pooled @ head_weight (+ head_bias). */
  z.object({ kind: z.literal('gap-linear'), weight: z.string(), bias: z.string().optional() }),
  /** embedding = sum over (c,h,w) of feature_map[c,h,w] * head_weight[c,h,w,:] + head_bias. */
  z.object({ kind: z.literal('flatten-linear'), weight: z.string(), bias: z.string().optional() }),
]);

export const ModelEntry = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  task: ModelTask,
  description: z.string(),
  source: z.object({
    package: z.string(),
    version: z.string(),
    files: z.array(z.object({ path: z.string(), sha256: z.string() })),
    origin: z.string().optional(),
  }),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  input: z.object({
    name: z.string(),
    layout: z.literal('NHWC'),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.literal(3),
    colorOrder: z.enum(['RGB', 'BGR']),
    /** Value range the graph expects at its input; any further normalization is inside the graph. */
    range: z.tuple([z.number(), z.number()]),
    normalization: z.string(),
  }),
  outputs: z.array(OutputSpec).min(1),
  alignment: Alignment,
  embeddingDim: z.number().int().positive().optional(),
  head: Head.optional(),
  /** Cosine decision threshold; null until the evaluation calibrates it. */
  defaultThreshold: z.number().nullable(),
  /** Figures measured with this exact file (tools/calibrate-lfw.ts). */
  evaluation: z
    .object({
      dataset: z.string(),
      judgedOn: z.string(),
      accuracy: z.number(),
      auc: z.number(),
      eer: z.number(),
      cllr: z.number(),
      cllrMin: z.number(),
    })
    .optional(),
  notes: z.string().optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const Manifest = z.object({
  schema: z.literal(1),
  generator: z.string(),
  models: z.array(ModelEntry),
  /** The verification system chosen by evidence, and why. */
  verification: z
    .object({
      default: z.string(),
      recognizers: z.array(z.string()),
      evidence: z.string(),
      figures: z.record(z.string(), z.object({ accuracy: z.number(), cllr: z.number() })),
    })
    .optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/** ArcFace-style 5-point template on a 112x112 crop (eyes, nose tip, mouth corners), as used by insightface. */
export const ARCFACE_112: [number, number][] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

export function scaledTemplate(size: number): [number, number][] {
  return ARCFACE_112.map(([x, y]) => [(x * size) / 112, (y * size) / 112]);
}
