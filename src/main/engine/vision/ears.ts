/**
 * Ears, where visible (FISWG lists them; FaceMesh has no ear landmarks). Each ear is searched in a
 * band beside the face oval, between brow and nose-base height, reaching 0.45 inter-ocular
 * distances outwards; its pixels are those the person segmenter calls person, outside the (grown)
 * face oval, and skin-coloured like the cheeks (hair over an ear is person too, but not skin).
 * An ear is reported visible when enough such pixels lie inside the crop and the head is not
 * turned so far that this side's ear is behind it. Recognizer crops are tight: ears are often
 * outside them, which is then what this says.
 */
import type { Point } from './align';
import { fillPolygon, MESH_PARTS, offsetContour, partMasks } from './parts';

export interface EarMask {
  /** The subject's side: right is the image's left in a frontal photo. */
  side: 'right' | 'left';
  /** size x size, 0/1. */
  mask: Float32Array;
  area: number;
  visible: boolean;
  /** Why not visible (or '' when visible). */
  reason: string;
}

/** Smallest visible ear, in squared inter-ocular distances (an adult ear is about 0.25 x 0.5 IOD^2 frontally). */
const MIN_AREA = 0.03;
/** Half-face width ratio below which that side is turned away (its ear behind the head). */
const TURNED = 0.45;

function chroma(r: number, g: number, b: number): [number, number, number] {
  const sum = r + g + b + 1e-6;
  return [r / sum, g / sum, sum / 3];
}

export function earMasks(crop255: Float32Array, size: number, mesh: Point[], person: Float32Array): EarMask[] {
  if (mesh.length < 468) throw new Error(`earMasks needs the 468 FaceMesh points, got ${mesh.length}`);
  const at = (i: number): Point => mesh[i]!;
  const [c33, c133, c362, c263] = MESH_PARTS.eyeCorners.map(at) as [Point, Point, Point, Point];
  const re: Point = [(c33[0] + c133[0]) / 2, (c33[1] + c133[1]) / 2];
  const le: Point = [(c362[0] + c263[0]) / 2, (c362[1] + c263[1]) / 2];
  const iod = Math.hypot(le[0] - re[0], le[1] - re[1]);
  if (!(iod > 0)) throw new Error('degenerate landmarks (eyes coincide)');
  // Face frame: u across towards the subject's left, v down; origin between the eyes.
  const ux = (le[0] - re[0]) / iod;
  const uy = (le[1] - re[1]) / iod;
  const ox = (re[0] + le[0]) / 2;
  const oy = (re[1] + le[1]) / 2;
  const sOf = (p: Point): number => (p[0] - ox) * ux + (p[1] - oy) * uy;
  const vOf = (p: Point): number => -(p[0] - ox) * uy + (p[1] - oy) * ux;
  const toCrop = (s: number, v: number): Point => [ox + s * ux - v * uy, oy + s * uy + v * ux];

  const browTop = Math.min(...[...MESH_PARTS.rightBrowUpper, ...MESH_PARTS.leftBrowUpper].map((i) => vOf(at(i))));
  const noseBase = vOf(at(MESH_PARTS.subnasale));
  const oval = MESH_PARTS.faceOval.map(at);
  const face = fillPolygon(offsetContour(oval, 0.08 * iod), size, size);

  // Skin colour from the cheeks: chroma mean and spread.
  const cheeks = partMasks(mesh, size, size)[3]!.mask;
  const stats = { n: 0, r: 0, g: 0, l: 0, rr: 0, gg: 0 };
  for (let p = 0; p < size * size; p++) {
    if (cheeks[p]! < 0.5) continue;
    const [r, g, l] = chroma(crop255[p * 3]!, crop255[p * 3 + 1]!, crop255[p * 3 + 2]!);
    stats.n++;
    stats.r += r;
    stats.g += g;
    stats.l += l;
    stats.rr += r * r;
    stats.gg += g * g;
  }
  const n = Math.max(1, stats.n);
  const mr = stats.r / n;
  const mg = stats.g / n;
  const ml = stats.l / n;
  const sd = Math.max(0.012, Math.sqrt(Math.max(0, stats.rr / n - mr * mr + stats.gg / n - mg * mg)));
  const skin = (p: number): boolean => {
    const [r, g, l] = chroma(crop255[p * 3]!, crop255[p * 3 + 1]!, crop255[p * 3 + 2]!);
    return Math.hypot(r - mr, g - mg) < 3 * sd && l > 0.45 * ml && l < 1.6 * ml;
  };

  const nose = sOf(at(1));
  const halfRight = nose - sOf(at(234));
  const halfLeft = sOf(at(454)) - nose;
  return (['right', 'left'] as const).map((side) => {
    const sign = side === 'right' ? -1 : 1;
    // The oval's outermost extent on this side within the ear's height band.
    const band = oval.filter((p) => vOf(p) >= browTop && vOf(p) <= noseBase).map(sOf);
    const edge = side === 'right' ? Math.min(...band) : Math.max(...band);
    const inner = edge - sign * 0.05 * iod;
    const outer = edge + sign * 0.45 * iod;
    const region = fillPolygon([toCrop(inner, browTop), toCrop(outer, browTop), toCrop(outer, noseBase), toCrop(inner, noseBase)], size, size);
    const mask = new Float32Array(size * size);
    let area = 0;
    for (let p = 0; p < mask.length; p++) {
      if (region[p]! > 0.5 && person[p]! >= 0.5 && face[p]! < 0.5 && skin(p)) {
        mask[p] = 1;
        area++;
      }
    }
    const half = side === 'right' ? halfRight : halfLeft;
    const other = side === 'right' ? halfLeft : halfRight;
    let reason = '';
    if (half < TURNED * other) reason = 'the head is turned: this ear is behind it';
    else if (area < MIN_AREA * iod * iod) reason = 'no ear-coloured person pixels beside the face here (outside the crop, or covered)';
    return { side, mask: reason ? new Float32Array(size * size) : mask, area: reason ? 0 : area, visible: reason === '', reason };
  });
}
