import { defineStore } from 'pinia';
import { ref } from 'vue';
import { FacetApiError } from '../../../shared/client';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  title: string;
  detail: string;
}

/** Errors and confirmations shown in plain language at the top of the window. */
export const useNotices = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let next = 1;

  /** Confirmations fade after a few seconds; errors stay until dismissed. */
  const INFO_MS = 5000;

  function push(kind: Notice['kind'], title: string, detail = ''): void {
    const id = next++;
    items.value.push({ id, kind, title, detail });
    if (kind === 'info') setTimeout(() => dismiss(id), INFO_MS);
  }

  function error(title: string, e: unknown): void {
    if (e instanceof FacetApiError) {
      const detail = e.issues.length
        ? e.issues.map((i) => (i.path === '(root)' ? i.message : `${i.path}: ${i.message}`)).join('\n')
        : e.message;
      push('error', title, detail);
    } else push('error', title, e instanceof Error ? e.message : String(e));
  }

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
  }

  return { items, push, error, dismiss };
});
