/** The pair screen's shared zoom: the point under the cursor stays put, and the photo always covers its view. */
import { describe, expect, it } from 'vitest';
import { MAX_ZOOM, useSyncedZoom } from '../../src/renderer/src/lib/zoom';

/** Where a point of the photo (fractions) appears in the view (fractions). */
const onScreen = (z: ReturnType<typeof useSyncedZoom>, p: [number, number]): [number, number] => [z.tx.value + z.scale.value * p[0], z.ty.value + z.scale.value * p[1]];

describe('synchronized zoom', () => {
  it('zooms about the given point, which stays where it was', () => {
    const z = useSyncedZoom();
    z.zoomAt(2, 0.3, 0.6);
    expect(z.scale.value).toBe(2);
    const [u, v] = onScreen(z, [0.3, 0.6]);
    expect(u).toBeCloseTo(0.3, 12);
    expect(v).toBeCloseTo(0.6, 12);
    // A second zoom about another point: the photo point under it stays too.
    const photoPoint: [number, number] = [(0.7 - z.tx.value) / z.scale.value, (0.2 - z.ty.value) / z.scale.value];
    z.zoomAt(1.5, 0.7, 0.2);
    const [u2, v2] = onScreen(z, photoPoint);
    expect(u2).toBeCloseTo(0.7, 12);
    expect(v2).toBeCloseTo(0.2, 12);
    expect(z.style.value.transform).toBe(`translate(${z.tx.value * 100}%, ${z.ty.value * 100}%) scale(3)`);
  });

  it('keeps the photo covering the view: no pan past its edges, no zoom out below 1 or beyond the maximum', () => {
    const z = useSyncedZoom();
    z.panBy(0.5, 0.5);
    expect([z.tx.value, z.ty.value]).toEqual([0, 0]); // at 100 % nothing moves
    z.zoomAt(4);
    z.panBy(10, -10);
    expect([z.tx.value, z.ty.value]).toEqual([0, -3]); // left edge at the view's left, bottom edge at its bottom
    z.zoomAt(100);
    expect(z.scale.value).toBe(MAX_ZOOM);
    z.zoomAt(0.001, 1, 1);
    expect([z.scale.value, z.tx.value, z.ty.value]).toEqual([1, 0, 0]);
    z.zoomAt(2);
    z.reset();
    expect([z.scale.value, z.tx.value, z.ty.value]).toEqual([1, 0, 0]);
  });
});
