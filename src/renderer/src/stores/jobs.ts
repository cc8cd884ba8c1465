import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { TERMINAL_STATES, type JobRequest, type JobSnapshot } from '../../../shared/contract';
import { api } from '../api';
import { useNotices } from './notices';

/** Every job the engine knows, kept live from its events. */
export const useJobs = defineStore('jobs', () => {
  const byId = ref(new Map<string, JobSnapshot>());
  const finishedListeners = new Set<(job: JobSnapshot) => void>();
  let started = false;

  const all = computed(() => [...byId.value.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  const active = computed(() => all.value.filter((j) => !TERMINAL_STATES.includes(j.state)));

  function upsert(job: JobSnapshot): void {
    const before = byId.value.get(job.id);
    // A reply can arrive after events that already moved the job on (e.g. cancel's reply after "cancelled").
    if (before && before.revision >= job.revision) return;
    byId.value.set(job.id, job);
    if (TERMINAL_STATES.includes(job.state) && (!before || !TERMINAL_STATES.includes(before.state))) {
      for (const l of finishedListeners) l(job);
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    api.subscribe((event) => {
      if (event.type === 'job') upsert(event.job);
    });
    try {
      for (const job of await api.call('jobs.list', {})) upsert(job);
    } catch (e) {
      useNotices().error('Could not load the job list', e);
    }
  }

  /** Starts a job; errors (e.g. a rejected request) are shown and rethrown to the caller. */
  async function start(request: JobRequest): Promise<JobSnapshot> {
    const job = await api.call('jobs.start', request);
    upsert(job);
    return job;
  }

  async function cancel(id: string): Promise<void> {
    try {
      upsert(await api.call('jobs.cancel', { id }));
    } catch (e) {
      useNotices().error('Could not cancel the job', e);
    }
  }

  function onFinished(listener: (job: JobSnapshot) => void): () => void {
    finishedListeners.add(listener);
    return () => finishedListeners.delete(listener);
  }

  return { all, active, init, start, cancel, onFinished };
});
