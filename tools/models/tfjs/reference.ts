/**
 * The TF.js reference for parity checks: runs a graph model with TF.js's own kernels (CPU backend,
 * or WASM where asked) from the same files the converter read.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TfjsModelJson } from './graph-to-onnx';

export { tf };

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(name);
  await tf.ready();
}

export async function loadReference(modelJsonPath: string): Promise<GraphModel> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as TfjsModelJson;
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJsonPath), p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData,
    }),
  );
}
