import { defineStore } from 'pinia';
import { reactive, ref, shallowRef } from 'vue';
import type { CatalogItem, Req } from '../../../shared/contract';
import { api } from '../api';
import { useNotices } from './notices';

/** Rows fetched per request: a screenful or two of thumbnails. */
export const PAGE_SIZE = 120;

export interface CatalogFilters {
  query: string;
  subject: string;
  faces: 'any' | 'with' | 'without' | 'unanalysed';
  minDetectorScore: number | null;
  minFaceSize: number | null;
  minInterOcular: number | null;
  minSharpness: number | null;
  importedFrom: string;
  importedTo: string;
  sort: NonNullable<Req<'catalog.originals'>['sort']>;
}

const blank = (): CatalogFilters => ({
  query: '',
  subject: '',
  faces: 'any',
  minDetectorScore: null,
  minFaceSize: null,
  minInterOcular: null,
  minSharpness: null,
  importedFrom: '',
  importedTo: '',
  sort: 'imported-desc',
});

/**
 * The catalog as the virtualized grid sees it: a total and pages fetched on demand, filtered and
 * sorted by the engine. A filter change starts a new generation; replies for an older one are dropped.
 */
export const useCatalog = defineStore('catalog', () => {
  const stats = ref({ originals: 0, bytes: 0 });
  const filters = reactive<CatalogFilters>(blank());
  const total = ref(0);
  const pages = shallowRef<Record<number, CatalogItem[]>>({});
  const loading = ref(false);
  let generation = 0;
  const inFlight = new Set<number>();

  function request(page: number): Req<'catalog.originals'> {
    const f = filters;
    const num = (v: number | null | string): number | undefined => (v === null || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v));
    return {
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
      query: f.query.trim(),
      ...(f.subject.trim() ? { subject: f.subject.trim() } : {}),
      faces: f.faces,
      minDetectorScore: num(f.minDetectorScore),
      minFaceSize: num(f.minFaceSize),
      minInterOcular: num(f.minInterOcular),
      minSharpness: num(f.minSharpness),
      ...(f.importedFrom ? { importedFrom: f.importedFrom } : {}),
      ...(f.importedTo ? { importedTo: f.importedTo } : {}),
      sort: f.sort,
    };
  }

  async function loadPage(page: number): Promise<void> {
    if (pages.value[page] || inFlight.has(page)) return;
    const gen = generation;
    inFlight.add(page);
    try {
      const res = await api.call('catalog.originals', request(page));
      if (gen !== generation) return;
      total.value = res.total;
      pages.value = { ...pages.value, [page]: res.items };
    } catch (e) {
      if (gen === generation) useNotices().error('Could not load the catalog', e);
    } finally {
      if (gen === generation) inFlight.delete(page);
    }
  }

  /** The item at a position of the filtered list, or undefined while its page is on its way. */
  function itemAt(index: number): CatalogItem | undefined {
    return pages.value[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
  }

  /** Fetches the pages a visible range needs. */
  function ensure(first: number, last: number): void {
    for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) void loadPage(p);
  }

  /** Drops every page (filters or the catalog changed) and loads the first again. */
  async function refresh(): Promise<void> {
    generation += 1;
    inFlight.clear();
    pages.value = {};
    loading.value = true;
    try {
      const [s] = await Promise.all([api.call('catalog.stats', {}), loadPage(0)]);
      stats.value = s;
    } catch (e) {
      useNotices().error('Could not load the catalog', e);
    } finally {
      loading.value = false;
    }
  }

  function reset(): void {
    Object.assign(filters, blank());
  }

  return { stats, filters, total, pages, loading, itemAt, ensure, refresh, reset, mediaUrl: api.mediaUrl, thumbUrl: api.thumbUrl };
});
