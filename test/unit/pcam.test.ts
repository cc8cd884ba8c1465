import { describe, expect, it } from 'vitest';
import { activeRegion, allPairs, camMap, embed2, hingeLoss, iou, pcamMap, representativeness, seededRandom, trainCam, trainPcam, type FeatureMap, type PcamModel } from '../../src/main/engine/analysis/pcam';

const shape = { z: 6, w: 3, h: 3 };
const n = shape.z * shape.w * shape.h;

/** Random maps; the person's carry an extra signal on channels 0-1 at cell (w=2, h=0) only. */
function sets(seed: number, nInd: number, nArb: number, strength = 3): { ind: FeatureMap[]; arb: FeatureMap[] } {
  const rand = seededRandom(seed);
  const base = (): FeatureMap => Float32Array.from({ length: n }, () => rand());
  const ind = Array.from({ length: nInd }, (_, i) => {
    const f = base();
    const s = i === 0 ? strength / 6 : strength; // portrait 0 barely shows the trait
    for (const z of [0, 1]) f[z * 9 + 0 * 3 + 2] = f[z * 9 + 0 * 3 + 2]! + s;
    return f;
  });
  return { ind, arb: Array.from({ length: nArb }, base) };
}

describe('PCAM metric learning (paper 000, Eq. 3-6)', () => {
  it('the hinge-loss gradient matches finite differences', () => {
    const { ind, arb } = sets(3, 4, 5);
    const rand = seededRandom(9);
    const model: PcamModel = { shape, m: Float32Array.from({ length: 2 * n }, () => (rand() - 0.5) * 0.4), b: 0.7, rho: 1 };
    const maps = [...ind, ...arb];
    const pairs = allPairs(4, 5);
    const grad = { m: new Float32Array(2 * n), b: 0 };
    hingeLoss(model, maps, pairs, 0.01, grad);
    const eps = 1e-3;
    const at = (mutate: (m: PcamModel) => void): number => {
      const copy: PcamModel = { ...model, m: Float64Array.from(model.m) as unknown as Float32Array };
      mutate(copy);
      return hingeLoss(copy, maps, pairs, 0.01);
    };
    for (const k of [0, 7, 20, n + 3, 2 * n - 1]) {
      const numeric = (at((m) => (m.m[k] = m.m[k]! + eps)) - at((m) => (m.m[k] = m.m[k]! - eps))) / (2 * eps);
      expect(grad.m[k]!).toBeCloseTo(numeric, 3);
    }
    const numericB = (at((m) => (m.b += eps)) - at((m) => (m.b -= eps))) / (2 * eps);
    expect(grad.b).toBeCloseTo(numericB, 3);
  });

  it('training separates the sets and is deterministic for a seed', () => {
    const { ind, arb } = sets(5, 8, 12);
    const first = trainPcam(ind, arb, shape, { seed: 42, epochs: 200 });
    const again = trainPcam(ind, arb, shape, { seed: 42, epochs: 200 });
    expect([...again.model.m]).toEqual([...first.model.m]);
    expect(first.losses.at(-1)!).toBeLessThan(first.losses[0]! / 3);
    // Same-set pairs end closer than cross-set pairs.
    const p = (f: FeatureMap) => embed2(first.model, f);
    const d2 = (x: [number, number], y: [number, number]) => (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2;
    const within = d2(p(ind[1]!), p(ind[2]!));
    const across = d2(p(ind[1]!), p(arb[0]!));
    expect(across).toBeGreaterThan(within);
  });

  it('the PCAM of the person points at the cell that distinguishes them; the weakest portrait is least representative', () => {
    const { ind, arb } = sets(7, 10, 16);
    const { model } = trainPcam(ind, arb, shape, { seed: 1, epochs: 300 });
    const map = pcamMap(model, ind[3]!, 0);
    const cells = [...map].map((v, i) => [Math.abs(v), i] as const).sort((x, y) => y[0] - x[0]);
    expect(cells[0]![1]).toBe(0 * 3 + 2); // (w=2, h=0) in the W x H grid, flattened as h*W + w
    const rep = representativeness(model, ind, arb);
    expect(rep.indexOf(Math.min(...rep))).toBe(0);
  });

  it('refuses sets too small to learn from', () => {
    const { ind, arb } = sets(1, 1, 3);
    expect(() => trainPcam(ind, arb, shape)).toThrow(/at least 2 portraits/);
  });

  it('CAM: the class layer weights the distinguishing channels, and its map lights their cell', () => {
    const { ind, arb } = sets(11, 10, 16);
    const w = trainCam(ind, arb, shape);
    const order = [...w].map((v, z) => [v, z] as const).sort((a, b) => b[0] - a[0]);
    expect(order.slice(0, 2).map(([, z]) => z).sort()).toEqual([0, 1]);
    const map = camMap(w, ind[4]!, shape);
    expect(map.indexOf(Math.max(...map))).toBe(2);
  });

  it('active regions and their IoU', () => {
    expect([...activeRegion(Float32Array.from([0.1, 0.5, 1, -2]))]).toEqual([0, 1, 1, 0]);
    expect([...activeRegion(Float32Array.from([-1, -2]))]).toEqual([0, 0]);
    expect(iou(Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([0, 1, 1, 0]))).toBeCloseTo(1 / 3, 12);
    expect(iou(Uint8Array.from([0, 0]), Uint8Array.from([0, 0]))).toBe(0);
  });
});

describe('the PCAM training step as an ONNX graph (for GPU providers)', () => {
  it('gives the TypeScript reference loss and gradient', async () => {
    const { OnnxPcamGradient } = await import('../../src/main/engine/analysis/pcam-onnx');
    const { ind, arb } = sets(21, 5, 7);
    const rand = seededRandom(4);
    const model: PcamModel = { shape, m: Float32Array.from({ length: 2 * n }, () => (rand() - 0.5) * 0.6), b: 0.8, rho: 1 };
    const maps = [...ind, ...arb];
    const pairs = allPairs(5, 7);
    const ref = { m: new Float32Array(2 * n), b: 0 };
    const refLoss = hingeLoss(model, maps, pairs, 0.01, ref);
    const graph = await OnnxPcamGradient.create(maps, pairs);
    const out = await graph.step(model, 0.01);
    await graph.close();
    expect(out.loss).toBeCloseTo(refLoss, 4);
    expect(out.gradB).toBeCloseTo(ref.b, 4);
    let max = 0;
    for (let k = 0; k < ref.m.length; k++) max = Math.max(max, Math.abs(out.gradM[k]! - ref.m[k]!));
    expect(max).toBeLessThan(1e-4);
  });
});

describe('training on the runtime', () => {
  it('learns the same metric as the TypeScript path, to float precision', async () => {
    const { ind, arb } = sets(5, 8, 12);
    const { trainPcamOnRuntime } = await import('../../src/main/engine/analysis/pcam');
    const ts = trainPcam(ind, arb, shape, { seed: 42, epochs: 60 });
    const rt = await trainPcamOnRuntime(ind, arb, shape, { seed: 42, epochs: 60 });
    expect(rt.losses).toHaveLength(60);
    rt.losses.forEach((l, i) => expect(l).toBeCloseTo(ts.losses[i]!, 3));
    let max = 0;
    for (let k = 0; k < ts.model.m.length; k++) max = Math.max(max, Math.abs(rt.model.m[k]! - ts.model.m[k]!));
    expect(max).toBeLessThan(1e-3);
  });
});
