/**
 * face-api's own TF.js nets (FaceRecognitionNet, FaceLandmark68Net, SsdMobilenetv1) under plain
 * Node, for the benchmark; the parity tests do the same under vitest with vi.mock. Weights are
 * decoded by TF.js itself.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import type { WeightGroup } from '../tfjs/weights';
import { MANIFEST_FILE as LANDMARKS68_MANIFEST } from './landmarks68';
import { MANIFEST_FILE as RECOGNITION_MANIFEST } from './recognition';
import { MANIFEST_FILE as SSD_MANIFEST } from './ssd';

register('./tfjs-alias-hooks.mjs', import.meta.url);

/**
 * tfjs-core's Node (CommonJS) build leaves out the chained tensor methods face-api calls
 * (t.mean(), t.as3D(), ...); its ESM registration module cannot load under plain Node, so the
 * few face-api's nets need are added here as the plain ops they stand for.
 */
function addChainedOps(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...a: unknown[]) => tf.Tensor>;
  for (const name of ['mean', 'div', 'sub', 'add', 'mul', 'relu', 'matMul', 'reshape', 'expandDims', 'squeeze', 'transpose', 'pad', 'slice', 'sum', 'maxPool', 'avgPool', 'conv2d', 'concat', 'cast']) {
    if (typeof proto[name] !== 'function' && typeof ops[name] === 'function') {
      proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
        return ops[name]!(this, ...args);
      };
    }
  }
  const reshapeTo = (shape: number[]) => function (this: tf.Tensor) {
    return tf.reshape(this, shape);
  };
  proto['as1D'] ??= function (this: tf.Tensor) {
    return tf.reshape(this, [this.size]);
  };
  proto['as2D'] ??= function (this: tf.Tensor, a: number, b: number) {
    return reshapeTo([a, b]).call(this);
  };
  proto['as3D'] ??= function (this: tf.Tensor, a: number, b: number, c: number) {
    return reshapeTo([a, b, c]).call(this);
  };
  proto['as4D'] ??= function (this: tf.Tensor, a: number, b: number, c: number, d: number) {
    return reshapeTo([a, b, c, d]).call(this);
  };
  proto['toFloat'] ??= function (this: tf.Tensor) {
    return tf.cast(this, 'float32');
  };
}
addChainedOps();

/** The face-api nets rebuilt in tools/models/faceapi, by manifest id. */
const NETS = {
  'faceapi-resnet': { net: 'FaceRecognitionNet', manifest: RECOGNITION_MANIFEST },
  'faceapi-landmarks68': { net: 'FaceLandmark68Net', manifest: LANDMARKS68_MANIFEST },
  'faceapi-ssd': { net: 'SsdMobilenetv1', manifest: SSD_MANIFEST },
} as const;
export type FaceApiNetId = keyof typeof NETS;
export const isFaceApiNet = (id: string): id is FaceApiNetId => id in NETS;

/** The calls used here, typed loosely: face-api is typed against its own copy of the tfjs types. */
interface Net {
  loadFromWeightMap(map: unknown): void;
  computeFaceDescriptor(input: unknown): Promise<Float32Array | Float32Array[]>;
  forward(input: unknown): Promise<tf.Tensor | { boxes: tf.Tensor[]; scores: tf.Tensor[] }>;
}

export interface FaceApiReference {
  /** The net's outputs for a [n, h, w, 3] batch, computed by face-api itself (all values read back). */
  run(x: tf.Tensor): Promise<Float32Array[]>;
}

export async function loadFaceApiReference(id: FaceApiNetId): Promise<FaceApiReference> {
  const { net: netName, manifest: manifestFile } = NETS[id];
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'model');
  const faceapi = (await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js')) as unknown as Record<string, new () => Net>;
  const manifest = JSON.parse(readFileSync(path.join(dir, manifestFile), 'utf8')) as WeightGroup[];
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p)))));
  const weights = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
  );
  const net = new faceapi[netName]!();
  net.loadFromWeightMap(weights);
  return {
    async run(x) {
      const images = tf.unstack(x) as tf.Tensor3D[];
      try {
        if (id === 'faceapi-resnet') {
          const out = await net.computeFaceDescriptor(images);
          return Array.isArray(out) ? out : [out];
        }
        const out = await net.forward(images);
        const tensors = out instanceof tf.Tensor ? [out] : [...out.boxes, ...out.scores];
        const values = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
        tf.dispose(tensors);
        return values;
      } finally {
        tf.dispose(images);
      }
    },
  };
}
