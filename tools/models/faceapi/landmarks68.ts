/**
 * face-api's FaceLandmark68Net (112x112 RGB in, 68 (x, y) points out) re-expressed as ONNX from its
 * TF.js weight manifest. face-api builds it in code (src/faceFeatureExtractor/ and
 * src/faceLandmarkNet/): four dense blocks of separable convolutions, a 7x7 average pool and a
 * fully connected layer. Rebuilt here in NCHW with face-api's arithmetic order.
 */
import type { ModelEntry } from '../../../src/main/engine/models/manifest';
import type { Tensor } from '../tfjs/weights';
import { faceApiInput, LayerBuilder, readFaceApiWeights, tfPads, type Act } from './layers';

export const INPUT_SIZE = 112;
/** face-api's FaceFeatureExtractor.forwardInput: normalize(x, MEAN_RGB).div(255). */
export const MEAN_RGB = [122.782, 117.001, 104.298] as const;
export const DIVISOR = 255;
export const MANIFEST_FILE = 'face_landmark_68_model-weights_manifest.json';
export const POINTS = 68;
const FEATURE_CHANNELS = 256;

/** What the manifest needs to feed and read the model. */
export const FACEAPI_LANDMARKS68: Pick<ModelEntry, 'description' | 'input' | 'outputs' | 'alignment' | 'notes'> = {
  description: 'face-api.js FaceLandmark68Net: 4 dense blocks of separable convolutions + linear head, 112x112 RGB -> 68 (x, y) points',
  input: faceApiInput(INPUT_SIZE, `inside the graph: (x - [${MEAN_RGB.join(', ')}]) / ${DIVISOR}, as face-api's FaceFeatureExtractor`),
  outputs: [
    {
      name: 'landmarks',
      shape: ['batch', 2 * POINTS],
      meaning: '68 points interleaved (x0, y0, x1, y1, ...), as fractions of the 112x112 input (multiply by 112 for input pixels); iBUG 300-W order',
    },
  ],
  alignment: { kind: 'box', size: [INPUT_SIZE, INPUT_SIZE], margin: 0 },
  notes:
    "face-api's preprocessing of a face box of width w and height h: zero (black) padding of the short side to a square, " +
    'round(|w - h| / 2) pixels after the image and the rest before it, then bilinear resize to 112x112 (no corner alignment, ' +
    "no half-pixel centres). face-api maps a point back to the box as x = (v * 112 - pad_x) / w', y = (v * 112 - pad_y) / h' " +
    "(fractions of the box), with w', h' the box scaled so its long side is 112 and pad = |w' - h'| / 2 on the short axis only.",
};

/** face-api depthwiseSeparableConv: tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias. */
function separable(b: LayerBuilder, x: Act, prefix: string, stride: number): Act {
  const dw = b.depthwise(x, `${prefix}/depthwise_filter`, stride, 'same', `${prefix}/depthwise`);
  return b.conv(dw, `${prefix}/pointwise_filter`, `${prefix}/bias`, 1, 'valid', `${prefix}/pointwise`);
}

/** face-api denseBlock4 (isScaleDown): every conv sees the sum of all earlier outputs of the block. */
function denseBlock4(b: LayerBuilder, x: Act, prefix: string, isFirstLayer: boolean): Act {
  const conv0 = isFirstLayer
    ? b.conv(x, `${prefix}/conv0/filters`, `${prefix}/conv0/bias`, 2, 'same', `${prefix}/conv0`)
    : separable(b, x, `${prefix}/conv0`, 2);
  const out1 = b.relu(conv0, `${prefix}/conv0/relu`);
  const out2 = separable(b, out1, `${prefix}/conv1`, 1);
  const in3 = b.relu(b.binary('Add', out1, out2, `${prefix}/in3/add`), `${prefix}/in3/relu`);
  const out3 = separable(b, in3, `${prefix}/conv2`, 1);
  // tf.add(out1, tf.add(out2, out3)): same association as face-api, so float32 rounding matches.
  const in4 = b.relu(b.binary('Add', out1, b.binary('Add', out2, out3, `${prefix}/in4/add23`), `${prefix}/in4/add`), `${prefix}/in4/relu`);
  const out4 = separable(b, in4, `${prefix}/conv3`, 1);
  const sum34 = b.binary('Add', out3, out4, `${prefix}/out/add34`);
  const sum234 = b.binary('Add', out2, sum34, `${prefix}/out/add234`);
  return b.relu(b.binary('Add', out1, sum234, `${prefix}/out/add`), `${prefix}/out/relu`);
}

/** Builds the ONNX model from face-api's weights in `weightsDir` (its model/ folder). */
export function buildFaceApiLandmarks68(weightsDir: string): Uint8Array {
  const weights: Map<string, Tensor> = readFaceApiWeights(weightsDir, MANIFEST_FILE);
  const b = new LayerBuilder('faceapi_landmarks68', weights, 'face-api landmarks68');
  const { g } = b;

  const image = g.input('image', 'float32', ['batch', INPUT_SIZE, INPUT_SIZE, 3]);
  // Sub then Div (not Mul by 1/255) as face-api does, so rounding matches.
  const mean = g.initializer('normalize/mean_rgb', Float32Array.from(MEAN_RGB), [1, 1, 1, 3]);
  const centred = g.op('Sub', [image, mean], 'normalize/sub');
  const scaled = g.op('Div', [centred, g.scalar('normalize/divisor', DIVISOR)], 'normalize/div');
  const nchw = g.op('Transpose', [scaled], 'to_nchw', { perm: [0, 3, 1, 2] });

  // 112 -> 56 -> 28 -> 14 -> 7 (each block's first conv has stride 2).
  let x: Act = { name: nchw, channels: 3, size: INPUT_SIZE };
  x = denseBlock4(b, x, 'dense0', true);
  for (const name of ['dense1', 'dense2', 'dense3']) x = denseBlock4(b, x, name, false);
  const pool = tfPads(x.size, 7, 2, 'valid');
  if (x.channels !== FEATURE_CHANNELS || pool.out !== 1) throw new Error(`feature map ${x.channels}x${x.size}x${x.size} is not as described`);
  const pooled = g.op('AveragePool', [x.name], 'avgpool', { kernel_shape: [7, 7], strides: [2, 2], pads: pool.pads });
  // [N, 256, 1, 1] -> [N, 256]: with a 1x1 map NCHW and NHWC flatten alike.
  const flat = g.op('Flatten', [pooled], 'flatten', { axis: 1 });

  const fc = b.weight('fc/weights');
  const [inDim, outDim] = fc.shape as [number, number];
  if (inDim !== FEATURE_CHANNELS || outDim !== 2 * POINTS) throw new Error(`fc/weights is [${fc.shape}]`);
  const product = g.op('MatMul', [flat, g.initializer('fc/weights', fc.data, [inDim, outDim])], 'fc/matmul');
  g.node('Add', [product, b.vector('fc/bias')], 'fc/add', {}, ['landmarks']);

  for (const o of FACEAPI_LANDMARKS68.outputs) g.output(o.name, 'float32', o.shape);
  return g.toBytes({
    producer: 'facet tools/models/faceapi/landmarks68.ts',
    version: '1',
    docString: '@vladmandic/face-api FaceLandmark68Net (face_landmark_68_model), rebuilt from its TF.js weights',
  });
}
