/**
 * Facial component masks (FISWG-style components) in an aligned recognizer crop, drawn from the
 * FaceMesh dense landmarks. Masks never overlap: each pixel belongs to at most one component, so
 * per-component explanations (occlusion, swaps) add up without double counting.
 */
import { applySimilarity, type Point, type Similarity } from './align';

/** FISWG order: forehead, eyebrows, eyes, cheeks, nose, mouth, chin/jawline, face outline. */
export const PART_NAMES = ['forehead', 'eyebrows', 'eyes', 'cheeks', 'nose', 'mouth', 'chin', 'outline'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface PartMask {
  name: PartName;
  /** width*height coverage, 0..1, row-major. */
  mask: Float32Array;
  /** Sum of the coverage, in pixels. */
  area: number;
}

/** Who keeps a pixel two components both claim: the small, identity-bearing features first. */
const PRIORITY: PartName[] = ['eyes', 'eyebrows', 'mouth', 'nose', 'chin', 'forehead', 'cheeks', 'outline'];

/**
 * MediaPipe canonical FaceMesh index sets (face_mesh_connections). "Right" is the subject's right
 * (image left in a frontal photo).
 */
export const MESH_PARTS = {
  faceOval: [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234,
    127, 162, 21, 54, 103, 67, 109,
  ],
  lipsOuter: [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146],
  /** Lower half of the outer lip contour, corner to corner: where the chin begins. */
  lipsLowerOuter: [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291],
  rightEye: [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
  leftEye: [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
  rightBrowUpper: [70, 63, 105, 66, 107],
  rightBrowLower: [46, 53, 52, 65, 55],
  leftBrowUpper: [300, 293, 334, 296, 336],
  leftBrowLower: [276, 283, 282, 295, 285],
  /**
   * Bridge (168 .. 4), tip and columella (1, 19, 94, 2), alae and nostril rims (FACEMESH_NOSE),
   * plus sidewall points (188/412, 217/437, 198/420) so the hull reaches the nasal sidewalls.
   */
  nose: [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275, 45, 220, 115, 48, 64, 188, 412, 217, 437, 198, 420],
  /** Alar base points, whose span bounds the philtrum strip. */
  alae: [64, 294],
  subnasale: 2,
  eyeCorners: [33, 133, 362, 263],
} as const;

/** Mesh points (source pixels, with depth) into crop pixels. */
export function meshToCrop(mesh: [number, number, number][], toCrop: Similarity): Point[] {
  return mesh.map(([x, y]) => applySimilarity(toCrop, [x, y]));
}

// ---------------------------------------------------------------------------------------------
// Polygon rasterizer

/** Sub-scanlines per pixel row when anti-aliasing; horizontal coverage is exact. */
const AA_ROWS = 4;

/**
 * Fills a simple polygon (even-odd rule) into `out` as the union max(out, coverage). Pixel (i, j)
 * spans [i, i+1) x [j, j+1): binary mode takes a pixel whose centre (i+0.5, j+0.5) lies inside;
 * anti-aliased mode averages the exact horizontal coverage of 4 sub-scanlines. Scratch space is
 * allocated once per call, never per pixel.
 */
export function fillPolygon(
  poly: readonly Point[],
  width: number,
  height: number,
  out: Float32Array = new Float32Array(width * height),
  antialias = false,
): Float32Array {
  const n = poly.length;
  if (n < 3) return out;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of poly) {
    if (p[1] < minY) minY = p[1];
    if (p[1] > maxY) maxY = p[1];
  }
  const j0 = Math.max(0, Math.floor(minY));
  const j1 = Math.min(height - 1, Math.ceil(maxY));
  if (j1 < j0) return out;
  const xs = new Float64Array(n);
  const row = antialias ? new Float32Array(width) : null;
  const samples = antialias ? AA_ROWS : 1;
  for (let j = j0; j <= j1; j++) {
    if (row) row.fill(0);
    for (let k = 0; k < samples; k++) {
      const ys = antialias ? j + (k + 0.5) / samples : j + 0.5;
      // Crossings of the sample line; half-open in y so a vertex on the line counts once.
      let m = 0;
      for (let e = 0; e < n; e++) {
        const p = poly[e] as Point;
        const q = poly[(e + 1) % n] as Point;
        if ((p[1] <= ys && ys < q[1]) || (q[1] <= ys && ys < p[1])) {
          xs[m++] = p[0] + ((ys - p[1]) * (q[0] - p[0])) / (q[1] - p[1]);
        }
      }
      // Insertion sort: a handful of crossings per line.
      for (let a = 1; a < m; a++) {
        const v = xs[a] as number;
        let b = a - 1;
        while (b >= 0 && (xs[b] as number) > v) {
          xs[b + 1] = xs[b] as number;
          b--;
        }
        xs[b + 1] = v;
      }
      for (let s = 0; s + 1 < m; s += 2) {
        const xa = xs[s] as number;
        const xb = xs[s + 1] as number;
        if (row) {
          const w = 1 / samples;
          const i0 = Math.max(0, Math.floor(xa));
          const i1 = Math.min(width - 1, Math.ceil(xb) - 1);
          for (let i = i0; i <= i1; i++) {
            const cover = Math.min(i + 1, xb) - Math.max(i, xa);
            if (cover > 0) row[i] = (row[i] as number) + cover * w;
          }
        } else {
          // Centres i+0.5 in [xa, xb).
          const i0 = Math.max(0, Math.ceil(xa - 0.5));
          const i1 = Math.min(width - 1, Math.ceil(xb - 0.5) - 1);
          const base = j * width;
          for (let i = i0; i <= i1; i++) out[base + i] = 1;
        }
      }
    }
    if (row) {
      const base = j * width;
      for (let i = 0; i < width; i++) {
        const v = Math.min(1, row[i] as number);
        if (v > (out[base + i] as number)) out[base + i] = v;
      }
    }
  }
  return out;
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-up terms, no repeated point. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (pts.length < 3) return pts;
  const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i] as Point;
    while (upper.length >= 2 && cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** Hull of the points grown by `r` (Minkowski sum with a 16-gon): a rounded, dilated hull. */
export function dilatedHull(points: readonly Point[], r: number): Point[] {
  if (r <= 0) return convexHull(points);
  const grown: Point[] = [];
  const k = 16;
  for (const [x, y] of points) {
    for (let i = 0; i < k; i++) grown.push([x + r * Math.cos((2 * Math.PI * i) / k), y + r * Math.sin((2 * Math.PI * i) / k)]);
  }
  return convexHull(grown);
}

/** A closed contour moved `d` along its vertex normals (d > 0 outwards). Fine for a smooth, near-convex oval. */
export function offsetContour(contour: readonly Point[], d: number): Point[] {
  const n = contour.length;
  let area2 = 0;
  for (let i = 0; i < n; i++) {
    const p = contour[i] as Point;
    const q = contour[(i + 1) % n] as Point;
    area2 += p[0] * q[1] - q[0] * p[1];
  }
  // With a positive shoelace sum, the normal (dy, -dx) of the direction of travel points outwards.
  const sign = area2 >= 0 ? 1 : -1;
  return contour.map((p, i) => {
    const prev = contour[(i - 1 + n) % n] as Point;
    const next = contour[(i + 1) % n] as Point;
    const dx = next[0] - prev[0];
    const dy = next[1] - prev[1];
    const len = Math.hypot(dx, dy) || 1;
    return [p[0] + (sign * d * dy) / len, p[1] - (sign * d * dx) / len] as Point;
  });
}

// ---------------------------------------------------------------------------------------------
// Component masks

/** Dilations and band widths as fractions of the inter-ocular distance, so masks scale with the crop. */
const EYE_DILATE = 0.1; // takes in the eyelids around the lid margins
const BROW_DILATE = 0.04;
const OUTLINE_BAND = 0.12; // total width, straddling the face-oval contour

/** A piecewise-linear profile h(s) through knots sorted by s, flat beyond the ends. */
class Profile {
  private readonly s: Float64Array;
  private readonly h: Float64Array;
  constructor(knots: [number, number][]) {
    knots.sort((p, q) => p[0] - q[0]);
    this.s = Float64Array.from(knots, (k) => k[0]);
    this.h = Float64Array.from(knots, (k) => k[1]);
  }
  at(s: number): number {
    const ks = this.s;
    const n = ks.length;
    if (s <= (ks[0] as number)) return this.h[0] as number;
    if (s >= (ks[n - 1] as number)) return this.h[n - 1] as number;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((ks[mid] as number) <= s) lo = mid;
      else hi = mid;
    }
    const s0 = ks[lo] as number;
    const s1 = ks[hi] as number;
    const t = s1 > s0 ? (s - s0) / (s1 - s0) : 0;
    return (this.h[lo] as number) + t * ((this.h[hi] as number) - (this.h[lo] as number));
  }
}

/**
 * Non-overlapping component masks in PART_NAMES order, for the 468 FaceMesh points already in crop
 * pixels. Levels are measured in the face's own frame (across and down the eye line), so a rolled
 * face still splits correctly:
 *   eyes      both eye contours, dilated to take in the lids;
 *   eyebrows  each brow's hull, dilated a little;
 *   nose      hull of bridge, sidewalls, tip, columella and alae;
 *   mouth     outer lip contour;
 *   forehead  inside the oval, above the lower edge of the brows (glabella included);
 *   cheeks    inside the oval from the eye line down to the lower lip, less the strip between
 *             nose and upper lip (philtrum, which no component takes);
 *   chin      inside the oval below the lower lip, to the jaw;
 *   outline   a band along the face-oval contour.
 * Pixels nobody claims (background, hair, the upper orbit beside the eyes, the philtrum) stay out.
 * Binary by default; `antialias` gives soft edges whose coverages still sum to at most 1.
 */
export function partMasks(points: Point[], width: number, height: number, options: { antialias?: boolean } = {}): PartMask[] {
  if (points.length < 468) throw new Error(`partMasks needs the 468 FaceMesh points, got ${points.length}`);
  const aa = options.antialias ?? false;
  const size = width * height;
  const at = (i: number): Point => points[i] as Point;
  const pick = (idx: readonly number[]): Point[] => idx.map(at);

  // Face frame: origin between the eye centres, u across (towards the subject's left), v down.
  const [c33, c133, c362, c263] = MESH_PARTS.eyeCorners.map(at) as [Point, Point, Point, Point];
  const re: Point = [(c33[0] + c133[0]) / 2, (c33[1] + c133[1]) / 2];
  const le: Point = [(c362[0] + c263[0]) / 2, (c362[1] + c263[1]) / 2];
  const iod = Math.hypot(le[0] - re[0], le[1] - re[1]);
  if (!(iod > 0)) throw new Error('degenerate landmarks (eyes coincide)');
  const ux = (le[0] - re[0]) / iod;
  const uy = (le[1] - re[1]) / iod;
  const ox = (re[0] + le[0]) / 2;
  const oy = (re[1] + le[1]) / 2;
  const sOf = (p: Point): number => (p[0] - ox) * ux + (p[1] - oy) * uy;
  const hOf = (p: Point): number => -(p[0] - ox) * uy + (p[1] - oy) * ux;
  const profile = (idx: readonly number[]): Profile => new Profile(idx.map((i) => [sOf(at(i)), hOf(at(i))]));

  // Each raw mask with the rows its polygons can touch, so later passes skip empty rows.
  const raw = new Map<PartName, { mask: Float32Array; rows: [number, number] }>();
  const span = (...polys: Point[][]): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const poly of polys) {
      for (const p of poly) {
        if (p[1] < lo) lo = p[1];
        if (p[1] > hi) hi = p[1];
      }
    }
    return [Math.max(0, Math.floor(lo)), Math.min(height - 1, Math.ceil(hi))];
  };
  const fill = (name: PartName, ...polys: Point[][]): void => {
    const mask = new Float32Array(size);
    for (const poly of polys) fillPolygon(poly, width, height, mask, aa);
    raw.set(name, { mask, rows: span(...polys) });
  };
  fill('eyes', dilatedHull(pick(MESH_PARTS.rightEye), EYE_DILATE * iod), dilatedHull(pick(MESH_PARTS.leftEye), EYE_DILATE * iod));
  fill(
    'eyebrows',
    dilatedHull(pick([...MESH_PARTS.rightBrowUpper, ...MESH_PARTS.rightBrowLower]), BROW_DILATE * iod),
    dilatedHull(pick([...MESH_PARTS.leftBrowUpper, ...MESH_PARTS.leftBrowLower]), BROW_DILATE * iod),
  );
  fill('nose', convexHull(pick(MESH_PARTS.nose)));
  fill('mouth', pick(MESH_PARTS.lipsOuter));

  // The band straddles the contour; the regions inside start at its inner edge.
  const oval = pick(MESH_PARTS.faceOval);
  const band = OUTLINE_BAND * iod;
  const outerOval = offsetContour(oval, band / 2);
  const innerOval = offsetContour(oval, -band / 2);
  fill('outline', outerOval);
  const outline = (raw.get('outline') as { mask: Float32Array }).mask;
  const inner = fillPolygon(innerOval, width, height, undefined, aa);
  const [y0, y1] = span(innerOval);
  for (let i = y0 * width; i < (y1 + 1) * width; i++) outline[i] = Math.max(0, (outline[i] as number) - (inner[i] as number));

  const browLine = profile([...MESH_PARTS.rightBrowLower, ...MESH_PARTS.leftBrowLower]);
  const lipLine = profile(MESH_PARTS.lipsLowerOuter);
  const alae = MESH_PARTS.alae.map((i) => sOf(at(i)));
  const strip0 = Math.min(...alae);
  const strip1 = Math.max(...alae);
  const stripTop = hOf(at(MESH_PARTS.subnasale));
  const forehead = new Float32Array(size);
  const cheeks = new Float32Array(size);
  const chin = new Float32Array(size);
  for (let y = y0; y <= y1; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const cover = inner[i] as number;
      if (cover === 0) continue;
      const dx = x + 0.5 - ox;
      const dy = y + 0.5 - oy;
      const s = dx * ux + dy * uy;
      const h = -dx * uy + dy * ux;
      if (h < browLine.at(s)) forehead[i] = cover;
      else if (h >= lipLine.at(s)) chin[i] = cover;
      else if (h >= 0 && (h < stripTop || s < strip0 || s > strip1)) cheeks[i] = cover;
    }
  }
  raw.set('forehead', { mask: forehead, rows: [y0, y1] });
  raw.set('cheeks', { mask: cheeks, rows: [y0, y1] });
  raw.set('chin', { mask: chin, rows: [y0, y1] });

  // Resolve overlaps by priority: each part keeps what higher-priority parts left free.
  const free = new Float32Array(size).fill(1);
  const areas = new Map<PartName, number>();
  for (const name of PRIORITY) {
    const { mask: m, rows } = raw.get(name) as { mask: Float32Array; rows: [number, number] };
    let area = 0;
    for (let i = rows[0] * width; i < (rows[1] + 1) * width; i++) {
      const v = m[i] as number;
      if (v === 0) continue;
      const f = free[i] as number;
      const kept = v < f ? v : f;
      m[i] = kept;
      free[i] = f - kept;
      area += kept;
    }
    areas.set(name, area);
  }
  return PART_NAMES.map((name) => ({ name, mask: (raw.get(name) as { mask: Float32Array }).mask, area: areas.get(name) as number }));
}
