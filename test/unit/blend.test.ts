import { describe, expect, it } from 'vitest';
import { multiBandBlend } from '../../src/main/engine/vision/blend';

describe('multi-band blending', () => {
  const w = 32;
  const h = 24;
  const top = Float32Array.from({ length: w * h * 3 }, (_, i) => 50 + ((i * 7) % 100));
  const bottom = Float32Array.from({ length: w * h * 3 }, (_, i) => 120 + ((i * 13) % 90));

  it('reproduces each image exactly where the mask is all one or all zero', () => {
    const ones = multiBandBlend(top, bottom, new Float32Array(w * h).fill(1), w, h);
    const zeros = multiBandBlend(top, bottom, new Float32Array(w * h), w, h);
    for (let i = 0; i < top.length; i++) {
      expect(ones[i]).toBeCloseTo(top[i]!, 3);
      expect(zeros[i]).toBeCloseTo(bottom[i]!, 3);
    }
  });

  it('keeps each side far from a hard mask edge, and mixes smoothly across it', () => {
    const flatTop = new Float32Array(w * h * 3).fill(200);
    const flatBottom = new Float32Array(w * h * 3).fill(40);
    const mask = Float32Array.from({ length: w * h }, (_, i) => (i % w < w / 2 ? 1 : 0));
    const out = multiBandBlend(flatTop, flatBottom, mask, w, h);
    const at = (x: number, y: number) => out[(y * w + x) * 3]!;
    expect(at(1, 12)).toBeGreaterThan(190);
    expect(at(w - 2, 12)).toBeLessThan(50);
    // Monotone across the seam: no ringing beyond the two levels.
    for (let x = 1; x < w; x++) expect(at(x, 12)).toBeLessThanOrEqual(at(x - 1, 12) + 1e-3);
    expect(() => multiBandBlend(flatTop, flatBottom, new Float32Array(3), w, h)).toThrow(/share one size/);
  });
});
