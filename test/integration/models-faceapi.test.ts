/**
 * The ONNX re-expression of face-api's FaceRecognitionNet (tools/models/faceapi/recognition.ts)
 * against face-api's own TF.js FaceRecognitionNet, same weights, TF.js CPU backend, on the same
 * 150x150 RGB pixels (face-api does no resize or padding when given exactly 150x150).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node build leaves out the chained ops (t.as3D(), t.mean(), ...) that face-api calls.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFaceApiRecognizer, FACEAPI_RECOGNIZER, MANIFEST_FILE } from '../../tools/models/faceapi/recognition';
import type { WeightGroup } from '../../tools/models/tfjs/weights';
import { hasSharedData, REPO_ROOT, SHARED_DATA } from '../helpers/fixtures';
import { rgbFloat, type Region } from '../helpers/images';
import { cosine, euclidean, maxAbsDiff } from '../helpers/math';

const FACEAPI = path.join(REPO_ROOT, 'node_modules/@vladmandic/face-api');
const MODEL_DIR = path.join(FACEAPI, 'model');
const SIZE = FACEAPI_RECOGNIZER.input.width;
const LFW = path.join(SHARED_DATA, 'lfw/images');

/**
 * face-api's unbundled ESM build imports the umbrella '@tensorflow/tfjs' (not installed here) and
 * the webgl/wasm backends by ESM dist paths; its bundled builds fail under Node (they stub out
 * `util`). So the umbrella is mapped to tfjs-core, the same instance this file imports (its CPU
 * backend registered above is the one face-api runs on), and the two backends the recognition net
 * never touches are stubbed.
 */
vi.mock('@tensorflow/tfjs/dist/index.js', async () => await import('@tensorflow/tfjs-core'));
vi.mock('@tensorflow/tfjs-backend-webgl/dist/index.js', () => ({}));
vi.mock('@tensorflow/tfjs-backend-wasm/dist/index.js', () => ({}));

/** The part of face-api's FaceRecognitionNet used here, typed against this file's tfjs-core (face-api's d.ts declare their own copy). */
interface FaceApiNet {
  loadFromWeightMap(map: tf.NamedTensorMap): void;
  computeFaceDescriptor(input: tf.Tensor3D): Promise<Float32Array | Float32Array[]>;
  dispose(): void;
}

async function loadFaceApiNet(): Promise<FaceApiNet> {
  const faceapi = (await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js')) as unknown as { FaceRecognitionNet: new () => FaceApiNet };
  tf.enableProdMode(); // skips debug checks only; also silences the "install tfjs-node" banner
  await tf.setBackend('cpu');
  await tf.ready();
  // TF.js's own weight decoding (uint8 dequantization included), independent of tools/models/tfjs/weights.ts.
  const manifest = JSON.parse(readFileSync(path.join(MODEL_DIR, MANIFEST_FILE), 'utf8')) as WeightGroup[];
  const specs = manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(MODEL_DIR, p)))));
  const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs);
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(weightMap);
  return net;
}

interface Result {
  embedding: Float32Array;
  /** NHWC for the TF.js reference, NCHW for ONNX. */
  featureMap: Float32Array;
  pooled: Float32Array;
}

/**
 * face-api's descriptor, plus the input and output of its global average pool: face-api calls
 * `tensor.mean([1, 2])` exactly once per forward, so the chained op is wrapped for one call to
 * read the values face-api itself computed.
 */
async function faceApiForward(net: FaceApiNet, rgb: Float32Array): Promise<Result> {
  const proto = tf.Tensor.prototype;
  const original = proto.mean;
  const seen: { featureMap: Float32Array; shape: number[]; pooled: Float32Array }[] = [];
  proto.mean = function (this: tf.Tensor, ...args: Parameters<typeof original>) {
    const out = original.apply(this, args);
    seen.push({ featureMap: Float32Array.from(this.dataSync()), shape: this.shape, pooled: Float32Array.from(out.dataSync()) });
    return out;
  } as typeof original;
  const input = tf.tensor3d(rgb, [SIZE, SIZE, 3], 'float32');
  try {
    const embedding = (await net.computeFaceDescriptor(input)) as Float32Array;
    expect(seen.length).toBe(1);
    const [{ featureMap, shape, pooled }] = seen as [(typeof seen)[0]];
    expect(shape).toEqual([1, 2, 2, 256]);
    return { embedding, featureMap, pooled };
  } finally {
    proto.mean = original;
    input.dispose();
  }
}

async function onnxForward(session: ort.InferenceSession, images: Float32Array[]): Promise<Result[]> {
  const batch = new Float32Array(images.length * SIZE * SIZE * 3);
  images.forEach((img, i) => batch.set(img, i * SIZE * SIZE * 3));
  const out = await session.run({ image: new ort.Tensor('float32', batch, [images.length, SIZE, SIZE, 3]) });
  const fm = out.feature_map!;
  expect(fm.dims).toEqual([images.length, 256, 2, 2]);
  const per = (name: string, n: number, i: number): Float32Array => (out[name]!.data as Float32Array).slice(i * n, (i + 1) * n);
  return images.map((_, i) => ({ embedding: per('embedding', 128, i), featureMap: per('feature_map', 1024, i), pooled: per('pooled', 256, i) }));
}

const maxAbs = maxAbsDiff;
const maxOf = (a: ArrayLike<number>): number => maxAbsDiff(a, new Float32Array(a.length));
const distance = euclidean;

/** [N,H,W,C] -> [N,C,H,W]. */
function nhwcToNchw(data: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = data[(y * w + x) * c + k]!;
  return out;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Two faces in face-api's own demo photo (1920x1280, pinned by the package version); no shared data needed. */
const DEMO_FACES: { label: string; file: string; region: Region }[] = [
  { label: 'face-api demo sample1 (left)', file: path.join(FACEAPI, 'demo/sample1.jpg'), region: { left: 351, top: 290, width: 330, height: 330 } },
  { label: 'face-api demo sample1 (middle)', file: path.join(FACEAPI, 'demo/sample1.jpg'), region: { left: 770, top: 390, width: 330, height: 330 } },
];

/** LFW deep-funneled 250x250, face roughly centred: the central 150x150, at native scale. */
const LFW_CROP: Region = { left: 50, top: 50, width: 150, height: 150 };
const LFW_FACES = [
  ['George_W_Bush', 1],
  ['George_W_Bush', 2],
  ['Colin_Powell', 1],
  ['Colin_Powell', 2],
  ['Tony_Blair', 1],
  ['Serena_Williams', 1],
].map(([person, n]) => ({
  person: person as string,
  label: `${person}_${String(n).padStart(4, '0')}`,
  file: path.join(LFW, person as string, `${person}_${String(n).padStart(4, '0')}.jpg`),
}));

describe('face-api recognition net: ONNX vs face-api TF.js', () => {
  let bytes: Uint8Array;
  let session: ort.InferenceSession;
  let net: FaceApiNet;
  const table: string[] = [];

  beforeAll(async () => {
    bytes = buildFaceApiRecognizer(MODEL_DIR);
    session = await ort.InferenceSession.create(bytes);
    net = await loadFaceApiNet();
    if (!hasSharedData) console.warn(`models-faceapi: ${SHARED_DATA}/lfw is absent; the LFW parity test is skipped`);
  });
  afterAll(async () => {
    if (table.length) console.log(['image                              1 - cosine  |emb err|  |fmap err| |pool err| (|emb| max, |fmap| max)', ...table].join('\n'));
    net?.dispose();
    await session?.release();
  });

  /** Parity on each image (both in float32 from the same pixels); returns the ONNX embeddings. */
  async function checkParity(images: { label: string; rgb: Float32Array }[]): Promise<Float32Array[]> {
    const ours = await onnxForward(session, images.map((i) => i.rgb));
    const headOut = await session.run({ image: new ort.Tensor('float32', images[0]!.rgb, [1, SIZE, SIZE, 3]) }, ['head_weight']);
    const head = headOut.head_weight!;
    expect(head.dims).toEqual([256, 128]);
    const w = head.data as Float32Array;
    for (const [i, { label, rgb }] of images.entries()) {
      const ref = await faceApiForward(net, rgb);
      const o = ours[i]!;
      const cos = cosine(o.embedding, ref.embedding);
      const errs = [maxAbs(o.embedding, ref.embedding), maxAbs(o.featureMap, nhwcToNchw(ref.featureMap, 256, 2, 2)), maxAbs(o.pooled, ref.pooled)];
      table.push(
        `${label.padEnd(34)} ${(1 - cos).toExponential(1).padStart(8)}    ${errs.map((e) => e.toExponential(2).padStart(9)).join('  ')}  (${maxOf(ref.embedding).toFixed(3)}, ${maxOf(ref.featureMap).toFixed(3)})`,
      );
      expect(cos).toBeGreaterThanOrEqual(0.99999);
      // Tighter than cosine: dividing by 256 instead of face-api's 255 still gives 1 - cos ~3e-7 and
      // embedding errors ~3e-4; a faithful graph is at ~3e-7 (float32 summation order only).
      expect(1 - cos).toBeLessThan(1e-9);
      const [embErr, fmapErr, poolErr] = errs as [number, number, number];
      expect(embErr).toBeLessThan(2e-5);
      expect(fmapErr).toBeLessThan(2e-4);
      expect(poolErr).toBeLessThan(2e-5);

      // The exposed head reproduces the embedding: embedding = pooled @ head_weight, no bias.
      const viaHead = new Float64Array(128);
      for (let k = 0; k < 256; k++) for (let j = 0; j < 128; j++) viaHead[j]! += o.pooled[k]! * w[k * 128 + j]!;
      expect(maxAbs(viaHead, o.embedding)).toBeLessThan(1e-4);
      // pooled is the spatial mean of feature_map.
      const mean = Array.from({ length: 256 }, (_, k) => (o.featureMap[k * 4]! + o.featureMap[k * 4 + 1]! + o.featureMap[k * 4 + 2]! + o.featureMap[k * 4 + 3]!) / 4);
      expect(maxAbs(mean, o.pooled)).toBeLessThan(1e-5);
    }
    return ours.map((o) => o.embedding);
  }

  it('builds byte-identical models twice', () => {
    const again = buildFaceApiRecognizer(MODEL_DIR);
    expect(sha256(again)).toBe(sha256(bytes));
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(FACEAPI_RECOGNIZER.outputs.map((o) => o.name));
  });

  it('matches face-api on faces from its demo photo (no shared data needed)', async () => {
    const images = await Promise.all(DEMO_FACES.map(async (f) => ({ label: f.label, rgb: await rgbFloat(f.file, SIZE, SIZE, f.region) })));
    const emb = await checkParity(images);
    // A batch of N gives the same rows as N single runs.
    for (const [i, img] of images.entries()) {
      const [single] = await onnxForward(session, [img.rgb]);
      expect(maxAbs(single!.embedding, emb[i]!)).toBeLessThan(1e-5);
    }
  });

  it.skipIf(!hasSharedData)('matches face-api on LFW faces of 4 people, and same person is closer (needs ../shared/data/lfw)', async () => {
    const images = await Promise.all(LFW_FACES.map(async (f) => ({ label: f.label, rgb: await rgbFloat(f.file, SIZE, SIZE, LFW_CROP) })));
    const emb = await checkParity(images);
    const same: number[] = [];
    const different: number[] = [];
    for (let i = 0; i < emb.length; i++)
      for (let j = i + 1; j < emb.length; j++) (LFW_FACES[i]!.person === LFW_FACES[j]!.person ? same : different).push(distance(emb[i]!, emb[j]!));
    console.log(`LFW euclidean distances: same person ${same.map((d) => d.toFixed(3)).join(', ')}; different people min ${Math.min(...different).toFixed(3)}, max ${Math.max(...different).toFixed(3)}`);
    expect(Math.max(...same)).toBeLessThan(Math.min(...different));
  });

  it('times ONNX CPU vs face-api TF.js CPU at batch 1', async () => {
    const rgb = await rgbFloat(DEMO_FACES[0]!.file, SIZE, SIZE, DEMO_FACES[0]!.region);
    const time = async (warmup: number, runs: number, f: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < warmup; i++) await f();
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await f();
      return (performance.now() - t0) / runs;
    };
    const onnxMs = await time(3, 20, () => onnxForward(session, [rgb]));
    // TF.js's CPU backend is plain JavaScript (~1 s per face): a few runs are enough.
    const tfMs = await time(1, 3, async () => {
      const input = tf.tensor3d(rgb, [SIZE, SIZE, 3], 'float32');
      await net.computeFaceDescriptor(input);
      input.dispose();
    });
    console.log(`face-api recognition, batch 1, ms/image: onnxruntime-node CPU ${onnxMs.toFixed(1)}, TF.js CPU backend ${tfMs.toFixed(1)}`);
  });
});
