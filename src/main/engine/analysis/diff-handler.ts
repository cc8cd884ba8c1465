/**
 * `diff.pair`: the pair-difference map of two faces, cached in the catalog by exactly what
 * produced it (faces, settings, occluder, model hash), optionally written out as overlays on both
 * photos, the bare map and JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ParsedReq, Res } from '../../../shared/contract';
import { getAnalysis, putAnalysis } from '../catalog/analyses';
import type { Catalog } from '../catalog/catalog';
import { EngineError } from '../errors';
import type { InferenceService } from '../models/inference';
import { alignedFace, type AlignedFace } from './aligned-face';
import { cropToPhoto, heatmapPng, overlayPng } from './heatmap-render';
import { maxDelta, thetaNormalize, type OcclusionSample } from './pair-diff';
import { DENSE, diffFaces, fillFor, INTERACTIVE, loadThetas, rankParts, thetaFor, type DiffSettings, type PairDiffResult } from './pair-diff-service';

export async function diffPairHandler(req: ParsedReq<'diff.pair'>, ctx: { catalog: Catalog; inference: InferenceService; modelsDir: string }): Promise<Res<'diff.pair'>> {
  const base = req.dense ? DENSE : INTERACTIVE;
  const settings: DiffSettings = {
    recognizer: req.recognizer ?? base.recognizer,
    patch: req.patch ?? base.patch,
    stride: req.stride ?? base.stride,
    mode: req.mode,
    // A custom grid is computed as asked, without the coarse-to-fine shortcut.
    refine: req.patch !== undefined || req.stride !== undefined ? null : base.refine,
  };
  const entry = ctx.inference.registry.get(settings.recognizer);
  if (entry.task !== 'recognizer') throw new EngineError('invalid_request', `${entry.id} is a ${entry.task}, not a recognizer`);
  if (settings.patch > entry.input.width) throw new EngineError('invalid_request', `a ${settings.patch}-pixel patch does not fit ${entry.id}'s ${entry.input.width}-pixel crop`);
  const side = async (ref: ParsedReq<'diff.pair'>['a'], label: string): Promise<AlignedFace> => {
    try {
      return await alignedFace(ref.path !== undefined ? { path: ref.path } : { sha256: ref.sha256 as string }, ctx, entry, ref.face ?? 'primary');
    } catch (e) {
      throw new EngineError('invalid_request', `${label}: ${(e as Error).message}`);
    }
  };
  const a = await side(req.a, 'first image');
  const b = await side(req.b, 'second image');
  const thetas = loadThetas(ctx.modelsDir);
  const fill = fillFor(thetas, entry.id);
  const spec = {
    kind: 'pair-difference',
    inputs: { a: { sha256: a.sha256, face: a.face }, b: { sha256: b.sha256, face: b.face } },
    params: { ...settings, fill },
    models: { [entry.id]: entry.sha256 },
  };
  let result: PairDiffResult;
  let cached = false;
  const hit = getAnalysis(ctx.catalog, spec);
  if (hit?.payload) {
    const stored = hit.result as { distance: number; forwardPasses: number; millis: number; samples: OcclusionSample[] };
    const delta = new Float32Array(hit.payload.buffer.slice(hit.payload.byteOffset, hit.payload.byteOffset + hit.payload.byteLength));
    const theta = thetaFor(thetas, entry, settings) ?? null;
    const peak = maxDelta(delta);
    result = {
      recognizer: entry.id,
      modelSha256: entry.sha256,
      settings,
      width: entry.input.width,
      height: entry.input.height,
      distance: stored.distance,
      forwardPasses: stored.forwardPasses,
      millis: stored.millis,
      delta,
      normalized: thetaNormalize(delta, theta?.theta ?? (peak > 0 ? peak : 1)),
      theta,
      maxDelta: peak,
      parts: rankParts(delta, entry.input.width, entry.input.height, [a.mesh, b.mesh], stored.samples),
      samples: stored.samples,
    };
    cached = true;
  } else {
    result = await diffFaces(a, b, entry, ctx.inference, settings, thetas);
    putAnalysis(ctx.catalog, spec, { distance: result.distance, forwardPasses: result.forwardPasses, millis: result.millis, samples: result.samples }, new Uint8Array(result.delta.buffer));
  }

  const files: string[] = [];
  const round = (xs: Float32Array): number[] => Array.from(xs, (v) => Math.round(v * 1e4) / 1e4);
  const response: Res<'diff.pair'> = {
    recognizer: entry.id,
    modelSha256: entry.sha256,
    settings: { patch: settings.patch, stride: settings.stride, mode: settings.mode, refined: settings.refine !== null },
    width: result.width,
    height: result.height,
    distance: result.distance,
    forwardPasses: result.forwardPasses,
    millis: result.millis,
    cached,
    maxDelta: result.maxDelta,
    theta: result.theta,
    map: round(result.normalized),
    parts: result.parts,
    a: { sha256: a.sha256, face: a.face, facesFound: a.facesFound, cropToPhoto: cropToPhoto(a.toCrop) },
    b: { sha256: b.sha256, face: b.face, facesFound: b.facesFound, cropToPhoto: cropToPhoto(b.toCrop) },
    files,
  };
  if (req.outDir) {
    await mkdir(req.outDir, { recursive: true });
    const legend = {
      caption: `where ${entry.id} sees the faces differ (d1 - d2)`,
      max: result.theta ? `Θ = ${result.theta.theta.toPrecision(3)}` : `max ${result.maxDelta.toPrecision(3)} (no Θ)`,
    };
    const write = async (name: string, data: Buffer | string): Promise<void> => {
      const file = path.join(req.outDir as string, name);
      await writeFile(file, data);
      files.push(file);
    };
    await write('overlay-a.png', await overlayPng(a.image, result.normalized, result.width, result.height, a.toCrop, legend));
    await write('overlay-b.png', await overlayPng(b.image, result.normalized, result.width, result.height, b.toCrop, legend));
    await write('heatmap.png', await heatmapPng(result.normalized, result.width, result.height));
    await write('diff.json', `${JSON.stringify({ ...response, files: undefined, signedDelta: round(result.delta) }, null, 1)}\n`);
  }
  return response;
}
