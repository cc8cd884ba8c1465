/**
 * Face characterization (paper 000): CAM (Zhou et al., Eq. 1-2) and Polarized CAM (Eq. 3-6) on a
 * recognizer's last convolutional feature maps f (Z x W x H), for a set of portraits of one person
 * (P_ind) against arbitrary others (P_arb).
 *
 * PCAM learns M (2 x Z x W x H, used as a 2 x ZWH matrix) and b by the hinge loss
 *   sum_ij max(rho - r_ij (b - ||M f_i - M f_j||^2), 0),  r_ij = +1 same set, -1 cross set,
 * then F_cz = mean_wh(M_czwh f_zwh) and PCAM_c(w,h) = sum_z F_cz M_czwh f_zwh.
 *
 * Plain TypeScript: the problem is small (M has 2·Z·W·H entries; a person has tens of portraits),
 * and this is the reference the tests check by finite differences.
 */

/** One portrait's feature map, Z x W x H (channel-major, as the ONNX NCHW output without the batch). */
export type FeatureMap = Float32Array;

export interface MapShape {
  z: number;
  w: number;
  h: number;
}

/** A small deterministic generator (mulberry32), so that training is reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PcamModel {
  shape: MapShape;
  /** 2 x (Z*W*H), row-major. */
  m: Float32Array;
  b: number;
  rho: number;
}

export interface PcamPair {
  i: number;
  j: number;
  /** +1 same set, -1 cross set. */
  r: 1 | -1;
}

/** M f for one feature map: a 2-vector. */
export function embed2(model: PcamModel, f: FeatureMap): [number, number] {
  const n = f.length;
  let a = 0;
  let c = 0;
  for (let k = 0; k < n; k++) {
    a += model.m[k]! * f[k]!;
    c += model.m[n + k]! * f[k]!;
  }
  return [a, c];
}

/**
 * Eq. (6) averaged over the given pairs, plus `decay`/2 ||M||^2, with its gradient when `grad` is
 * given. The decay matters: a person's few portraits in a high-dimensional feature space are always
 * separable, and without it the metric fits every portrait, however unrepresentative.
 */
export function hingeLoss(model: PcamModel, maps: FeatureMap[], pairs: PcamPair[], decay: number, grad?: { m: Float32Array; b: number }): number {
  const n = model.m.length / 2;
  const projected = maps.map((f) => embed2(model, f));
  let loss = 0;
  if (grad) {
    grad.m.fill(0);
    grad.b = 0;
  }
  // The gradient of sum_pairs r ||M (f_i - f_j)||^2 is sum_i c_i f_i^T with c_i = sum over i's active
  // pairs of +-2 r u: accumulating c_i first costs O(maps x ZWH) instead of O(pairs x ZWH).
  const coef: [number, number][] = grad ? maps.map(() => [0, 0]) : [];
  for (const { i, j, r } of pairs) {
    const u0 = projected[i]![0] - projected[j]![0];
    const u1 = projected[i]![1] - projected[j]![1];
    const d2 = u0 * u0 + u1 * u1;
    const margin = model.rho - r * (model.b - d2);
    if (margin <= 0) continue;
    loss += margin;
    if (!grad) continue;
    // d/db = -r; d/dM = r * 2 u (f_i - f_j)^T.
    grad.b -= r;
    const ci = coef[i]!;
    const cj = coef[j]!;
    ci[0] += 2 * r * u0;
    ci[1] += 2 * r * u1;
    cj[0] -= 2 * r * u0;
    cj[1] -= 2 * r * u1;
  }
  if (grad) {
    maps.forEach((f, i) => {
      const [c0, c1] = coef[i]!;
      if (!c0 && !c1) return;
      for (let k = 0; k < n; k++) {
        grad.m[k] = grad.m[k]! + c0 * f[k]!;
        grad.m[n + k] = grad.m[n + k]! + c1 * f[k]!;
      }
    });
  }
  const count = Math.max(1, pairs.length);
  let norm = 0;
  for (let k = 0; k < model.m.length; k++) norm += model.m[k]! ** 2;
  if (grad) {
    grad.b /= count;
    for (let k = 0; k < model.m.length; k++) grad.m[k] = grad.m[k]! / count + decay * model.m[k]!;
  }
  return loss / count + (decay / 2) * norm;
}

/** Every same-set pair (+1) and every cross-set pair (-1) of P_ind (first `nInd` maps) and P_arb. */
export function allPairs(nInd: number, nArb: number): PcamPair[] {
  const pairs: PcamPair[] = [];
  const total = nInd + nArb;
  for (let i = 0; i < total; i++) {
    for (let j = i + 1; j < total; j++) pairs.push({ i, j, r: i < nInd === j < nInd ? 1 : -1 });
  }
  return pairs;
}

export interface TrainOptions {
  rho?: number;
  decay?: number;
  epochs?: number;
  learningRate?: number;
  seed?: number;
  /** Called after every epoch; return false to stop (cancel). */
  onEpoch?: (epoch: number, loss: number) => boolean | void;
}

interface Training {
  model: PcamModel;
  scaled: FeatureMap[];
  pairs: PcamPair[];
  scale: number;
  decay: number;
  epochs: number;
  /** Applies one Adam step from a gradient (epoch t counts from 1). */
  update(t: number, gradM: Float32Array, gradB: number): void;
  /** Folds the feature scale into M, so the model applies to raw feature maps. */
  finish(): void;
}

/**
 * Shared set-up of both training paths: features scaled by their overall RMS (kept in the model),
 * so one learning rate suits every recognizer; M drawn from the seed; Adam state.
 */
function prepareTraining(ind: FeatureMap[], arb: FeatureMap[], shape: MapShape, options: TrainOptions): Training {
  const maps = [...ind, ...arb];
  const n = shape.z * shape.w * shape.h;
  for (const f of maps) if (f.length !== n) throw new Error(`feature maps must have ${n} values`);
  if (ind.length < 2 || arb.length < 2) throw new Error('characterization needs at least 2 portraits of the person and 2 of others');
  let sq = 0;
  for (const f of maps) for (const v of f) sq += v * v;
  const scale = 1 / Math.sqrt(sq / (maps.length * n) || 1);
  const scaled = maps.map((f) => f.map((v) => v * scale));
  const rand = seededRandom(options.seed ?? 1);
  const m = new Float32Array(2 * n).map(() => (rand() - 0.5) * (2 / Math.sqrt(n)));
  const model: PcamModel = { shape, m, b: 1, rho: options.rho ?? 1 };
  const lr = options.learningRate ?? 1e-2;
  const mom = { m: new Float32Array(2 * n), b: 0 };
  const vel = { m: new Float32Array(2 * n), b: 0 };
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  return {
    model,
    scaled,
    pairs: allPairs(ind.length, arb.length),
    scale,
    decay: options.decay ?? 1e-3,
    epochs: options.epochs ?? 300,
    update(t, gradM, gradB) {
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let k = 0; k < m.length; k++) {
        const g = gradM[k]!;
        mom.m[k] = beta1 * mom.m[k]! + (1 - beta1) * g;
        vel.m[k] = beta2 * vel.m[k]! + (1 - beta2) * g * g;
        m[k] = m[k]! - (lr * mom.m[k]! / c1) / (Math.sqrt(vel.m[k]! / c2) + eps);
      }
      mom.b = beta1 * mom.b + (1 - beta1) * gradB;
      vel.b = beta2 * vel.b + (1 - beta2) * gradB * gradB;
      model.b -= (lr * mom.b / c1) / (Math.sqrt(vel.b / c2) + eps);
    },
    finish() {
      for (let k = 0; k < m.length; k++) m[k] = m[k]! * scale;
    },
  };
}

/** Learns (M, b) by Adam on the full-batch hinge loss, in TypeScript (the reference path). */
export function trainPcam(ind: FeatureMap[], arb: FeatureMap[], shape: MapShape, options: TrainOptions = {}): { model: PcamModel; losses: number[]; scale: number } {
  const t = prepareTraining(ind, arb, shape, options);
  const grad = { m: new Float32Array(t.model.m.length), b: 0 };
  const losses: number[] = [];
  for (let epoch = 1; epoch <= t.epochs; epoch++) {
    const loss = hingeLoss(t.model, t.scaled, t.pairs, t.decay, grad);
    losses.push(loss);
    t.update(epoch, grad.m, grad.b);
    if (options.onEpoch?.(epoch, loss) === false) break;
  }
  t.finish();
  return { model: t.model, losses, scale: t.scale };
}

/**
 * The same training with each step's loss and gradient computed by an ONNX graph on onnxruntime
 * (pcam-onnx.ts), so it runs on a GPU provider where there is one.
 */
export async function trainPcamOnRuntime(
  ind: FeatureMap[],
  arb: FeatureMap[],
  shape: MapShape,
  options: TrainOptions & { provider?: 'cpu' | 'cuda' | 'webgpu' } = {},
): Promise<{ model: PcamModel; losses: number[]; scale: number }> {
  const { OnnxPcamGradient } = await import('./pcam-onnx');
  const t = prepareTraining(ind, arb, shape, options);
  const graph = await OnnxPcamGradient.create(t.scaled, t.pairs, options.provider ?? 'cpu');
  const losses: number[] = [];
  try {
    for (let epoch = 1; epoch <= t.epochs; epoch++) {
      const step = await graph.step(t.model, t.decay);
      losses.push(step.loss);
      t.update(epoch, step.gradM, step.gradB);
      if (options.onEpoch?.(epoch, step.loss) === false) break;
    }
  } finally {
    await graph.close();
  }
  t.finish();
  return { model: t.model, losses, scale: t.scale };
}

/** Eq. (4)-(5): the PCAM of one portrait for class c (0 = the individual's side), W x H. */
export function pcamMap(model: PcamModel, f: FeatureMap, c: 0 | 1): Float32Array {
  const { z, w, h } = model.shape;
  const wh = w * h;
  const off = c * z * wh;
  const out = new Float32Array(wh);
  for (let k = 0; k < z; k++) {
    let fcz = 0;
    for (let p = 0; p < wh; p++) fcz += model.m[off + k * wh + p]! * f[k * wh + p]!;
    fcz /= wh;
    for (let p = 0; p < wh; p++) out[p] = out[p]! + fcz * model.m[off + k * wh + p]! * f[k * wh + p]!;
  }
  return out;
}

/** Eq. (2): the CAM for class weights `a` (one per channel). */
export function camMap(a: Float32Array, f: FeatureMap, shape: MapShape): Float32Array {
  const wh = shape.w * shape.h;
  const out = new Float32Array(wh);
  for (let k = 0; k < shape.z; k++) for (let p = 0; p < wh; p++) out[p] = out[p]! + a[k]! * f[k * wh + p]!;
  return out;
}

/**
 * How representative each of the person's portraits is under the learned metric: its mean squared
 * distance to the others' portraits minus its mean squared distance to the person's other portraits
 * (the margin of the individual's class, per portrait). Higher is more representative.
 */
export function representativeness(model: PcamModel, ind: FeatureMap[], arb: FeatureMap[]): number[] {
  const pi = ind.map((f) => embed2(model, f));
  const pa = arb.map((f) => embed2(model, f));
  const d2 = (x: [number, number], y: [number, number]): number => (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2;
  return pi.map((x, i) => {
    const toArb = pa.reduce((s, y) => s + d2(x, y), 0) / pa.length;
    const toInd = pi.reduce((s, y, j) => (j === i ? s : s + d2(x, y)), 0) / Math.max(1, pi.length - 1);
    return toArb - toInd;
  });
}

/**
 * CAM's class layer (Zhou et al.; 000 Eq. 1-2) for two classes: logistic regression on the globally
 * pooled features F_z (Eq. 1), P_ind vs P_arb, with a small ridge. Returns per-channel weights w
 * (the difference of the two softmax rows), so CAM_ind(w,h) = sum_z w_z f_zwh.
 */
export function trainCam(ind: FeatureMap[], arb: FeatureMap[], shape: MapShape, options: { epochs?: number; decay?: number; learningRate?: number } = {}): Float32Array {
  const wh = shape.w * shape.h;
  const pooled = [...ind, ...arb].map((f) => {
    const out = new Float32Array(shape.z);
    for (let z = 0; z < shape.z; z++) {
      let s = 0;
      for (let p = 0; p < wh; p++) s += f[z * wh + p]!;
      out[z] = s / wh;
    }
    return out;
  });
  const labels = [...ind.map(() => 1), ...arb.map(() => 0)];
  // Equal class weights, as for the LR calibrations.
  const weights = labels.map((y) => (y ? 0.5 / ind.length : 0.5 / arb.length));
  let sq = 0;
  for (const f of pooled) for (const v of f) sq += v * v;
  const scale = 1 / Math.sqrt(sq / (pooled.length * shape.z) || 1);
  const w = new Float32Array(shape.z);
  let bias = 0;
  const decay = options.decay ?? 1e-3;
  const lr = options.learningRate ?? 0.5;
  for (let epoch = 0; epoch < (options.epochs ?? 300); epoch++) {
    const g = new Float32Array(shape.z);
    let gb = 0;
    pooled.forEach((f, i) => {
      let s = bias;
      for (let z = 0; z < shape.z; z++) s += w[z]! * f[z]! * scale;
      const e = (1 / (1 + Math.exp(-s)) - labels[i]!) * weights[i]!;
      gb += e;
      for (let z = 0; z < shape.z; z++) g[z] = g[z]! + e * f[z]! * scale;
    });
    for (let z = 0; z < shape.z; z++) w[z] = w[z]! - lr * (g[z]! + decay * w[z]!);
    bias -= lr * gb;
  }
  return w.map((v) => v * scale);
}

/** Cells at or above `fraction` of the map's positive maximum: a map's active region. */
export function activeRegion(map: Float32Array, fraction = 0.5): Uint8Array {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  return Uint8Array.from(map, (v) => (max > 0 && v >= fraction * max ? 1 : 0));
}

/** Intersection over union of two active regions (0 when both are empty). */
export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union ? inter / union : 0;
}
