import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, DoctorReport } from '../../../shared/contract';
import { api } from '../api';
import { useNotices } from './notices';

export const useApp = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const doctor = ref<DoctorReport | null>(null);
  const checking = ref(false);

  async function load(): Promise<void> {
    try {
      info.value = await api.call('app.info', {});
    } catch (e) {
      useNotices().error('Could not reach the engine', e);
    }
  }

  /** Starts the model runtime if needed, re-hashes the model files and reports the provider. */
  async function check(): Promise<void> {
    checking.value = true;
    try {
      doctor.value = await api.call('app.doctor', { verify: true });
    } catch (e) {
      useNotices().error('The model check failed', e);
    } finally {
      checking.value = false;
    }
  }

  return { info, doctor, checking, load, check };
});
