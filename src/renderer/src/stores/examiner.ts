import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';

const KEY = 'facet.examiner';

/** Who is examining: set once in the window, remembered on this machine, sent with everything they record. */
export const useExaminer = defineStore('examiner', () => {
  const name = ref(localStorage.getItem(KEY) ?? '');
  const valid = computed(() => name.value.trim().length > 0);
  watch(name, (v) => {
    if (v.trim()) localStorage.setItem(KEY, v.trim());
    else localStorage.removeItem(KEY);
  });
  function set(v: string): void {
    name.value = v.trim();
  }
  return { name, valid, set };
});
