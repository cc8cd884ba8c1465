import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';

export interface ListedPair {
  a: string;
  b: string;
  /** Face numbers when not the portraits' primary faces. */
  fa?: number;
  fb?: number;
  label: string;
}

const KEY = 'facet.review-list';

/**
 * The list a pair was opened from (verification queue, look-alikes), so the pair screen can step to
 * the next or previous pair. Kept for the browser tab's life, so a reload keeps its place.
 */
export const useReviewList = defineStore('review-list', () => {
  const saved = sessionStorage.getItem(KEY);
  const list = ref<{ title: string; pairs: ListedPair[] } | null>(saved ? (JSON.parse(saved) as { title: string; pairs: ListedPair[] }) : null);
  watch(list, (v) => sessionStorage.setItem(KEY, JSON.stringify(v)), { deep: true });

  function set(title: string, pairs: ListedPair[]): void {
    list.value = { title, pairs };
  }
  function indexOf(a: string, b: string): number {
    return list.value?.pairs.findIndex((p) => p.a === a && p.b === b) ?? -1;
  }
  /** The pair `step` places away from (a, b) in the list, or null at its ends or outside it. */
  function neighbour(a: string, b: string, step: 1 | -1): ListedPair | null {
    const i = indexOf(a, b);
    if (i < 0) return null;
    return list.value?.pairs[i + step] ?? null;
  }
  const title = computed(() => list.value?.title ?? null);
  return { list, title, set, indexOf, neighbour };
});

/** The pair screen's address for a listed pair. */
export function pairRoute(p: ListedPair): { path: string; query: Record<string, string> } {
  const query: Record<string, string> = {};
  if (p.fa !== undefined) query['fa'] = String(p.fa);
  if (p.fb !== undefined) query['fb'] = String(p.fb);
  return { path: `/pair/${p.a}/${p.b}`, query };
}
