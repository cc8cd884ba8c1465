/**
 * The ONNX re-expressions of face-api's FaceLandmark68Net (tools/models/faceapi/landmarks68.ts) and
 * SsdMobilenetv1 (tools/models/faceapi/ssd.ts) against face-api's own TF.js nets, same weights, TF.js
 * CPU backend, on the same pixels. Also checks the preprocessing and back-mapping the manifest notes
 * describe against face-api's full path on non-square inputs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node build leaves out the chained ops (t.as2D(), t.div(), ...) that face-api calls.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFaceApiLandmarks68, FACEAPI_LANDMARKS68, MANIFEST_FILE as LANDMARKS_MANIFEST } from '../../tools/models/faceapi/landmarks68';
import { ANCHORS, buildFaceApiSsd, FACEAPI_SSD, MANIFEST_FILE as SSD_MANIFEST } from '../../tools/models/faceapi/ssd';
import type { WeightGroup } from '../../tools/models/tfjs/weights';
import { hasSharedData, REPO_ROOT, SHARED_DATA } from '../helpers/fixtures';
import { rgbFloat, type Region } from '../helpers/images';
import { maxAbsDiff } from '../helpers/math';

const FACEAPI = path.join(REPO_ROOT, 'node_modules/@vladmandic/face-api');
const MODEL_DIR = path.join(FACEAPI, 'model');
const LFW = path.join(SHARED_DATA, 'lfw/images');
const LM_SIZE = FACEAPI_LANDMARKS68.input.width;
const SSD_SIZE = FACEAPI_SSD.input.width;
/** TF.js's CPU backend (plain JavaScript) takes ~10 s per 512x512 SSD forward on a 2-core machine. */
const SSD_TIMEOUT = 180_000;

// As in models-faceapi.test.ts: face-api's unbundled build on this file's tfjs-core, the backends it never uses here stubbed.
vi.mock('@tensorflow/tfjs/dist/index.js', async () => await import('@tensorflow/tfjs-core'));
vi.mock('@tensorflow/tfjs-backend-webgl/dist/index.js', () => ({}));
vi.mock('@tensorflow/tfjs-backend-wasm/dist/index.js', () => ({}));

type Input = tf.Tensor3D | tf.Tensor3D[];
interface LandmarkNet {
  loadFromWeightMap(map: tf.NamedTensorMap): void;
  forward(input: Input): Promise<tf.Tensor2D>;
  dispose(): void;
}
interface SsdNet {
  loadFromWeightMap(map: tf.NamedTensorMap): void;
  forward(input: Input): Promise<{ boxes: tf.Tensor2D[]; scores: tf.Tensor1D[] }>;
  locateFaces(input: tf.Tensor3D): Promise<{ score: number; box: { x: number; y: number; width: number; height: number } }[]>;
  dispose(): void;
}
interface FaceApi {
  FaceLandmark68Net: new () => LandmarkNet;
  SsdMobilenetv1: new () => SsdNet;
}

/** TF.js's own weight decoding (uint8 dequantization included), independent of tools/models/tfjs/weights.ts. */
function weightMap(manifestFile: string): tf.NamedTensorMap {
  const manifest = JSON.parse(readFileSync(path.join(MODEL_DIR, manifestFile), 'utf8')) as WeightGroup[];
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(MODEL_DIR, p)))));
  return tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[]);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const maxOf = (a: ArrayLike<number>): number => maxAbsDiff(a, new Float32Array(a.length));
const lfwFile = (person: string, n: number): string => path.join(LFW, person, `${person}_${String(n).padStart(4, '0')}.jpg`);
const LFW_IMAGES = [
  ['George_W_Bush', 1],
  ['George_W_Bush', 2],
  ['Colin_Powell', 1],
  ['Tony_Blair', 1],
  ['Serena_Williams', 1],
].map(([person, n]) => ({ label: `${person}_${String(n).padStart(4, '0')}`, file: lfwFile(person as string, n as number) }));
/** LFW deep-funneled 250x250: the face square used by test/helpers/images.ts facePhotos(). */
const LFW_FACE: Region = { left: 68, top: 68, width: 114, height: 114 };

async function onnxRun(session: ort.InferenceSession, images: Float32Array[], size: number): Promise<ort.InferenceSession.OnnxValueMapType> {
  const batch = new Float32Array(images.length * size * size * 3);
  images.forEach((img, i) => batch.set(img, i * size * size * 3));
  return session.run({ image: new ort.Tensor('float32', batch, [images.length, size, size, 3]) });
}

/** HWC float pixels of `file` at native scale, cropped to `region`. */
async function nativeCrop(file: string, region: Region): Promise<Float32Array> {
  return rgbFloat(file, region.width, region.height, region);
}

/** tf.image.resizeBilinear(x, [size, size], alignCorners = false, halfPixelCenters = false), in plain TypeScript. */
function resizeBilinear(rgb: Float32Array, width: number, height: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const sy = height / size;
  const sx = width / size;
  for (let y = 0; y < size; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const dy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = x * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const dx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number): number => rgb[(yy * width + xx) * 3 + c]!;
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * dx;
        const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * dx;
        out[(y * size + x) * 3 + c] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** Zero-pads an HWC image to a square: `before` pixels ahead of the image on the short axis, the rest after. */
function padToSquare(rgb: Float32Array, width: number, height: number, before: number): { rgb: Float32Array; side: number } {
  const side = Math.max(width, height);
  const padX = width < height ? before : 0;
  const padY = height < width ? before : 0;
  const out = new Float32Array(side * side * 3);
  for (let y = 0; y < height; y++) out.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((y + padY) * side + padX) * 3);
  return { rgb: out, side };
}

describe('face-api landmarks68 and SSD nets: ONNX vs face-api TF.js', () => {
  let faceapi: FaceApi;
  const table: string[] = [];

  beforeAll(async () => {
    faceapi = (await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js')) as unknown as FaceApi;
    tf.enableProdMode(); // skips debug checks only; also silences the "install tfjs-node" banner
    await tf.setBackend('cpu');
    await tf.ready();
    if (!hasSharedData) console.warn(`models-faceapi-detect: ${SHARED_DATA}/lfw is absent; the LFW tests are skipped`);
  });
  afterAll(() => {
    if (table.length) console.log(['model / image                         output      max|err|   scale   (err in input px)', ...table].join('\n'));
  });

  const row = (label: string, output: string, err: number, scale: number, px?: number): void => {
    table.push(`${label.padEnd(37)} ${output.padEnd(10)} ${err.toExponential(2).padStart(9)} ${scale.toFixed(3).padStart(7)}${px === undefined ? '' : `   ${px.toExponential(2)} px`}`);
  };

  describe('FaceLandmark68Net', () => {
    let bytes: Uint8Array;
    let session: ort.InferenceSession;
    let net: LandmarkNet;

    beforeAll(async () => {
      bytes = buildFaceApiLandmarks68(MODEL_DIR);
      session = await ort.InferenceSession.create(bytes);
      net = new faceapi.FaceLandmark68Net();
      net.loadFromWeightMap(weightMap(LANDMARKS_MANIFEST));
    });
    afterAll(async () => {
      net?.dispose();
      await session?.release();
    });

    /** face-api's landmarks (fractions of its input) for one HWC image of any shape. */
    async function reference(rgb: Float32Array, width: number, height: number): Promise<Float32Array> {
      const input = tf.tensor3d(rgb, [height, width, 3], 'float32');
      try {
        const out = await net.forward(input);
        const data = Float32Array.from(out.dataSync());
        out.dispose();
        return data;
      } finally {
        input.dispose();
      }
    }

    it('builds byte-identical models twice', () => {
      expect(sha256(buildFaceApiLandmarks68(MODEL_DIR))).toBe(sha256(bytes));
      expect(session.inputNames).toEqual(['image']);
      expect(session.outputNames).toEqual(['landmarks']);
    });

    it.skipIf(!hasSharedData)('matches face-api on LFW faces at 112x112, single and batched (needs ../shared/data/lfw)', async () => {
      const images = await Promise.all(LFW_IMAGES.map(async (f) => ({ label: f.label, rgb: await rgbFloat(f.file, LM_SIZE, LM_SIZE, LFW_FACE) })));
      const batched = (await onnxRun(session, images.map((i) => i.rgb), LM_SIZE)).landmarks!;
      expect(batched.dims).toEqual([images.length, 136]);
      let worst = 0;
      for (const [i, { label, rgb }] of images.entries()) {
        const ref = await reference(rgb, LM_SIZE, LM_SIZE);
        const single = (await onnxRun(session, [rgb], LM_SIZE)).landmarks!.data as Float32Array;
        const ours = (batched.data as Float32Array).slice(i * 136, (i + 1) * 136);
        const err = maxAbsDiff(single, ref);
        row(`landmarks68 ${label}`, 'landmarks', err, maxOf(ref), err * LM_SIZE);
        worst = Math.max(worst, err * LM_SIZE);
        // Fractions of the input, compared in input pixels: measured ~2e-5 px (float32 rounding only).
        expect(err * LM_SIZE).toBeLessThan(2e-4);
        expect(maxAbsDiff(ours, single) * LM_SIZE).toBeLessThan(2e-4);
        // Plausible geometry: every point inside the crop, the eyes (36-47) above the mouth (48-67).
        const ys = (from: number, to: number): number => {
          let s = 0;
          for (let k = from; k < to; k++) s += single[2 * k + 1]!;
          return s / (to - from);
        };
        expect(Math.min(...single)).toBeGreaterThan(-0.05);
        expect(Math.max(...single)).toBeLessThan(1.05);
        expect(ys(36, 48)).toBeLessThan(ys(48, 68));
      }
      console.log(`landmarks68: max |ONNX - face-api| over ${images.length} LFW faces = ${worst.toExponential(2)} input px (112x112)`);
    });

    it.skipIf(!hasSharedData)("follows the manifest's padding and back-mapping on non-square boxes, as face-api does end to end", async () => {
      const boxes: Region[] = [
        { left: 60, top: 50, width: 130, height: 151 }, // tall, odd difference
        { left: 40, top: 70, width: 170, height: 120 }, // wide
      ];
      for (const box of boxes) {
        const rgb = await nativeCrop(LFW_IMAGES[0]!.file, box);
        const { width: w, height: h } = box;
        const ref = await reference(rgb, w, h);
        const diff = Math.abs(w - h);
        const padded = padToSquare(rgb, w, h, diff - Math.round(diff / 2));
        const v = (await onnxRun(session, [resizeBilinear(padded.rgb, padded.side, padded.side, LM_SIZE)], LM_SIZE)).landmarks!.data as Float32Array;
        const scale = LM_SIZE / Math.max(w, h);
        const [ws, hs] = [w * scale, h * scale];
        const padX = ws < hs ? Math.abs(ws - hs) / 2 : 0;
        const padY = hs < ws ? Math.abs(ws - hs) / 2 : 0;
        const mapped = Array.from(v, (t, k) => (k % 2 ? (t * LM_SIZE - padY) / hs : (t * LM_SIZE - padX) / ws));
        const err = maxAbsDiff(mapped, ref);
        row(`landmarks68 ${w}x${h} box, face-api path`, 'landmarks', err, maxOf(ref), err * Math.max(w, h));
        // In box pixels (measured ~3e-5): the padding and mapping are face-api's, not merely close to them.
        expect(err * Math.max(w, h)).toBeLessThan(5e-4);
      }
    });
  });

  describe('SsdMobilenetv1', () => {
    let bytes: Uint8Array;
    let session: ort.InferenceSession;
    let net: SsdNet;

    beforeAll(async () => {
      bytes = buildFaceApiSsd(MODEL_DIR);
      session = await ort.InferenceSession.create(bytes);
      net = new faceapi.SsdMobilenetv1();
      net.loadFromWeightMap(weightMap(SSD_MANIFEST));
    });
    afterAll(async () => {
      net?.dispose();
      await session?.release();
    });

    it('builds byte-identical models twice', () => {
      expect(sha256(buildFaceApiSsd(MODEL_DIR))).toBe(sha256(bytes));
      expect(session.inputNames).toEqual(['image']);
      expect(session.outputNames).toEqual(['boxes', 'scores']);
    });

    it.skipIf(!hasSharedData)('matches face-api on whole LFW images, and finds the centred face (needs ../shared/data/lfw)', async () => {
      const images = await Promise.all(LFW_IMAGES.slice(0, 3).map(async (f) => ({ label: f.label, rgb: await rgbFloat(f.file, SSD_SIZE, SSD_SIZE) })));
      const out = await onnxRun(session, images.map((i) => i.rgb), SSD_SIZE);
      expect(out.boxes!.dims).toEqual([images.length, ANCHORS, 4]);
      expect(out.scores!.dims).toEqual([images.length, ANCHORS]);
      for (const [i, { label, rgb }] of images.entries()) {
        const boxes = (out.boxes!.data as Float32Array).slice(i * ANCHORS * 4, (i + 1) * ANCHORS * 4);
        const scores = (out.scores!.data as Float32Array).slice(i * ANCHORS, (i + 1) * ANCHORS);
        const input = tf.tensor3d(rgb, [SSD_SIZE, SSD_SIZE, 3], 'float32');
        const ref = await net.forward(input);
        const refBoxes = ref.boxes[0]!.dataSync() as Float32Array;
        const refScores = ref.scores[0]!.dataSync() as Float32Array;
        tf.dispose([input, ...ref.boxes, ...ref.scores]);

        const boxErr = maxAbsDiff(boxes, refBoxes);
        const scoreErr = maxAbsDiff(scores, refScores);
        row(`ssd ${label}`, 'boxes', boxErr, maxOf(refBoxes), boxErr * SSD_SIZE);
        row(`ssd ${label}`, 'scores', scoreErr, maxOf(refScores));
        // Boxes are fractions of the input (anchors past the edges reach |v| ~ 1.4), measured ~4e-3 input px; scores 0..1, ~1.5e-6.
        expect(boxErr * SSD_SIZE).toBeLessThan(0.02);
        expect(scoreErr).toBeLessThan(2e-5);

        let best = 0;
        for (let k = 1; k < ANCHORS; k++) if (scores[k]! > scores[best]!) best = k;
        const [ymin, xmin, ymax, xmax] = Array.from(boxes.slice(best * 4, best * 4 + 4)) as [number, number, number, number];
        console.log(`ssd ${label}: best score ${scores[best]!.toFixed(4)}, box (y ${ymin.toFixed(3)}..${ymax.toFixed(3)}, x ${xmin.toFixed(3)}..${xmax.toFixed(3)})`);
        expect(scores[best]).toBeGreaterThan(0.5);
        // LFW faces are centred in their 250x250 images, roughly a third of the width.
        expect(Math.abs((xmin + xmax) / 2 - 0.5)).toBeLessThan(0.1);
        expect(Math.abs((ymin + ymax) / 2 - 0.5)).toBeLessThan(0.12);
        expect(xmax - xmin).toBeGreaterThan(0.2);
        expect(xmax - xmin).toBeLessThan(0.7);
      }
      // A batch of N gives the same rows as N single runs.
      const single = await onnxRun(session, [images[1]!.rgb], SSD_SIZE);
      expect(maxAbsDiff(single.scores!.data as Float32Array, (out.scores!.data as Float32Array).slice(ANCHORS, 2 * ANCHORS))).toBeLessThan(1e-5);
    }, SSD_TIMEOUT);

    it.skipIf(!hasSharedData)("follows the manifest's padding and back-mapping on a non-square image, as face-api's locateFaces does", async () => {
      const box: Region = { left: 0, top: 20, width: 250, height: 190 };
      const rgb = await nativeCrop(LFW_IMAGES[2]!.file, box);
      const input = tf.tensor3d(rgb, [box.height, box.width, 3], 'float32');
      const detections = await net.locateFaces(input);
      input.dispose();
      expect(detections.length).toBeGreaterThanOrEqual(1);
      const top = detections[0]!;

      // Manifest notes: pad right/bottom with zeros to a square, resize, best anchor, clip, times max(w, h).
      const padded = padToSquare(rgb, box.width, box.height, 0);
      const side = padded.side;
      const out = await onnxRun(session, [resizeBilinear(padded.rgb, side, side, SSD_SIZE)], SSD_SIZE);
      const scores = out.scores!.data as Float32Array;
      let best = 0;
      for (let k = 1; k < ANCHORS; k++) if (scores[k]! > scores[best]!) best = k;
      const clip = (v: number): number => Math.min(1, Math.max(0, v)) * side;
      const [ymin, xmin, ymax, xmax] = Array.from((out.boxes!.data as Float32Array).slice(best * 4, best * 4 + 4), clip) as [number, number, number, number];
      const ours = { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin };
      const errPx = Math.max(Math.abs(ours.x - top.box.x), Math.abs(ours.y - top.box.y), Math.abs(ours.width - top.box.width), Math.abs(ours.height - top.box.height));
      row(`ssd ${box.width}x${box.height} image, locateFaces`, 'box', errPx / side, 1, errPx);
      expect(Math.abs(scores[best]! - top.score)).toBeLessThan(1e-3);
      // face-api rounds the resized size (190 -> 389 of 512) before mapping back: ~0.03 px here.
      expect(errPx).toBeLessThan(0.1);
    }, SSD_TIMEOUT);
  });
});
