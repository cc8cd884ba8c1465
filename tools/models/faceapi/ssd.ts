/**
 * face-api's SsdMobilenetv1 face detector (512x512 RGB in; 5118 anchors) re-expressed as ONNX from
 * its TF.js weight manifest. face-api runs it in code (src/ssdMobilenetv1/): a MobileNet v1 body,
 * eight extra pointwise layers, six box predictors, then outputLayer's anchor decoding and a sigmoid.
 * All of that is rebuilt here in NCHW with face-api's arithmetic order; non-maximum suppression is
 * left to the caller, as it is data-dependent and not part of the network.
 */
import type { ModelEntry } from '../../../src/main/engine/models/manifest';
import { faceApiInput, LayerBuilder, readFaceApiWeights, type Act } from './layers';

export const INPUT_SIZE = 512;
/** face-api's SsdMobilenetv1.forwardInput: tf.sub(tf.div(x, 127.5), 1). */
export const DIVISOR = 127.5;
export const MANIFEST_FILE = 'ssd_mobilenetv1_model-weights_manifest.json';
export const ANCHORS = 5118;
/** mobileNetV1.ts: the batch-norm epsilon of every depthwise layer. */
const BN_EPSILON = 0.0010000000474974513;

/** What the manifest needs to feed and read the model. */
export const FACEAPI_SSD: Pick<ModelEntry, 'description' | 'input' | 'outputs' | 'alignment' | 'notes'> = {
  description: 'face-api.js SSD MobileNet v1 face detector: 512x512 RGB -> 5118 anchor boxes with face scores (before NMS)',
  input: faceApiInput(INPUT_SIZE, `inside the graph: x / ${DIVISOR} - 1, as face-api's SsdMobilenetv1`),
  outputs: [
    {
      name: 'boxes',
      shape: ['batch', ANCHORS, 4],
      meaning: "decoded boxes (ymin, xmin, ymax, xmax) as fractions of the 512x512 input, face-api's anchor decoding (scale 10 for centres, 5 for sizes); not clipped",
    },
    { name: 'scores', shape: ['batch', ANCHORS], meaning: 'face probability per anchor: sigmoid of the class-1 logit' },
  ],
  alignment: { kind: 'none' },
  notes:
    "face-api's preprocessing of an image of width w and height h: zero (black) padding at the right or bottom to a square, then " +
    'bilinear resize to 512x512 (no corner alignment, no half-pixel centres). Then non-maximum suppression (face-api: IoU 0.5, ' +
    'min score 0.5, at most 100 faces); a box maps back by clipping to 0..1 and multiplying by max(w, h) on both axes.',
};

/** face-api pointwiseConvLayer: tf.conv2d(x, filters, stride, 'same') + batch-norm offset, clipped to 0..6. */
function pointwise(b: LayerBuilder, x: Act, prefix: string, stride: number): Act {
  const y = b.conv(x, `${prefix}/weights`, `${prefix}/convolution_bn_offset`, stride, 'same', prefix);
  return b.clip(y, 0, 6, `${prefix}/relu6`);
}

/** face-api depthwiseConvLayer: tf.depthwiseConv2d 'same', tf.batchNorm, clipped to 0..6. */
function depthwise(b: LayerBuilder, x: Act, prefix: string, stride: number): Act {
  const y = b.depthwise(x, `${prefix}/depthwise_weights`, stride, 'same', prefix);
  const bn = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => b.vector(`${prefix}/BatchNorm/${p}`));
  const normed = { ...y, name: b.g.op('BatchNormalization', [y.name, ...bn], `${prefix}/BatchNorm`, { epsilon: { float: BN_EPSILON } }) };
  return b.clip(normed, 0, 6, `${prefix}/relu6`);
}

/** The layers whose depthwise conv has stride 2 (mobileNetV1.ts getStridesForLayerIdx). */
const DOWNSAMPLING = new Set([2, 4, 6, 12]);

/** Builds the ONNX model from face-api's weights in `weightsDir` (its model/ folder). */
export function buildFaceApiSsd(weightsDir: string): Uint8Array {
  const b = new LayerBuilder('faceapi_ssd_mobilenetv1', readFaceApiWeights(weightsDir, MANIFEST_FILE), 'face-api ssd_mobilenetv1');
  const { g } = b;

  const image = g.input('image', 'float32', ['batch', INPUT_SIZE, INPUT_SIZE, 3]);
  const scaled = g.op('Div', [image, g.scalar('normalize/divisor', DIVISOR)], 'normalize/div');
  const shifted = g.op('Sub', [scaled, g.scalar('normalize/one', 1)], 'normalize/sub');
  const nchw = g.op('Transpose', [shifted], 'to_nchw', { perm: [0, 3, 1, 2] });

  // MobileNet v1: 512 -> 256 (conv 0) -> 128 -> 64 -> 32 -> 16; conv 11's output (32x32x512) feeds predictor 0.
  let x = pointwise(b, { name: nchw, channels: 3, size: INPUT_SIZE }, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11: Act | undefined;
  for (let i = 1; i <= 13; i++) {
    x = depthwise(b, x, `MobilenetV1/Conv2d_${i}_depthwise`, DOWNSAMPLING.has(i) ? 2 : 1);
    x = pointwise(b, x, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
    if (i === 11) conv11 = x;
  }
  if (!conv11) throw new Error('MobileNet layer 11 missing');

  // predictionLayer.ts: eight more pointwise layers, every odd one halving (16 -> 8 -> 4 -> 2 -> 1).
  const extra: Act[] = [];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = pointwise(b, y, `Prediction/Conv2d_${i}_pointwise`, i % 2 ? 2 : 1);
    extra.push(y);
  }
  const sources = [conv11, x, extra[1]!, extra[3]!, extra[5]!, extra[7]!];

  // boxPredictionLayer.ts: 1x1 convs, reshaped from NHWC to [N, H*W*anchors, 4] and [N, H*W*anchors, 3].
  const encodings: string[] = [];
  const logits: string[] = [];
  const perAnchor = (act: Act, depth: number, hint: string): string => {
    const nhwc = g.op('Transpose', [act.name], `${hint}/to_nhwc`, { perm: [0, 2, 3, 1] });
    return g.op('Reshape', [nhwc, g.int64s(`${hint}/shape`, [0, -1, depth])], `${hint}/reshape`);
  };
  let anchors = 0;
  sources.forEach((src, k) => {
    const prefix = `Prediction/BoxPredictor_${k}`;
    const box = b.conv(src, `${prefix}/BoxEncodingPredictor/weights`, `${prefix}/BoxEncodingPredictor/biases`, 1, 'same', `${prefix}/BoxEncodingPredictor`);
    const cls = b.conv(src, `${prefix}/ClassPredictor/weights`, `${prefix}/ClassPredictor/biases`, 1, 'same', `${prefix}/ClassPredictor`);
    if (box.channels % 4 || cls.channels !== (box.channels / 4) * 3) throw new Error(`${prefix}: ${box.channels} box and ${cls.channels} class channels`);
    anchors += src.size * src.size * (box.channels / 4);
    encodings.push(perAnchor(box, 4, `${prefix}/BoxEncodingPredictor`));
    logits.push(perAnchor(cls, 3, `${prefix}/ClassPredictor`));
  });
  if (anchors !== ANCHORS) throw new Error(`${anchors} anchors, expected ${ANCHORS}`);
  const encoding = g.op('Concat', encodings, 'box_encodings', { axis: 1 });
  const logit = g.op('Concat', logits, 'class_logits', { axis: 1 });

  // outputLayer.ts: scores = sigmoid(logits[..., 1]).
  const index = (i: number): string => g.initializer(`index_${i}`, BigInt64Array.of(BigInt(i)), [], 'int64');
  const indices = [0, 1, 2, 3].map(index);
  const faceLogit = g.op('Gather', [logit, indices[1]!], 'face_logit', { axis: 2 });
  g.node('Sigmoid', [faceLogit], 'scores', {}, ['scores']);

  // outputLayer.ts decodeBoxesLayer. Anchor sizes and centres are float32 constants, computed
  // with the same float32 steps as face-api (a2 - a0, then a0 + size / 2).
  const extraDim = b.weight('Output/extra_dim');
  if (extraDim.shape.join() !== `1,${ANCHORS},4`) throw new Error(`Output/extra_dim is [${extraDim.shape}]`);
  const a = extraDim.data as Float32Array;
  const sizes = [new Float32Array(ANCHORS), new Float32Array(ANCHORS)];
  const centres = [new Float32Array(ANCHORS), new Float32Array(ANCHORS)];
  for (let i = 0; i < ANCHORS; i++)
    for (const axis of [0, 1]) {
      const size = Math.fround(a[i * 4 + axis + 2]! - a[i * 4 + axis]!);
      sizes[axis]![i] = size;
      centres[axis]![i] = Math.fround(a[i * 4 + axis]! + size / 2);
    }
  const five = g.scalar('decode/five', 5);
  const ten = g.scalar('decode/ten', 10);
  const two = g.scalar('decode/two', 2);
  const part = (i: number): string => g.op('Gather', [encoding, indices[i]!], `decode/encoding_${i}`, { axis: 2 });
  const corners: string[][] = [];
  for (const axis of [0, 1]) {
    const name = axis ? 'x' : 'y';
    const size = g.initializer(`anchor_size_${name}`, sizes[axis]!, [ANCHORS]);
    const centre = g.initializer(`anchor_centre_${name}`, centres[axis]!, [ANCHORS]);
    // half = exp(t_size / 5) * size / 2; centre' = (t_centre / 10) * size + centre.
    const expd = g.op('Exp', [g.op('Div', [part(axis + 2), five], `decode/${name}/size_div`)], `decode/${name}/exp`);
    const half = g.op('Div', [g.op('Mul', [expd, size], `decode/${name}/size_mul`), two], `decode/${name}/half`);
    const shift = g.op('Mul', [g.op('Div', [part(axis), ten], `decode/${name}/centre_div`), size], `decode/${name}/centre_mul`);
    const mid = g.op('Add', [shift, centre], `decode/${name}/centre`);
    corners.push([g.op('Sub', [mid, half], `decode/${name}/min`), g.op('Add', [mid, half], `decode/${name}/max`)]);
  }
  const lastAxis = g.int64s('decode/unsqueeze_axes', [2]);
  const ordered = [corners[0]![0]!, corners[1]![0]!, corners[0]![1]!, corners[1]![1]!].map((t, i) => g.op('Unsqueeze', [t, lastAxis], `decode/corner_${i}`));
  g.node('Concat', ordered, 'boxes', { axis: 2 }, ['boxes']);

  for (const o of FACEAPI_SSD.outputs) g.output(o.name, 'float32', o.shape);
  return g.toBytes({
    producer: 'facet tools/models/faceapi/ssd.ts',
    version: '1',
    docString: '@vladmandic/face-api SsdMobilenetv1 (ssd_mobilenetv1_model), rebuilt from its TF.js weights; outputs before NMS',
  });
}
