/**
 * Face alignment: the least-squares similarity transform (rotation, uniform scale, translation;
 * no reflection) taking detected landmarks onto a template (Umeyama 1991), and the warp it drives.
 */
import { resample, type RgbImage } from './image';

export type Point = [number, number];

/** x' = a*x - b*y + tx ; y' = b*x + a*y + ty */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function applySimilarity(t: Similarity, [x, y]: Point): Point {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  if (d === 0) throw new Error('degenerate similarity (zero scale)');
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Scale and rotation (radians) of a similarity, for quality and pose signals. */
export function describeSimilarity(t: Similarity): { scale: number; rotation: number } {
  return { scale: Math.hypot(t.a, t.b), rotation: Math.atan2(t.b, t.a) };
}

/**
 * Least-squares similarity from `src` to `dst` (same length, >= 2 points). In 2-D the Umeyama
 * solution has a closed form: with centred points, a = sum(x.x' + y.y') / sum|p|^2 and
 * b = sum(x.y' - y.x') / sum|p|^2.
 */
export function estimateSimilarity(src: Point[], dst: Point[]): Similarity {
  if (src.length !== dst.length || src.length < 2) throw new Error('need the same number (>= 2) of source and target points');
  const n = src.length;
  const mean = (pts: Point[]): Point => [pts.reduce((s, p) => s + p[0], 0) / n, pts.reduce((s, p) => s + p[1], 0) / n];
  const [sx, sy] = mean(src);
  const [dx, dy] = mean(dst);
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const x = (src[i] as Point)[0] - sx;
    const y = (src[i] as Point)[1] - sy;
    const u = (dst[i] as Point)[0] - dx;
    const v = (dst[i] as Point)[1] - dy;
    num1 += x * u + y * v;
    num2 += x * v - y * u;
    den += x * x + y * y;
  }
  if (den === 0) throw new Error('the source points coincide');
  const a = num1 / den;
  const b = num2 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/** Root-mean-square distance between template points and the transformed landmarks (alignment residual). */
export function alignmentResidual(t: Similarity, src: Point[], dst: Point[]): number {
  let s = 0;
  src.forEach((p, i) => {
    const [x, y] = applySimilarity(t, p);
    s += (x - (dst[i] as Point)[0]) ** 2 + (y - (dst[i] as Point)[1]) ** 2;
  });
  return Math.sqrt(s / src.length);
}

/** The aligned crop: output pixel q takes the source pixel at T^-1(q), where T maps image -> crop. */
export function warpSimilarity(img: RgbImage, imageToCrop: Similarity, width: number, height: number): Float32Array {
  return resample(img, width, height, invertSimilarity(imageToCrop));
}
