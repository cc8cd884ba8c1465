/**
 * Backward-graph speed on CPU: per recognizer and rule, the time to build the graph and the time
 * per face at batch 1 and batch 8 (median of the runs), beside the forward pass alone.
 * Run by hand: `npx tsx bench/backward.ts [runs] [model ...]` (default 5 runs; faceres,
 * mobileface, faceapi-resnet).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildBackwardModel, type BackwardRule } from '../src/main/engine/saliency/backward';
import { facePhotos, rgbFloat } from '../test/helpers/images';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'resources/models');
const RULES: BackwardRule[] = ['gradient', 'guided', 'deconvnet', 'excitation'];

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function timePerFace(session: ort.InferenceSession, feeds: (batch: number) => Record<string, ort.Tensor>, batch: number, runs: number): Promise<number> {
  const f = feeds(batch);
  await session.run(f); // warm-up: first-run allocations are not per-face cost
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await session.run(f);
    ms.push((performance.now() - t0) / batch);
  }
  return median(ms);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const ids = process.argv.slice(3).length ? process.argv.slice(3) : ['faceres', 'mobileface', 'faceapi-resnet'];
  const manifest = JSON.parse(readFileSync(path.join(MODELS, 'manifest.json'), 'utf8')) as { models: { id: string; file: string; input: { width: number; height: number } }[] };
  console.log(`CPU (onnxruntime-node ${ort.env.versions.common}, ${os.cpus().length} cores), ${runs} runs, ms per face (median)`);
  console.log('model            rule        build ms   batch 1   batch 8');
  for (const id of ids) {
    const entry = manifest.models.find((m) => m.id === id);
    if (!entry) throw new Error(`unknown model ${id}`);
    const { width: W, height: H } = entry.input;
    const photos = facePhotos().slice(0, 8);
    const pixels = await Promise.all(photos.map((p) => rgbFloat(p.file, W, H, p.region)));
    const images = (batch: number): ort.Tensor => {
      const data = new Float32Array(batch * H * W * 3);
      for (let b = 0; b < batch; b++) data.set(pixels[b % pixels.length]!, b * H * W * 3);
      return new ort.Tensor('float32', data, [batch, H, W, 3]);
    };
    const bytes = readFileSync(path.join(MODELS, entry.file));
    const fwd = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const dim = (await fwd.run({ image: images(1) }))['embedding']!.dims[1] as number;
    const f1 = await timePerFace(fwd, (b) => ({ image: images(b) }), 1, runs);
    const f8 = await timePerFace(fwd, (b) => ({ image: images(b) }), 8, runs);
    console.log(`${id.padEnd(16)} ${'forward'.padEnd(11)} ${'-'.padStart(8)} ${f1.toFixed(1).padStart(9)} ${f8.toFixed(1).padStart(9)}`);
    await fwd.release();
    for (const rule of RULES) {
      const t0 = performance.now();
      const model = await buildBackwardModel(bytes, { rule, from: 'embedding', at: ['feature_map'] });
      const build = performance.now() - t0;
      const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
      const feeds = (b: number): Record<string, ort.Tensor> => ({ image: images(b), seed: new ort.Tensor('float32', new Float32Array(b * dim).fill(1 / dim), [b, dim]) });
      const b1 = await timePerFace(session, feeds, 1, runs);
      const b8 = await timePerFace(session, feeds, 8, runs);
      console.log(`${id.padEnd(16)} ${rule.padEnd(11)} ${build.toFixed(0).padStart(8)} ${b1.toFixed(1).padStart(9)} ${b8.toFixed(1).padStart(9)}`);
      await session.release();
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
