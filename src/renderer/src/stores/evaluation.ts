import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CalibrationChoice, JobSnapshot, Res } from '../../../shared/contract';
import { api } from '../api';
import { useJobs } from './jobs';
import { useNotices } from './notices';

/** The evaluation screen's state: the last evaluation job (kept across navigation) and the calibrations. */
export const useEvaluation = defineStore('evaluation', () => {
  const jobs = useJobs();
  const jobId = ref<string | null>(null);
  const calibrations = ref<Res<'calibrations.list'>>([]);
  const selected = ref<CalibrationChoice | null>(null);
  const job = computed(() => (jobs.all.find((j) => j.id === jobId.value && j.kind === 'eval.pairs') as Extract<JobSnapshot, { kind: 'eval.pairs' }> | undefined) ?? null);

  async function loadCalibrations(): Promise<void> {
    try {
      [calibrations.value, selected.value] = await Promise.all([api.call('calibrations.list', {}), api.call('calibrations.selected', {})]);
    } catch (e) {
      useNotices().error('The calibrations could not be listed', e);
    }
  }

  async function select(name: string | null): Promise<void> {
    try {
      selected.value = await api.call('calibrations.select', { name });
      useNotices().push('info', name ? `Calibration "${name}" is now in use` : 'The default calibration is now in use', 'Verifications and reports use it from now on; the choice is in the audit log.');
    } catch (e) {
      useNotices().error('The calibration was not changed', e);
    }
    await loadCalibrations();
  }

  return { jobId, job, calibrations, selected, loadCalibrations, select };
});
