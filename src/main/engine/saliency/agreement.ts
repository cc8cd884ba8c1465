/**
 * Analyst annotations against machine maps (paper 002's task: the analyst boxes the regions they
 * find characteristic and labels them with a facial component). Per portrait:
 *  - the share of the map's mass inside the analyst's boxes, next to the boxes' share of the crop
 *    (what a map spread evenly would put there), and their ratio (lift);
 *  - rank agreement of components: the machine ranks components by mean map density inside each
 *    part mask; each labelled component's machine rank, the share of labelled components among the
 *    machine's top 3, and Spearman's rho between the analyst's counts and the machine's densities.
 * Per subject the same, with boxes and maps pooled over the subject's annotated portraits.
 */
import { applySimilarity, type Point, type Similarity } from '../vision/align';
import { fillPolygon, PART_NAMES, type PartName } from '../vision/parts';
import { SALIENT_LABELS } from '../../../shared/contract';
import { massInside } from './maps';

/** FISWG components an analyst can mark (ears have no landmarks: boxes count, ranks skip them). */
export const ANALYST_LABELS = SALIENT_LABELS;
export type AnalystLabel = (typeof ANALYST_LABELS)[number];

/** How a salient-region annotation's body reads: "FISWG: nose". */
export function salientBody(label: AnalystLabel): string {
  return `FISWG: ${label}`;
}

export function parseSalientBody(body: string): AnalystLabel | null {
  const m = /^FISWG: ([a-z]+)$/.exec(body.trim());
  return m && (ANALYST_LABELS as readonly string[]).includes(m[1]!) ? (m[1] as AnalystLabel) : null;
}

export interface AnalystBox {
  label: AnalystLabel;
  /** In the photo's pixels. */
  box: { x: number; y: number; width: number; height: number };
}

export interface ComponentMask {
  name: PartName | 'hair';
  mask: Float32Array;
}

export interface PortraitAgreement {
  boxes: number;
  massInBoxes: number;
  areaOfBoxes: number;
  lift: number;
  /** Machine's component order, densest first. */
  machineRanking: { component: string; density: number }[];
  /** Each labelled component's rank (1 = densest) in the machine's order; null where it has no mask. */
  labelRanks: { label: AnalystLabel; rank: number | null }[];
  top3Hits: number;
  spearman: number | null;
}

/** A photo-space box in the crop, through the source -> crop similarity, rasterized. */
export function boxMask(box: AnalystBox['box'], toCrop: Similarity, width: number, height: number, out = new Float32Array(width * height)): Float32Array {
  const corners: Point[] = [
    [box.x, box.y],
    [box.x + box.width, box.y],
    [box.x + box.width, box.y + box.height],
    [box.x, box.y + box.height],
  ];
  const poly = corners.map((p) => applySimilarity(toCrop, p));
  const one = fillPolygon(poly, width, height, new Float32Array(width * height), true);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, one[i]!);
  return out;
}

function ranks(values: number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const r = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]!.v === order[k]!.v) j++;
    for (let m = k; m <= j; m++) r[order[m]!.i] = (k + j) / 2 + 1;
    k = j + 1;
  }
  return r;
}

/** Spearman's rho with average ranks for ties; null when either side is constant. */
export function spearman(a: number[], b: number[]): number | null {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : null;
}

/**
 * Agreement for one or more portraits of the same recognizer crop size: `items` pairs each map with
 * its boxes (already in crop space as masks) and component masks. Pooled when several are given.
 */
export function agreement(items: { map: Float32Array; boxes: { label: AnalystLabel; mask: Float32Array }[]; components: ComponentMask[] }[]): PortraitAgreement {
  let mass = 0;
  let area = 0;
  let boxes = 0;
  const names = [...PART_NAMES, 'hair'] as const;
  const density = new Map<string, { mass: number; area: number }>();
  const counts = new Map<string, number>();
  for (const it of items) {
    const union = new Float32Array(it.map.length);
    for (const b of it.boxes) {
      boxes++;
      counts.set(b.label, (counts.get(b.label) ?? 0) + 1);
      for (let i = 0; i < union.length; i++) union[i] = Math.max(union[i]!, b.mask[i]!);
    }
    mass += massInside(it.map, union);
    area += union.reduce((s, v) => s + v, 0) / union.length;
    let total = 0;
    for (const v of it.map) total += v > 0 ? v : 0;
    for (const c of it.components) {
      const d = density.get(c.name) ?? { mass: 0, area: 0 };
      let m = 0;
      let a = 0;
      for (let i = 0; i < c.mask.length; i++) {
        m += (it.map[i]! > 0 ? it.map[i]! : 0) * c.mask[i]!;
        a += c.mask[i]!;
      }
      d.mass += total > 0 ? m / total : 0;
      d.area += a / c.mask.length;
      density.set(c.name, d);
    }
  }
  const n = Math.max(1, items.length);
  const machine = names
    .filter((c) => density.has(c))
    .map((c) => ({ component: c, density: density.get(c)!.area > 0 ? density.get(c)!.mass / density.get(c)!.area : 0 }))
    .sort((a, b) => b.density - a.density);
  const labels = [...counts.keys()] as AnalystLabel[];
  const labelRanks = labels.map((label) => {
    const k = machine.findIndex((m) => m.component === label);
    return { label, rank: k >= 0 ? k + 1 : null };
  });
  const ranked = labelRanks.filter((l) => l.rank !== null);
  const top3Hits = ranked.length ? ranked.filter((l) => l.rank! <= 3).length / ranked.length : 0;
  const rho = machine.length > 1 ? spearman(machine.map((m) => counts.get(m.component) ?? 0), machine.map((m) => m.density)) : null;
  return {
    boxes,
    massInBoxes: mass / n,
    areaOfBoxes: area / n,
    lift: area > 0 ? mass / area : 0,
    machineRanking: machine,
    labelRanks,
    top3Hits,
    spearman: rho,
  };
}
