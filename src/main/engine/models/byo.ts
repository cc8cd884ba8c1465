/**
 * Bring-your-own recognizer: a lab registers an ONNX file plus a manifest entry. The file is
 * checked against the entry (input name, NHWC size, output names, embedding size) by loading it
 * and running one inference, then copied into `<catalog>/models/` under its hash and listed in
 * that folder's manifest.json. Nothing is registered when any check fails.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { Alignment, Manifest, type ModelEntry } from './manifest';
import { ModelRegistry } from './registry';

/** What the lab writes: the parts of a manifest entry only they can know. */
export const RecognizerSpec = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, 'use lowercase letters, digits and dashes'),
    description: z.string().min(1),
    input: z
      .object({
        name: z.string().min(1),
        height: z.number().int().min(16).max(1024),
        width: z.number().int().min(16).max(1024),
        colorOrder: z.enum(['RGB', 'BGR']),
        range: z.tuple([z.number(), z.number()]),
        normalization: z.string().default('none beyond the range'),
      })
      .strict(),
    outputs: z
      .object({
        embedding: z.string().min(1),
        featureMap: z.string().min(1).optional(),
      })
      .strict(),
    embeddingDim: z.number().int().min(8).max(8192),
    alignment: Alignment,
    defaultThreshold: z.number().min(-1).max(1).nullable().default(null),
  })
  .strict();
export type RecognizerSpec = z.input<typeof RecognizerSpec>;

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

const dimsText = (d: readonly (number | string)[]): string => `[${d.join(', ')}]`;

/** Loads the model and checks it against the spec; returns the problems found (empty when it fits). */
export async function checkRecognizer(bytes: Uint8Array, spec: z.output<typeof RecognizerSpec>): Promise<string[]> {
  const problems: string[] = [];
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (e) {
    return [`the file is not a loadable ONNX model (${(e as Error).message.split('\n')[0]})`];
  }
  try {
    const input = session.inputMetadata.find((m) => m.name === spec.input.name);
    if (!input) problems.push(`no input named "${spec.input.name}" (the model's inputs: ${session.inputNames.join(', ')})`);
    else if (input.isTensor) {
      const d = input.shape;
      const fixed = (i: number, want: number): boolean => typeof d[i] !== 'number' || d[i] === want;
      if (d.length !== 4 || !fixed(1, spec.input.height) || !fixed(2, spec.input.width) || !fixed(3, 3)) {
        problems.push(
          `input "${input.name}" has shape ${dimsText(d)}; the entry says NHWC [batch, ${spec.input.height}, ${spec.input.width}, 3]`,
        );
      }
      if (input.type !== 'float32') problems.push(`input "${input.name}" is ${input.type}; Facet feeds float32`);
    }
    for (const [role, name] of Object.entries(spec.outputs)) {
      if (name && !session.outputNames.includes(name)) {
        problems.push(`no output named "${name}" for the ${role} (the model's outputs: ${session.outputNames.join(', ')})`);
      }
    }
    if (problems.length) return problems;
    // One real run: shapes the metadata leaves symbolic are only known here.
    const n = spec.input.height * spec.input.width * 3;
    const probe = new Float32Array(n).map((_, i) => spec.input.range[0] + ((i % 251) / 250) * (spec.input.range[1] - spec.input.range[0]));
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [spec.input.name]: new ort.Tensor('float32', probe, [1, spec.input.height, spec.input.width, 3]) });
    } catch (e) {
      return [`the model failed on a ${spec.input.height}x${spec.input.width} input (${(e as Error).message.split('\n')[0]})`];
    }
    const emb = out[spec.outputs.embedding] as ort.Tensor;
    if (emb.dims.length !== 2 || emb.dims[0] !== 1 || emb.dims[1] !== spec.embeddingDim) {
      problems.push(`output "${spec.outputs.embedding}" has shape ${dimsText(emb.dims)}; the entry says [batch, ${spec.embeddingDim}]`);
    } else if (!(emb.data as Float32Array).every(Number.isFinite)) problems.push('the embedding contains NaN or infinite values');
    if (spec.outputs.featureMap) {
      const fm = out[spec.outputs.featureMap] as ort.Tensor;
      if (fm.dims.length !== 4) problems.push(`output "${spec.outputs.featureMap}" has shape ${dimsText(fm.dims)}; a feature map is NCHW [batch, C, H, W]`);
    }
    return problems;
  } finally {
    await session.release();
  }
}

/** Registers a lab recognizer in `userDir`; throws RegistrationError listing every problem. */
export async function registerRecognizer(
  bundledDir: string,
  userDir: string,
  onnxFile: string,
  rawSpec: unknown,
): Promise<ModelEntry> {
  const parsed = RecognizerSpec.safeParse(rawSpec);
  if (!parsed.success) {
    throw new RegistrationError(`The manifest entry is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const spec = parsed.data;
  if (!existsSync(onnxFile)) throw new RegistrationError(`No such file: ${onnxFile}`);
  const registry = new ModelRegistry(bundledDir, userDir);
  if (registry.manifest.models.some((m) => m.id === spec.id)) throw new RegistrationError(`A model with id "${spec.id}" is already registered.`);
  const bytes = readFileSync(onnxFile);
  const problems = await checkRecognizer(bytes, spec);
  if (problems.length) throw new RegistrationError(`The model does not match its entry:\n- ${problems.join('\n- ')}`);

  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const entry: ModelEntry = {
    id: spec.id,
    task: 'recognizer',
    description: spec.description,
    source: { package: 'lab', version: '-', files: [{ path: path.basename(onnxFile), sha256 }] },
    file: `${spec.id}-${sha256.slice(0, 12)}.onnx`,
    sha256,
    bytes: bytes.length,
    input: { name: spec.input.name, layout: 'NHWC', height: spec.input.height, width: spec.input.width, channels: 3, colorOrder: spec.input.colorOrder, range: spec.input.range, normalization: spec.input.normalization },
    outputs: [
      { name: spec.outputs.embedding, shape: ['batch', spec.embeddingDim], meaning: 'face descriptor' },
      ...(spec.outputs.featureMap ? [{ name: spec.outputs.featureMap, shape: ['batch', 'channels', 'height', 'width'], meaning: 'last convolutional activation, NCHW' }] : []),
    ],
    alignment: spec.alignment,
    embeddingDim: spec.embeddingDim,
    defaultThreshold: spec.defaultThreshold,
  };
  mkdirSync(userDir, { recursive: true });
  copyFileSync(onnxFile, path.join(userDir, entry.file));
  const manifestFile = path.join(userDir, 'manifest.json');
  const current: Manifest = existsSync(manifestFile)
    ? Manifest.parse(JSON.parse(readFileSync(manifestFile, 'utf8')))
    : { schema: 1, generator: 'facet models add', models: [] };
  const next = Manifest.parse({ ...current, models: [...current.models, entry] });
  const tmp = `${manifestFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, manifestFile);
  return entry;
}
