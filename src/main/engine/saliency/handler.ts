/**
 * The contract's saliency methods: explain a face with one or more methods (side by side, same
 * target), record an analyst's salient region, and compare analysts' regions with a method's maps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ParsedReq, Res } from '../../../shared/contract';
import type { Catalog } from '../catalog/catalog';
import { addAnnotation, listAnnotations } from '../catalog/review';
import { EngineError } from '../errors';
import type { InferenceService } from '../models/inference';
import type { ModelEntry } from '../models/manifest';
import { alignedFace, type AlignedFace } from '../analysis/aligned-face';
import { cropToPhoto, heatmapPng, overlayPng } from '../analysis/heatmap-render';
import { fillFor, loadThetas, toRange } from '../analysis/pair-diff-service';
import { partMasks, PART_NAMES } from '../vision/parts';
import { agreement, boxMask, parseSalientBody, salientBody, type AnalystLabel } from './agreement';
import type { Target } from './explainer';
import { explain, explainer, type SaliencyResult } from './index';
import { massInside } from './maps';
import type { SaliencyRuntime } from './runtime';
import { classTarget, notClassTarget, subjectOf, TargetError, type FaceEmbedder } from './targets';

/** Default recognizer: the fastest bundled one (interactive maps), as for pair differences. */
export const DEFAULT_SALIENCY_MODEL = 'mobileface';

export const SaliencyFile = z.object({
  schema: z.literal(1),
  epsilons: z.array(
    z.object({
      model: z.string(),
      modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** Paper 001: the mean over a validation set of each unit-mass EBP map's 70th percentile. */
      epsilon: z.number().nonnegative(),
      percentile: z.number(),
      faces: z.number().int(),
      set: z.string(),
      measuredAt: z.string(),
    }),
  ),
});
export type SaliencyFile = z.infer<typeof SaliencyFile>;

export function loadSaliencyFile(modelsDir: string): SaliencyFile {
  const file = path.join(modelsDir, 'saliency.json');
  if (!existsSync(file)) return { schema: 1, epsilons: [] };
  const parsed = SaliencyFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`The saliency file ${file} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

export function epsilonFor(modelsDir: string, entry: ModelEntry): number | undefined {
  return loadSaliencyFile(modelsDir).epsilons.find((e) => e.model === entry.id && e.modelSha256 === entry.sha256)?.epsilon;
}

export interface SaliencyContext {
  catalog: Catalog;
  inference: InferenceService;
  runtime: () => Promise<SaliencyRuntime>;
  modelsDir: string;
  actor: string;
}

type TargetReq = NonNullable<ParsedReq<'saliency.explain'>['target']>;

async function resolveTarget(t: TargetReq, face: AlignedFace, entry: ModelEntry, ctx: SaliencyContext, rt: SaliencyRuntime): Promise<Target> {
  if (t.kind === 'pair') {
    const ref = await alignedFace(t.face.path !== undefined ? { path: t.face.path } : { sha256: t.face.sha256 as string }, ctx, entry, t.face.face ?? 'primary');
    const { embedding } = await rt.forward(entry.id, ref.crop, 1);
    return { kind: 'pair', label: `portrait ${ref.sha256.slice(0, 12)}`, vector: embedding.data };
  }
  const embed = embedderFor(ctx, entry, rt);
  if (t.kind === 'class') return classTarget(ctx.catalog, entry.id, entry.sha256, t.subject, face.sha256, embed);
  return notClassTarget(ctx.catalog, entry.id, entry.sha256, t.subject, embed);
}

/** The occluder colour of the pair-difference maps (mean of aligned reference faces), in the model's range. */
function referenceFor(ctx: SaliencyContext, entry: ModelEntry): number[] {
  return toRange(fillFor(loadThetas(ctx.modelsDir), entry.id), entry.input.range);
}

function embedderFor(ctx: SaliencyContext, entry: ModelEntry, rt: SaliencyRuntime): FaceEmbedder {
  return async (sha256, idx) => (await rt.forward(entry.id, (await alignedFace({ sha256 }, ctx, entry, idx)).crop, 1)).embedding.data;
}

function partShares(map: Float32Array, face: AlignedFace, width: number, height: number): { part: string; share: number; density: number }[] {
  const masks = partMasks(face.mesh, width, height);
  return PART_NAMES.map((part, k) => {
    const m = masks[k]!;
    const share = massInside(map, m.mask);
    return { part, share, density: m.area > 0 ? share / (m.area / (width * height)) : 0 };
  }).sort((a, b) => b.density - a.density);
}

export async function explainHandler(req: ParsedReq<'saliency.explain'>, ctx: SaliencyContext): Promise<Res<'saliency.explain'>> {
  const rt = await ctx.runtime();
  const model = req.model ?? DEFAULT_SALIENCY_MODEL;
  let entry: ModelEntry;
  try {
    entry = rt.entry(model);
  } catch (e) {
    throw new EngineError('invalid_request', (e as Error).message);
  }
  const ref = req.face;
  let face: AlignedFace;
  try {
    face = await alignedFace(ref.path !== undefined ? { path: ref.path } : { sha256: ref.sha256 as string }, ctx, entry, ref.face ?? 'primary');
  } catch (e) {
    throw new EngineError('invalid_request', `face: ${(e as Error).message}`);
  }
  const subject = subjectOf(ctx.catalog, face.sha256);
  const needsContrast = req.methods.some((m) => explainer(m).contrastive);
  let target: Target;
  let contrast: Target | undefined;
  try {
    const t: TargetReq | undefined = req.target ?? (subject ? { kind: 'class', subject } : undefined);
    if (!t) throw new TargetError('this portrait has no subject: name a target (a pair face, or a class subject)');
    target = await resolveTarget(t, face, entry, ctx, rt);
    if (needsContrast) {
      const c: TargetReq = req.contrast ?? { kind: 'not-class', subject: t.kind === 'pair' ? (subject ?? '') : t.subject };
      contrast = await resolveTarget(c, face, entry, ctx, rt);
    }
  } catch (e) {
    if (e instanceof TargetError) throw new EngineError('invalid_request', e.message);
    throw new EngineError('invalid_request', `target: ${(e as Error).message}`);
  }
  const epsilon = epsilonFor(ctx.modelsDir, entry);
  if (req.methods.includes('tcebp') && epsilon === undefined) {
    throw new EngineError('invalid_request', `truncated cEBP has no epsilon for ${entry.id} (${entry.sha256.slice(0, 12)}): run \`npx tsx tools/calibrate-saliency.ts\``);
  }
  const reference = referenceFor(ctx, entry);
  const results: SaliencyResult[] = [];
  for (const method of req.methods) {
    results.push(await explain(rt, method, { model: entry.id, crop: face.crop, target, reference, ...(contrast ? { contrast } : {}), ...(epsilon !== undefined ? { epsilon } : {}) }));
  }
  const { width, height } = entry.input;
  const files: string[] = [];
  const display = (map: Float32Array): Float32Array => {
    let peak = 0;
    for (const v of map) peak = Math.max(peak, v);
    return peak > 0 ? Float32Array.from(map, (v) => v / peak) : map;
  };
  if (req.outDir) {
    await mkdir(req.outDir, { recursive: true });
    for (const r of results) {
      const d = display(r.map);
      const legend = { caption: `${explainer(r.method).label} for ${target.label} (${entry.id})`, max: 'peak' };
      const file = path.join(req.outDir, `${r.method}-overlay.png`);
      await writeFile(file, await overlayPng(face.image, d, width, height, face.toCrop, legend));
      const heat = path.join(req.outDir, `${r.method}-map.png`);
      await writeFile(heat, await heatmapPng(d, width, height));
      files.push(file, heat);
    }
  }
  const round = (xs: Float32Array): number[] => Array.from(xs, (v) => Math.round(v * 1e4) / 1e4);
  return {
    model: entry.id,
    modelSha256: entry.sha256,
    width,
    height,
    face: { sha256: face.sha256, face: face.face, facesFound: face.facesFound, cropToPhoto: cropToPhoto(face.toCrop) },
    target: { kind: target.kind, label: target.label },
    contrast: contrast ? { kind: contrast.kind, label: contrast.label } : null,
    epsilon: epsilon ?? null,
    results: results.map((r) => ({
      method: r.method,
      label: explainer(r.method).label,
      map: round(display(r.map)),
      passes: r.passes,
      millis: r.millis,
      parts: partShares(r.map, face, width, height),
    })),
    files,
  };
}

function faceIdOf(catalog: Catalog, sha256: string, idx: number): number {
  const row = catalog.db.prepare('SELECT id FROM faces WHERE portrait = ? AND idx = ?').get(sha256, idx) as { id: number } | undefined;
  if (!row) throw new EngineError('not_found', `portrait ${sha256.slice(0, 12)} has no analysed face ${idx}: import it with face analysis first`);
  return row.id;
}

export function annotateHandler(req: ParsedReq<'saliency.annotate'>, ctx: SaliencyContext): Res<'saliency.annotate'> {
  const id = faceIdOf(ctx.catalog, req.sha256, req.face);
  return addAnnotation(ctx.catalog, { target: { kind: 'face', id: String(id) }, body: salientBody(req.label), region: req.box }, ctx.actor);
}

export async function agreementHandler(req: ParsedReq<'saliency.agreement'>, ctx: SaliencyContext): Promise<Res<'saliency.agreement'>> {
  const rt = await ctx.runtime();
  const entry = rt.entry(req.model ?? DEFAULT_SALIENCY_MODEL);
  const faces = req.sha256
    ? [{ sha256: req.sha256, idx: req.face ?? 0 }]
    : (ctx.catalog.db
        .prepare('SELECT f.portrait AS sha256, f.idx FROM faces f JOIN portraits p ON p.sha256 = f.portrait JOIN subjects s ON s.id = p.subject_id WHERE s.name = ? ORDER BY f.id')
        .all(req.subject as string) as { sha256: string; idx: number }[]);
  const epsilon = epsilonFor(ctx.modelsDir, entry);
  const items: Parameters<typeof agreement>[0] = [];
  const perPortrait: Res<'saliency.agreement'>['portraits'] = [];
  for (const f of faces) {
    const id = faceIdOf(ctx.catalog, f.sha256, f.idx);
    const boxes = listAnnotations(ctx.catalog, { kind: 'face', id: String(id) })
      .map((a) => ({ label: parseSalientBody(a.body), region: a.region }))
      .filter((a): a is { label: AnalystLabel; region: NonNullable<typeof a.region> } => a.label !== null && a.region !== null);
    if (!boxes.length) continue;
    const face = await alignedFace({ sha256: f.sha256 }, ctx, entry, f.idx);
    const subject = subjectOf(ctx.catalog, f.sha256);
    if (!subject) throw new EngineError('invalid_request', `portrait ${f.sha256.slice(0, 12)} has no subject: agreement uses the person's class target`);
    let target: Target;
    let contrast: Target | undefined;
    try {
      target = await classTarget(ctx.catalog, entry.id, entry.sha256, subject, f.sha256, embedderFor(ctx, entry, rt));
      if (explainer(req.method).contrastive) contrast = await notClassTarget(ctx.catalog, entry.id, entry.sha256, subject, embedderFor(ctx, entry, rt));
    } catch (e) {
      throw new EngineError('invalid_request', (e as Error).message);
    }
    const { width, height } = entry.input;
    const r = await explain(rt, req.method, { model: entry.id, crop: face.crop, target, reference: referenceFor(ctx, entry), ...(contrast ? { contrast } : {}), ...(epsilon !== undefined ? { epsilon } : {}) });
    const item = {
      map: r.map,
      boxes: boxes.map((b) => ({ label: b.label, mask: boxMask(b.region, face.toCrop, width, height) })),
      components: partMasks(face.mesh, width, height).map((m) => ({ name: m.name, mask: m.mask })),
    };
    items.push(item);
    perPortrait.push({ sha256: f.sha256, face: f.idx, ...agreement([item]) });
  }
  if (!items.length) throw new EngineError('not_found', 'no analyst regions on these faces yet: mark some with saliency.annotate first');
  return { method: req.method, model: entry.id, modelSha256: entry.sha256, pooled: agreement(items), portraits: perPortrait };
}
