import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Original } from '../../../shared/contract';
import { api } from '../api';
import { useNotices } from './notices';

export const useCatalog = defineStore('catalog', () => {
  const stats = ref({ originals: 0, bytes: 0 });
  const items = ref<Original[]>([]);
  const total = ref(0);
  const query = ref('');
  const loading = ref(false);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const [s, page] = await Promise.all([
        api.call('catalog.stats', {}),
        api.call('catalog.originals', { offset: 0, limit: 200, query: query.value }),
      ]);
      stats.value = s;
      items.value = page.items;
      total.value = page.total;
    } catch (e) {
      useNotices().error('Could not load the catalog', e);
    } finally {
      loading.value = false;
    }
  }

  return { stats, items, total, query, loading, refresh, mediaUrl: api.mediaUrl, thumbUrl: api.thumbUrl };
});
