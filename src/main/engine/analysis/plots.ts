/**
 * Evaluation plots (ROC, DET, Tippett) as SVG through Vega-Lite, and PNG rasterized from that
 * SVG by sharp (librsvg), so both files show exactly the same figure. Rendering uses Vega's
 * headless view: no browser, no canvas package.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SystemEvaluation } from './evaluate';

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q0 = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  const lowTail = (q: number): number => {
    const r = Math.sqrt(-2 * Math.log(q));
    return (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  };
  if (q0 < 0.02425) return lowTail(q0);
  if (q0 > 1 - 0.02425) return -lowTail(1 - q0);
  const q = q0 - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Error rates at every distinct threshold (accept when score >= t), thinned to about `max` points. */
export function operatingPoints(targets: number[], nonTargets: number[], max = 400): { far: number; frr: number; tar: number }[] {
  const all = [...targets.map((s) => ({ s, t: 1 })), ...nonTargets.map((s) => ({ s, t: 0 }))].sort((a, b) => b.s - a.s);
  const pts: { far: number; frr: number; tar: number }[] = [{ far: 0, frr: 1, tar: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i]!.t) tp++;
    else fp++;
    if (i + 1 < all.length && all[i + 1]!.s === all[i]!.s) continue;
    pts.push({ far: fp / nonTargets.length, frr: 1 - tp / targets.length, tar: tp / targets.length });
  }
  if (pts.length <= max) return pts;
  const step = pts.length / max;
  return Array.from({ length: max }, (_, i) => pts[Math.floor(i * step)]!).concat(pts[pts.length - 1]!);
}

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 420;
const HEIGHT = 360;

export function rocSpec(systems: SystemEvaluation[], title: string): TopLevelSpec {
  const values = systems.flatMap((s) =>
    operatingPoints(s.scores.targets, s.scores.nonTargets)
      .filter((p) => p.far > 0)
      .map((p) => ({ system: s.system, far: p.far, tar: p.tar })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `ROC: ${title}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'far', type: 'quantitative', scale: { type: 'log' }, title: 'false accept rate' },
      y: { field: 'tar', type: 'quantitative', scale: { domain: [0, 1] }, title: 'true accept rate' },
      color: { field: 'system', type: 'nominal', title: 'system' },
    },
  };
}

const DET_TICKS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4];

export function detSpec(systems: SystemEvaluation[], title: string): TopLevelSpec {
  const lim = probit(0.0005);
  const values = systems.flatMap((s) =>
    operatingPoints(s.scores.targets, s.scores.nonTargets)
      .map((p) => ({ system: s.system, x: probit(p.far), y: probit(p.frr) }))
      .filter((p) => p.x >= lim && p.y >= lim && p.x <= probit(0.5) && p.y <= probit(0.5)),
  );
  // Normal-deviate axes: tick values are probits, labelled with the rates they stand for.
  const ticks = DET_TICKS.map(probit);
  const labelExpr = DET_TICKS.map((t, i) => `abs(datum.value - ${ticks[i]}) < 1e-6 ? '${t * 100}%'`).join(' : ') + " : ''";
  const axis = { values: ticks, labelExpr, grid: true };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `DET: ${title}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { domain: [lim, probit(0.5)] }, axis, title: 'false accept rate (normal deviate scale)' },
      y: { field: 'y', type: 'quantitative', scale: { domain: [lim, probit(0.5)] }, axis, title: 'false reject rate (normal deviate scale)' },
      color: { field: 'system', type: 'nominal', title: 'system' },
    },
  };
}

/** Tippett plot: for each class, the proportion of pairs whose log10 LR exceeds x. */
export function tippettSpec(system: SystemEvaluation, title: string): TopLevelSpec {
  const curve = (lrs: number[], label: string): { x: number; p: number; class: string }[] => {
    const sorted = [...lrs].sort((a, b) => a - b);
    return sorted.map((x, i) => ({ x, p: (sorted.length - i - 1) / sorted.length, class: label }));
  };
  const values = [...curve(system.log10Lrs.targets, 'same person'), ...curve(system.log10Lrs.nonTargets, 'different people')];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Tippett: ${system.system}, ${title}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'log10 likelihood ratio' },
      y: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'proportion of pairs with a greater LR' },
      color: { field: 'class', type: 'nominal', title: 'pairs', scale: { range: ['#1f77b4', '#d62728'] } },
    },
  };
}

/** Writes `<name>.svg` and `<name>.png` in `dir`; returns both paths. */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<string[]> {
  const svg = await render(spec);
  const svgFile = path.join(dir, `${name}.svg`);
  const pngFile = path.join(dir, `${name}.png`);
  await writeFile(svgFile, svg);
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(pngFile);
  return [svgFile, pngFile];
}

export async function writeEvaluationPlots(dir: string, systems: SystemEvaluation[], title: string): Promise<string[]> {
  const files = [...(await writePlot(dir, 'roc', rocSpec(systems, title))), ...(await writePlot(dir, 'det', detSpec(systems, title)))];
  for (const s of systems) files.push(...(await writePlot(dir, `tippett-${s.system}`, tippettSpec(s, title))));
  return files;
}
