/**
 * Facial hybrids (paper 000, section 6): A's most characteristic facial parts, from A's
 * characterization, fused into B's representative portrait (and the reverse), colour-matched and
 * blended across frequency bands so no seam shows. Both people should stay recognizable: the
 * hybrid's similarity to each source is reported with the recognizer that characterized them.
 */
import sharp from 'sharp';
import type { Catalog } from '../catalog/catalog';
import type { InferenceService } from '../models/inference';
import { multiBandBlend } from '../vision/blend';
import { colourTransfer, gaussianBlur } from '../vision/part-swap';
import { partMasks, PART_NAMES, type PartName } from '../vision/parts';
import { alignedFace, type AlignedFace } from './aligned-face';
import type { Characterization } from './characterize';
import { cosine } from './verification';
import { toModelRange } from '../vision/pipeline';

/** Parts that transplant cleanly between aligned faces (the outline, cheeks and hair do not). */
const TRANSPLANTABLE: PartName[] = ['eyebrows', 'eyes', 'nose', 'mouth', 'chin', 'forehead'];

export interface Hybrid {
  /** Whose parts were fused into whose portrait. */
  from: string;
  into: string;
  parts: PartName[];
  /** The donor's and the base's portraits (each person's most representative). */
  fromPortrait: string;
  intoPortrait: string;
  png: Buffer;
  similarityToFrom: number;
  similarityToInto: number;
}

async function embed(inference: InferenceService, recognizer: string, crop255: Float32Array, range: [number, number]): Promise<Float32Array> {
  return (await inference.run(recognizer, toModelRange(crop255, range)))['embedding']!.data;
}

async function fuse(donor: AlignedFace, base: AlignedFace, parts: PartName[], size: number): Promise<Float32Array> {
  const masks = partMasks(base.mesh, size, size);
  const mask = new Float32Array(size * size);
  for (const p of parts) {
    const m = masks[PART_NAMES.indexOf(p)]!.mask;
    for (let i = 0; i < mask.length; i++) mask[i] = Math.max(mask[i]!, m[i]!);
  }
  const soft = gaussianBlur(mask, size, size, size / 112);
  // The donor's region in the base's colours, so the hybrid changes shape and texture, not skin tone.
  const { gain, offset } = colourTransfer(donor.crop255, base.crop255, soft);
  const matched = donor.crop255.map((v, i) => v * gain[i % 3]! + offset[i % 3]!);
  return multiBandBlend(matched, base.crop255, soft, size, size);
}

export async function makeHybrids(
  catalog: Catalog,
  inference: InferenceService,
  a: Characterization,
  b: Characterization,
  count = 2,
): Promise<{ baseline: number; hybrids: Hybrid[]; sources: { subject: string; sha256: string; png: Buffer }[] }> {
  if (a.recognizer !== b.recognizer) throw new Error('both people must be characterized with the same recognizer');
  const entry = inference.registry.get(a.recognizer);
  const size = entry.input.width;
  const ctx = { catalog, inference };
  const faceA = await alignedFace({ sha256: a.mostRepresentative }, ctx, entry, 'primary');
  const faceB = await alignedFace({ sha256: b.mostRepresentative }, ctx, entry, 'primary');
  const ea = await embed(inference, entry.id, faceA.crop255, entry.input.range);
  const eb = await embed(inference, entry.id, faceB.crop255, entry.input.range);
  const top = (c: Characterization): PartName[] => c.parts.map((p) => p.part).filter((p): p is PartName => TRANSPLANTABLE.includes(p as PartName)).slice(0, count);
  const hybrids: Hybrid[] = [];
  for (const [from, into, donor, base, eFrom, eInto] of [
    [a, b, faceA, faceB, ea, eb],
    [b, a, faceB, faceA, eb, ea],
  ] as const) {
    const parts = top(from);
    const crop = await fuse(donor, base, parts, size);
    const e = await embed(inference, entry.id, crop, entry.input.range);
    hybrids.push({
      from: from.subject,
      into: into.subject,
      parts,
      fromPortrait: from.mostRepresentative,
      intoPortrait: into.mostRepresentative,
      png: await cropPng(crop, size),
      similarityToFrom: cosine(e, eFrom),
      similarityToInto: cosine(e, eInto),
    });
  }
  // The two aligned sources, so the hybrids can be shown beside what they were made from.
  const sources = [
    { subject: a.subject, sha256: a.mostRepresentative, png: await cropPng(faceA.crop255, size) },
    { subject: b.subject, sha256: b.mostRepresentative, png: await cropPng(faceB.crop255, size) },
  ];
  return { baseline: cosine(ea, eb), hybrids, sources };
}

function cropPng(crop: ArrayLike<number>, size: number): Promise<Buffer> {
  return sharp(Uint8Array.from(crop, (v) => Math.round(v)), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}
