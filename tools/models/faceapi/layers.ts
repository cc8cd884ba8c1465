/**
 * Pieces shared by the face-api re-expressions (recognition, landmarks68, ssd): TF padding rules,
 * HWIO -> OIHW weight layout, and a small NCHW layer builder over GraphBuilder that names nodes and
 * initializers after face-api's weight names.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelEntry } from '../../../src/main/engine/models/manifest';
import { GraphBuilder } from '../../../src/main/engine/onnx/builder';
import { loadWeights, type Tensor, type WeightGroup } from '../tfjs/weights';

export type Padding = 'same' | 'valid';

/** The manifest input of a face-api net: square NHWC RGB in 0..255, normalized inside the graph as described. */
export function faceApiInput(size: number, normalization: string): ModelEntry['input'] {
  return { name: 'image', layout: 'NHWC', height: size, width: size, channels: 3, colorOrder: 'RGB', range: [0, 255], normalization };
}

/** ONNX pads [top, left, bottom, right] and output size for TF padding; TF 'same' puts the odd pixel at the end. */
export function tfPads(size: number, kernel: number, stride: number, padding: Padding): { pads: number[]; out: number } {
  if (padding === 'valid') return { pads: [0, 0, 0, 0], out: Math.floor((size - kernel) / stride) + 1 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const begin = Math.floor(total / 2);
  return { pads: [begin, begin, total - begin, total - begin], out };
}

/** HWIO -> OIHW. For a depthwise filter [kh, kw, C, 1] this gives [1, C, kh, kw]; see depthwiseToOihw. */
export function toOihw(t: Tensor): Float32Array {
  const [kh, kw, ci, co] = t.shape as [number, number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o]!;
  return out;
}

/** TF depthwise filter [kh, kw, C, 1] -> ONNX grouped-conv weight [C, 1, kh, kw]. */
export function depthwiseToOihw(t: Tensor): Float32Array {
  const [kh, kw, c, m] = t.shape as [number, number, number, number];
  if (m !== 1) throw new Error(`depthwise multiplier ${m}: only 1 is supported`);
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let k = 0; k < c; k++) out[(k * kh + y) * kw + x] = src[(y * kw + x) * c + k]!;
  return out;
}

/** Reads a face-api weight manifest (uint8-quantized weights dequantized as TF.js does). */
export function readFaceApiWeights(weightsDir: string, manifestFile: string): Map<string, Tensor> {
  const manifest = JSON.parse(readFileSync(path.join(weightsDir, manifestFile), 'utf8')) as WeightGroup[];
  return loadWeights(manifest, weightsDir);
}

/** An NCHW activation: tensor name, channels and (square) spatial size. */
export interface Act {
  name: string;
  channels: number;
  size: number;
}

/** NCHW layers matching TF.js ops on NHWC, one call per face-api layer. */
export class LayerBuilder {
  readonly g: GraphBuilder;

  constructor(
    graphName: string,
    private readonly weights: Map<string, Tensor>,
    private readonly what: string,
  ) {
    this.g = new GraphBuilder(graphName);
  }

  weight(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t || t.dtype !== 'float32') throw new Error(`${this.what} weight ${name} missing`);
    return t;
  }

  vector(name: string): string {
    const t = this.weight(name);
    return this.g.initializer(name, t.data, [t.data.length]);
  }

  /** tf.conv2d (+ bias added after the sum, as tf.add does). */
  conv(x: Act, filtersName: string, biasName: string | null, stride: number, padding: Padding, hint: string): Act {
    const filters = this.weight(filtersName);
    const [kh, kw, ci, co] = filters.shape as [number, number, number, number];
    if (ci !== x.channels || kh !== kw) throw new Error(`${hint}: filter [${filters.shape}] does not fit ${x.channels} channels`);
    const { pads, out } = tfPads(x.size, kh, stride, padding);
    const inputs = [x.name, this.g.initializer(filtersName, toOihw(filters), [co, ci, kh, kw])];
    if (biasName) inputs.push(this.vector(biasName));
    const y = this.g.op('Conv', inputs, hint, { kernel_shape: [kh, kw], strides: [stride, stride], pads, dilations: [1, 1], group: 1 });
    return { name: y, channels: co, size: out };
  }

  /** tf.depthwiseConv2d, channel multiplier 1, no bias. */
  depthwise(x: Act, filtersName: string, stride: number, padding: Padding, hint: string): Act {
    const filters = this.weight(filtersName);
    const [kh, kw, c] = filters.shape as [number, number, number, number];
    if (c !== x.channels || kh !== kw) throw new Error(`${hint}: depthwise filter [${filters.shape}] does not fit ${x.channels} channels`);
    const { pads, out } = tfPads(x.size, kh, stride, padding);
    const w = this.g.initializer(filtersName, depthwiseToOihw(filters), [c, 1, kh, kw]);
    const y = this.g.op('Conv', [x.name, w], hint, { kernel_shape: [kh, kw], strides: [stride, stride], pads, dilations: [1, 1], group: c });
    return { name: y, channels: c, size: out };
  }

  /** Element-wise op on activations of one shape. */
  binary(op: 'Add' | 'Sub' | 'Mul', a: Act, b: Act, hint: string): Act {
    if (a.channels !== b.channels || a.size !== b.size) throw new Error(`${hint}: ${op} of mismatched shapes`);
    return { ...a, name: this.g.op(op, [a.name, b.name], hint) };
  }

  relu(x: Act, hint: string): Act {
    return { ...x, name: this.g.op('Relu', [x.name], hint) };
  }

  private readonly clipBounds = new Map<string, [string, string]>();

  /** tf.clipByValue(x, lo, hi); one pair of bound scalars per distinct range. */
  clip(x: Act, lo: number, hi: number, hint: string): Act {
    const key = `${lo}:${hi}`;
    let bounds = this.clipBounds.get(key);
    if (!bounds) {
      bounds = [this.g.scalar(`clip_${lo}_${hi}/min`, lo), this.g.scalar(`clip_${lo}_${hi}/max`, hi)];
      this.clipBounds.set(key, bounds);
    }
    return { ...x, name: this.g.op('Clip', [x.name, ...bounds], hint) };
  }
}
