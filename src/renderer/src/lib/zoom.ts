import { computed, ref } from 'vue';

export const MIN_ZOOM = 1;
export const MAX_ZOOM = 8;

/**
 * One zoom and pan shared by several views of the same size ratio (the two portraits): offsets are
 * fractions of the view, so both move together whatever their pixel sizes, and whatever is drawn
 * inside a view (the overlay canvas) moves with its photo.
 */
export function useSyncedZoom() {
  const scale = ref(1);
  const tx = ref(0);
  const ty = ref(0);

  // The content must keep covering the view: offsets between (1 - scale) and 0.
  const clamp = (v: number): number => Math.min(0, Math.max(1 - scale.value, v));

  /** Zooms by `factor` keeping the point (u, v) of the view (fractions) where it is. */
  function zoomAt(factor: number, u = 0.5, v = 0.5): void {
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, scale.value * factor));
    const px = (u - tx.value) / scale.value;
    const py = (v - ty.value) / scale.value;
    scale.value = next;
    tx.value = clamp(u - next * px);
    ty.value = clamp(v - next * py);
  }

  function panBy(du: number, dv: number): void {
    tx.value = clamp(tx.value + du);
    ty.value = clamp(ty.value + dv);
  }

  function reset(): void {
    scale.value = 1;
    tx.value = 0;
    ty.value = 0;
  }

  const style = computed(() => ({ transform: `translate(${tx.value * 100}%, ${ty.value * 100}%) scale(${scale.value})` }));

  /** Pointer handlers for a view element: wheel zooms about the cursor, drag pans. */
  let drag: { x: number; y: number; id: number } | null = null;
  const handlers = {
    onWheel(e: WheelEvent): void {
      e.preventDefault();
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      zoomAt(Math.exp(-e.deltaY / 300), (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
    },
    onPointerDown(e: PointerEvent): void {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, id: e.pointerId };
      (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    },
    onPointerMove(e: PointerEvent): void {
      if (!drag || drag.id !== e.pointerId) return;
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      panBy((e.clientX - drag.x) / r.width, (e.clientY - drag.y) / r.height);
      drag = { ...drag, x: e.clientX, y: e.clientY };
    },
    onPointerUp(e: PointerEvent): void {
      if (drag?.id === e.pointerId) drag = null;
    },
  };

  return { scale, tx, ty, style, zoomAt, panBy, reset, handlers };
}
