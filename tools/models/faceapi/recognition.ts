/**
 * face-api's FaceRecognitionNet (a dlib-style ResNet-34 variant: 150x150 RGB in, 128-d descriptor
 * out) re-expressed as ONNX from its TF.js weight manifest. face-api builds this network in code
 * (src/faceRecognitionNet/) rather than shipping a graph, so the layers are rebuilt here one by one,
 * in NCHW, with the same arithmetic order as face-api so the results match its TF.js forward.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelEntry } from '../../../src/main/engine/models/manifest';
import { GraphBuilder } from '../../../src/main/engine/onnx/builder';
import { loadWeights, type Tensor, type WeightGroup } from '../tfjs/weights';
import { faceApiInput, tfPads, toOihw, type Padding } from './layers';

export const INPUT_SIZE = 150;
/** face-api's FaceRecognitionNet.forwardInput: (rgb - MEAN_RGB) / 255. */
export const MEAN_RGB = [122.782, 117.001, 104.298] as const;
export const DIVISOR = 255;
export const MANIFEST_FILE = 'face_recognition_model-weights_manifest.json';

const EMBEDDING_DIM = 128;
const FEATURE_CHANNELS = 256;
/** 150 -> 72 (7x7/2 conv) -> 35 (3x3/2 max pool) -> 17 -> 8 -> 4 -> 2 (the four down blocks' 2x2/2 pools). */
const FEATURE_SIZE = 2;

/** What the manifest needs to feed and read the model. */
export const FACEAPI_RECOGNIZER: Pick<ModelEntry, 'description' | 'input' | 'outputs' | 'embeddingDim' | 'head'> = {
  description: "face-api.js FaceRecognitionNet: dlib-style ResNet-34 (29 conv layers), 150x150 RGB -> 128-d descriptor",
  input: faceApiInput(INPUT_SIZE, `inside the graph: (x - [${MEAN_RGB.join(', ')}]) / ${DIVISOR}, as face-api's FaceRecognitionNet`),
  outputs: [
    { name: 'embedding', shape: ['batch', EMBEDDING_DIM], meaning: "face descriptor, as face-api's computeFaceDescriptor (not L2-normalised)" },
    { name: 'feature_map', shape: ['batch', FEATURE_CHANNELS, FEATURE_SIZE, FEATURE_SIZE], meaning: 'last residual block activation (ReLU), NCHW, before global average pooling' },
    { name: 'pooled', shape: ['batch', FEATURE_CHANNELS], meaning: 'global average of feature_map: what the linear head consumes' },
    { name: 'head_weight', shape: [FEATURE_CHANNELS, EMBEDDING_DIM], meaning: 'linear head (no bias): embedding = pooled @ head_weight' },
  ],
  embeddingDim: EMBEDDING_DIM,
  head: { kind: 'gap-linear', weight: 'head_weight' },
};

/** Residual blocks in forward order; `down` ones halve the resolution (stride-2 conv, 2x2 average shortcut). */
const BLOCKS: { name: string; down: boolean }[] = [
  ...['conv32_1', 'conv32_2', 'conv32_3'].map((name) => ({ name, down: false })),
  { name: 'conv64_down', down: true },
  ...['conv64_1', 'conv64_2', 'conv64_3'].map((name) => ({ name, down: false })),
  { name: 'conv128_down', down: true },
  ...['conv128_1', 'conv128_2'].map((name) => ({ name, down: false })),
  { name: 'conv256_down', down: true },
  ...['conv256_1', 'conv256_2'].map((name) => ({ name, down: false })),
  { name: 'conv256_down_out', down: true },
];

interface Act {
  name: string;
  channels: number;
  size: number;
}

class Builder {
  readonly g = new GraphBuilder('faceapi_recognition');

  constructor(private readonly weights: Map<string, Tensor>) {}

  weight(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t || t.dtype !== 'float32') throw new Error(`face-api recognition weight ${name} missing`);
    return t;
  }

  /** Per-channel vector as [C,1,1] so it broadcasts over NCHW. */
  channelVector(name: string): string {
    const t = this.weight(name);
    return this.g.initializer(name, t.data, [t.shape[0]!, 1, 1]);
  }

  /** face-api convLayer: conv (+bias), then scale layer (x * weights + biases), then optional ReLU. */
  convLayer(x: Act, prefix: string, stride: number, padding: Padding, relu: boolean): Act {
    const { g } = this;
    const filters = this.weight(`${prefix}/conv/filters`);
    const [kh, kw, ci, co] = filters.shape as [number, number, number, number];
    if (ci !== x.channels || kh !== kw) throw new Error(`${prefix}: filter ${filters.shape} does not fit ${x.channels} channels`);
    const { pads, out } = tfPads(x.size, kh, stride, padding);
    const w = g.initializer(`${prefix}/conv/filters`, toOihw(filters), [co, ci, kh, kw]);
    const bias = this.weight(`${prefix}/conv/bias`);
    const b = g.initializer(`${prefix}/conv/bias`, bias.data, [co]);
    let y = g.op('Conv', [x.name, w, b], `${prefix}/conv`, {
      kernel_shape: [kh, kw],
      strides: [stride, stride],
      pads,
      dilations: [1, 1],
      group: 1,
    });
    y = g.op('Mul', [y, this.channelVector(`${prefix}/scale/weights`)], `${prefix}/scale/mul`);
    y = g.op('Add', [y, this.channelVector(`${prefix}/scale/biases`)], `${prefix}/scale/add`);
    if (relu) y = g.op('Relu', [y], `${prefix}/relu`);
    return { name: y, channels: co, size: out };
  }

  residual(x: Act, prefix: string): Act {
    const a = this.convLayer(x, `${prefix}/conv1`, 1, 'same', true);
    const b = this.convLayer(a, `${prefix}/conv2`, 1, 'same', false);
    if (b.channels !== x.channels || b.size !== x.size) throw new Error(`${prefix}: shortcut shape mismatch`);
    const sum = this.g.op('Add', [b.name, x.name], `${prefix}/add`);
    return { name: this.g.op('Relu', [sum], `${prefix}/relu`), channels: b.channels, size: b.size };
  }

  /**
   * face-api residualDown: the shortcut is a 2x2/2 'valid' average pool, zero-padded on the channel
   * axis; where the stride-2 'valid' conv comes out one pixel smaller than the pool (odd sizes), the
   * conv branch gets a zero row and column appended at the bottom and right.
   */
  residualDown(x: Act, prefix: string): Act {
    const { g } = this;
    const a = this.convLayer(x, `${prefix}/conv1`, 2, 'valid', true);
    let b = this.convLayer(a, `${prefix}/conv2`, 1, 'same', false);
    const pool = tfPads(x.size, 2, 2, 'valid');
    let shortcut = g.op('AveragePool', [x.name], `${prefix}/shortcut/avgpool`, { kernel_shape: [2, 2], strides: [2, 2], pads: pool.pads });
    const extraChannels = b.channels - x.channels;
    if (extraChannels < 0) throw new Error(`${prefix}: block narrows channels`);
    if (extraChannels > 0) {
      const pads = g.int64s(`${prefix}/shortcut/pads`, [0, 0, 0, 0, 0, extraChannels, 0, 0]);
      shortcut = g.op('Pad', [shortcut, pads], `${prefix}/shortcut/pad_channels`, { mode: 'constant' });
    }
    const grow = pool.out - b.size;
    if (grow !== 0 && grow !== 1) throw new Error(`${prefix}: conv ${b.size} vs pool ${pool.out}: face-api only pads by one`);
    if (grow === 1) {
      const pads = g.int64s(`${prefix}/pads`, [0, 0, 0, 0, 0, 0, 1, 1]);
      b = { ...b, name: g.op('Pad', [b.name, pads], `${prefix}/pad_spatial`, { mode: 'constant' }), size: pool.out };
    }
    const sum = g.op('Add', [shortcut, b.name], `${prefix}/add`);
    return { name: g.op('Relu', [sum], `${prefix}/relu`), channels: b.channels, size: b.size };
  }
}

/** Builds the ONNX model from face-api's weights in `weightsDir` (its model/ folder). */
export function buildFaceApiRecognizer(weightsDir: string): Uint8Array {
  const manifest = JSON.parse(readFileSync(path.join(weightsDir, MANIFEST_FILE), 'utf8')) as WeightGroup[];
  const b = new Builder(loadWeights(manifest, weightsDir));
  const { g } = b;

  const image = g.input('image', 'float32', ['batch', INPUT_SIZE, INPUT_SIZE, 3]);
  // Sub then Div (not Mul by 1/255) as face-api does, so rounding matches.
  const mean = g.initializer('normalize/mean_rgb', Float32Array.from(MEAN_RGB), [1, 1, 1, 3]);
  const centred = g.op('Sub', [image, mean], 'normalize/sub');
  const scaled = g.op('Div', [centred, g.scalar('normalize/divisor', DIVISOR)], 'normalize/div');
  const nchw = g.op('Transpose', [scaled], 'to_nchw', { perm: [0, 3, 1, 2] });

  let x: Act = b.convLayer({ name: nchw, channels: 3, size: INPUT_SIZE }, 'conv32_down', 2, 'valid', true);
  const maxPool = tfPads(x.size, 3, 2, 'valid');
  x = {
    ...x,
    name: g.op('MaxPool', [x.name], 'conv32_down/maxpool', { kernel_shape: [3, 3], strides: [2, 2], pads: maxPool.pads }),
    size: maxPool.out,
  };
  for (const block of BLOCKS) x = block.down ? b.residualDown(x, block.name) : b.residual(x, block.name);

  if (x.channels !== FEATURE_CHANNELS || x.size !== FEATURE_SIZE) throw new Error(`feature map ${x.channels}x${x.size}x${x.size} is not as described`);
  g.node('Identity', [x.name], 'feature_map', {}, ['feature_map']);
  g.node('ReduceMean', [x.name], 'global_avg_pool', { axes: [2, 3], keepdims: 0 }, ['pooled']);

  const fc = b.weight('fc');
  const [inDim, outDim] = fc.shape as [number, number];
  if (inDim !== x.channels || outDim !== EMBEDDING_DIM) throw new Error(`fc is [${fc.shape}]`);
  const fcName = g.initializer('fc', fc.data, [inDim, outDim]);
  g.node('MatMul', ['pooled', fcName], 'fc', {}, ['embedding']);
  g.node('Identity', [fcName], 'head_weight', {}, ['head_weight']);

  for (const o of FACEAPI_RECOGNIZER.outputs) g.output(o.name, 'float32', o.shape);
  return g.toBytes({
    producer: 'facet tools/models/faceapi/recognition.ts',
    version: '1',
    docString: "@vladmandic/face-api FaceRecognitionNet (face_recognition_model), rebuilt from its TF.js weights",
  });
}
