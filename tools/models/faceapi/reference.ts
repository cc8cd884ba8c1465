/**
 * face-api's own TF.js FaceRecognitionNet under plain Node (for the benchmark; the parity test
 * does the same under vitest with vi.mock). Weights are decoded by TF.js itself.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import type { WeightGroup } from '../tfjs/weights';
import { MANIFEST_FILE } from './recognition';

register('./tfjs-alias-hooks.mjs', import.meta.url);

/**
 * tfjs-core's Node (CommonJS) build leaves out the chained tensor methods face-api calls
 * (t.mean(), t.as3D(), ...); its ESM registration module cannot load under plain Node, so the
 * few the recognition net needs are added here as the plain ops they stand for.
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

export interface FaceApiReference {
  /** Descriptors for a [n, 150, 150, 3] batch, computed by face-api itself. */
  descriptors(x: tf.Tensor): Promise<Float32Array[]>;
}

export async function loadFaceApiReference(): Promise<FaceApiReference> {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'model');
  const faceapi = await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js');
  const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as WeightGroup[];
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p)))));
  const weights = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
  );
  const net = new faceapi.FaceRecognitionNet();
  // face-api is typed against its own copy of the tfjs types; at run time it is this tfjs-core.
  net.loadFromWeightMap(weights as never);
  return {
    async descriptors(x) {
      const images = tf.unstack(x) as tf.Tensor3D[];
      try {
        const out = await net.computeFaceDescriptor(images as never);
        return (Array.isArray(out) ? out : [out]) as Float32Array[];
      } finally {
        tf.dispose(images);
      }
    },
  };
}
