import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo } from '../../../shared/contract';
import { api } from '../api';
import { useNotices } from './notices';

export const useApp = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);

  async function load(): Promise<void> {
    try {
      info.value = await api.call('app.info', {});
    } catch (e) {
      useNotices().error('Could not reach the engine', e);
    }
  }

  return { info, load };
});
