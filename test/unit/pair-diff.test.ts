import { describe, expect, it } from 'vitest';
import { maxDelta, pairDifference, patchOrigins, regionEffects, thetaNormalize, type Embedder } from '../../src/main/engine/analysis/pair-diff';

/** A W x W crop whose channel 0 holds `values` at the given pixels, 0.5 elsewhere. */
function crop(w: number, values: Record<string, number>): Float32Array {
  const out = new Float32Array(w * w * 3).fill(0.5);
  for (const [key, v] of Object.entries(values)) {
    const [x, y] = key.split(',').map(Number) as [number, number];
    out[(y * w + x) * 3] = v;
  }
  return out;
}

/** A tiny known network: the embedding is channel 0 at the listed pixels (in order). */
function pixelNet(w: number, pixels: [number, number][]): { embed: Embedder; calls: number[] } {
  const calls: number[] = [];
  const embed: Embedder = async (images, n) => {
    calls.push(n);
    const size = w * w * 3;
    return Array.from({ length: n }, (_, i) => Float32Array.from(pixels.map(([x, y]) => images[i * size + (y * w + x) * 3]!)));
  };
  return { embed, calls };
}

const at = (m: Float32Array, w: number, x: number, y: number): number => m[y * w + x]!;

describe('pairwise occlusion (Algorithm 1 of paper 003) on a network computable by hand', () => {
  // embedding = (p(0,0), p(3,3)); A = (1, 1), B = (-1, 1): cosine distance d1 = 1.
  const w = 4;
  const A = crop(w, { '0,0': 1, '3,3': 1 });
  const B = crop(w, { '0,0': -1, '3,3': 1 });
  const fill = [0, 0, 0];

  it('1x1 patches: +1 where the faces differ, -1 where they agree, 0 where the network does not look', async () => {
    const { embed } = pixelNet(w, [[0, 0], [3, 3]]);
    const map = await pairDifference(A, B, w, w, embed, { patch: 1, stride: 1, fill });
    expect(map.distance).toBeCloseTo(1, 12);
    // Covering (0,0) in both leaves (0,1) and (0,1): distance 0, so d1 - d2 = +1.
    expect(at(map.delta, w, 0, 0)).toBeCloseTo(1, 12);
    // Covering (3,3) leaves (1,0) and (-1,0): distance 2, so d1 - d2 = -1 (what makes them similar).
    expect(at(map.delta, w, 3, 3)).toBeCloseTo(-1, 12);
    expect([...map.delta].filter((v) => v !== 0)).toHaveLength(2);
    expect(map.forwardPasses).toBe(2 + 16 * 2);
    expect(maxDelta(map.delta)).toBeCloseTo(1, 12);
  });

  it('2x2 patches at stride 1: each pixel averages the patches covering it', async () => {
    const { embed } = pixelNet(w, [[0, 0]]);
    // With a one-pixel embedding the distance is 1 - sign agreement; occluding (0,0) makes both 0.
    const a = crop(w, { '0,0': 1 });
    const b = crop(w, { '0,0': -1 });
    // d1 = 2 (opposite 1-d vectors); occluded: 0/0, which the distance treats as 1 - 0 = 1.
    const map = await pairDifference(a, b, w, w, embed, { patch: 2, stride: 1, fill });
    const change = map.distance - 1;
    expect(at(map.delta, w, 0, 0)).toBeCloseTo(change, 12); // covered by 1 patch, which changes it
    expect(at(map.delta, w, 1, 0)).toBeCloseTo(change / 2, 12); // 2 patches, one of them at (0,0)
    expect(at(map.delta, w, 1, 1)).toBeCloseTo(change / 4, 12); // 4 patches
    expect(at(map.delta, w, 2, 2)).toBe(0); // none of its patches covers (0,0)
    expect(map.forwardPasses).toBe(2 + 9 * 2);
  });

  it('one-sided maps occlude one image only', async () => {
    const { embed } = pixelNet(w, [[0, 0], [3, 3]]);
    const map = await pairDifference(A, B, w, w, embed, { patch: 1, stride: 1, fill, mode: 'a' });
    // (0,1) vs (-1,1): distance 1 - 1/sqrt(2).
    expect(at(map.delta, w, 0, 0)).toBeCloseTo(1 - (1 - 1 / Math.SQRT2), 6); // float32 maps
    expect(map.forwardPasses).toBe(2 + 16);
  });

  it('batching does not change the map', async () => {
    const big = 12;
    const a = new Float32Array(big * big * 3).map((_, i) => Math.sin(i));
    const b = new Float32Array(big * big * 3).map((_, i) => Math.cos(i * 0.7));
    const pixels: [number, number][] = [[1, 2], [5, 5], [9, 3], [7, 10], [2, 8]];
    const one = await pairDifference(a, b, big, big, pixelNet(big, pixels).embed, { patch: 3, stride: 2, fill, batch: 2 });
    const many = await pairDifference(a, b, big, big, pixelNet(big, pixels).embed, { patch: 3, stride: 2, fill, batch: 64 });
    expect([...one.delta]).toEqual([...many.delta]);
  });

  it('coarse-to-fine refines only around the difference, with fewer passes and the same map there', async () => {
    const big = 24;
    const a = crop(big, { '5,5': 1, '18,18': 1 });
    const b = crop(big, { '5,5': -1, '18,18': 1 });
    const net = (): Embedder => pixelNet(big, [[5, 5], [18, 18]]).embed;
    const full = await pairDifference(a, b, big, big, net(), { patch: 4, stride: 2, fill });
    const fast = await pairDifference(a, b, big, big, net(), { patch: 4, stride: 2, fill, refine: { patch: 8, stride: 4, keep: 0.5 } });
    expect(fast.forwardPasses).toBeLessThan(full.forwardPasses / 2);
    for (const [x, y] of [[5, 5], [4, 6], [6, 4]] as const) expect(at(fast.delta, big, x, y)).toBeCloseTo(at(full.delta, big, x, y), 12);
    // The hottest pixel is the same one.
    const argmax = (m: Float32Array) => m.indexOf(maxDelta(m));
    expect(argmax(fast.delta)).toBe(argmax(full.delta));
  });

  it('region effects undo the patch blur: known per-pixel effects are recovered from the occlusions', () => {
    // 8x8 crop: region 0 = the left 2 columns, region 1 = the rest of the top half; bottom half in none.
    const side = 8;
    const r0 = new Float32Array(side * side);
    const r1 = new Float32Array(side * side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        if (x < 2) r0[y * side + x] = 1;
        else if (y < 4) r1[y * side + x] = 1;
      }
    }
    const truth = [0.05, 0.01, 0]; // per pixel: region 0, region 1, elsewhere
    const samples = patchOrigins(side, 3, 1).flatMap((y) =>
      patchOrigins(side, 3, 1).map((x) => {
        let change = 0;
        for (let v = y; v < y + 3; v++) for (let u = x; u < x + 3; u++) change += r0[v * side + u] ? truth[0]! : r1[v * side + u] ? truth[1]! : truth[2]!;
        return { x, y, size: 3, change };
      }),
    );
    const effects = regionEffects(samples, [r0, r1], side);
    expect(effects[0]).toBeCloseTo(0.05, 6);
    expect(effects[1]).toBeCloseTo(0.01, 6);
    // Negative changes (what makes faces similar) are not a part's difference.
    expect(regionEffects(samples.map((s) => ({ ...s, change: -s.change })), [r0, r1], side)).toEqual([0, 0]);
  });

  it('patch origins cover the crop to its edge; Theta normalization clamps to [0, 1]', () => {
    expect(patchOrigins(10, 4, 3)).toEqual([0, 3, 6]);
    expect(patchOrigins(11, 4, 3)).toEqual([0, 3, 6, 7]);
    expect(() => patchOrigins(3, 4, 1)).toThrow(/does not fit/);
    expect([...thetaNormalize(Float32Array.from([-0.2, 0, 0.05, 0.1, 0.3]), 0.1)]).toEqual([0, 0, 0.5, 1, 1]);
    expect(() => thetaNormalize(new Float32Array(1), 0)).toThrow(/positive/);
  });
});
