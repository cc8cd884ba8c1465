/**
 * One face's embeddings for verification and evaluation: taken from the catalog when the image is
 * catalogued and was analysed by the same model files, otherwise computed in memory (nothing is
 * stored: verifying or evaluating never changes the catalog).
 */
import { readFile } from 'node:fs/promises';
import type { Catalog } from '../catalog/catalog';
import { facesOf } from '../catalog/faces';
import { sha256Hex } from '../catalog/store';
import type { InferenceService } from '../models/inference';
import { decodeRgb } from '../vision/image';
import { analyzeFaces } from '../vision/pipeline';
import type { FaceQuality } from '../vision/pipeline';

/** 'primary': the portrait's chosen face (the largest unless a reviewer picked another); 'centre': the face nearest the image centre (LFW centres its subject); a number: that face. */
export type FaceChoice = 'primary' | 'centre' | number;

export interface SourcedFace {
  sha256: string;
  source: 'catalog' | 'analysed';
  facesFound: number;
  face: {
    idx: number;
    box: { x: number; y: number; width: number; height: number };
    quality: FaceQuality;
    embeddings: Record<string, { vector: Float32Array; sha256: string; norm: number }>;
  } | null;
}

interface Candidate {
  idx: number;
  box: { x: number; y: number; width: number; height: number };
  quality: FaceQuality;
  embeddings: Record<string, { vector: Float32Array; sha256: string; norm: number }>;
}

function choose(faces: Candidate[], choice: FaceChoice, width: number, height: number, primaryIdx: number): Candidate | null {
  if (!faces.length) return null;
  if (typeof choice === 'number') {
    const f = faces.find((c) => c.idx === choice);
    if (!f) throw new Error(`there is no face ${choice}: ${faces.length} face${faces.length === 1 ? '' : 's'} found (numbered from 0, largest first)`);
    return f;
  }
  if (choice === 'centre') {
    const d = (c: Candidate): number => Math.hypot(c.box.x + c.box.width / 2 - width / 2, c.box.y + c.box.height / 2 - height / 2);
    return [...faces].sort((p, q) => d(p) - d(q))[0]!;
  }
  return faces.find((c) => c.idx === primaryIdx) ?? faces[0]!;
}

export async function faceFromCatalog(catalog: Catalog, sha256: string, recognizers: Record<string, string>, choice: FaceChoice): Promise<SourcedFace | undefined> {
  const portrait = catalog.db.prepare('SELECT state, primary_idx FROM portraits WHERE sha256 = ?').get(sha256) as { state: string; primary_idx: number | null } | undefined;
  const original = catalog.getOriginal(sha256);
  if (!portrait || portrait.state !== 'analyzed' || !original) return undefined;
  const stored = facesOf(catalog, sha256);
  const candidates: Candidate[] = [];
  for (const f of stored) {
    const embeddings: Candidate['embeddings'] = {};
    for (const [id, sha] of Object.entries(recognizers)) {
      const e = f.embeddings.find((x) => x.model === id && x.modelSha256 === sha);
      if (!e) return undefined; // analysed by other models or model files: analyse afresh
      embeddings[id] = { vector: e.vector, sha256: sha, norm: e.norm };
    }
    candidates.push({ idx: f.idx, box: f.box, quality: f.quality, embeddings });
  }
  return { sha256, source: 'catalog', facesFound: stored.length, face: choose(candidates, choice, original.width, original.height, portrait.primary_idx ?? 0) };
}

/** The bytes and SHA-256 of an image named by its path or by a catalogued original's hash, with clear errors. */
export async function readImageInput(catalog: Catalog, input: { path: string } | { sha256: string }): Promise<{ data: Uint8Array; sha256: string }> {
  if ('sha256' in input) {
    if (!catalog.getOriginal(input.sha256)) throw new Error(`no original ${input.sha256.slice(0, 12)}… in this catalog`);
    return { data: await readFile(catalog.store.pathFor(input.sha256)), sha256: input.sha256 };
  }
  try {
    const data = await readFile(input.path);
    return { data, sha256: sha256Hex(data) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${input.path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** A face of an image file (or catalogued original), with embeddings from every recognizer. */
export async function sourceFace(
  input: { path: string } | { sha256: string },
  ctx: { catalog: Catalog; inference: InferenceService },
  recognizerIds: string[],
  choice: FaceChoice,
): Promise<SourcedFace> {
  const recognizers = Object.fromEntries(recognizerIds.map((id) => [id, ctx.inference.registry.get(id).sha256]));
  // A catalogued original analysed by these model files needs no reading at all.
  if ('sha256' in input && ctx.catalog.getOriginal(input.sha256)) {
    const cached = await faceFromCatalog(ctx.catalog, input.sha256, recognizers, choice);
    if (cached) return cached;
  }
  const { data, sha256: sha } = await readImageInput(ctx.catalog, input);
  if ('path' in input) {
    const cached = await faceFromCatalog(ctx.catalog, sha, recognizers, choice);
    if (cached) return cached;
  }
  const img = await decodeRgb(data);
  const faces = await analyzeFaces(img, ctx.inference, { recognizers: recognizerIds });
  const candidates: Candidate[] = faces.map((f, idx) => ({
    idx,
    box: { x: f.detection.x, y: f.detection.y, width: f.detection.width, height: f.detection.height },
    quality: f.quality,
    embeddings: Object.fromEntries(f.embeddings.map((e) => [e.model, { vector: e.vector, sha256: recognizers[e.model] as string, norm: e.norm }])),
  }));
  return { sha256: sha, source: 'analysed', facesFound: faces.length, face: choose(candidates, choice, img.width, img.height, 0) };
}
