import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { DEFAULT_RECOGNIZERS, type FileError } from '../../../shared/contract';
import { api } from '../api';
import { useJobs } from './jobs';
import { useNotices } from './notices';

/** A file to import with the name it is shown and stored under ("Person/Person_0001.jpg" from a folder). */
export interface PickedFile {
  file: File;
  name: string;
}

export interface ImportOptions {
  recursive: boolean;
  analyze: boolean;
  subjectFromFolder: boolean;
  subject: string;
}

/** Uploads at once: enough to keep the engine busy, few enough not to swamp a 2-core machine. */
const PARALLEL_UPLOADS = 3;

/**
 * Imports started from the Catalog screen: named paths go straight to the engine; dropped or picked
 * files are first handed over (uploaded over the loopback door, by path in the window), with
 * progress, cancel and their own per-file errors, then imported as one run.
 */
export const useImports = defineStore('imports', () => {
  const jobs = useJobs();
  const uploading = ref(false);
  const uploadDone = ref(0);
  const uploadTotal = ref(0);
  const uploadErrors = ref<FileError[]>([]);
  const jobId = ref<string | null>(null);
  let stopUploads = false;

  const job = computed(() => jobs.all.find((j) => j.id === jobId.value) ?? null);

  function params(paths: string[], o: ImportOptions, folders: boolean) {
    return {
      paths,
      recursive: o.recursive,
      analyze: o.analyze,
      ...(o.subject.trim() ? { subject: o.subject.trim() } : { subjectFromFolder: o.subjectFromFolder && folders }),
      ...(o.analyze ? { recognizers: DEFAULT_RECOGNIZERS } : {}),
    };
  }

  async function start(paths: string[], o: ImportOptions, folders = true): Promise<boolean> {
    try {
      const started = await jobs.start({ kind: 'store.ingest', params: params(paths, o, folders) });
      jobId.value = started.id;
      return true;
    } catch (e) {
      useNotices().error('The import was not started', e);
      return false;
    }
  }

  /** Paths typed by the user (files or folders on this machine). */
  async function importPaths(paths: string[], o: ImportOptions): Promise<boolean> {
    uploadErrors.value = [];
    return start(paths, o);
  }

  async function importFiles(files: PickedFile[], o: ImportOptions): Promise<void> {
    if (!files.length) return;
    const batch = crypto.randomUUID();
    uploading.value = true;
    stopUploads = false;
    uploadDone.value = 0;
    uploadTotal.value = files.length;
    uploadErrors.value = [];
    jobId.value = null;
    const paths: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length && !stopUploads) {
        const f = files[next++]!;
        try {
          paths.push(await api.importPath(f.file, f.name, batch));
        } catch (e) {
          uploadErrors.value = [...uploadErrors.value, { path: f.name, message: (e as Error).message }];
        }
        uploadDone.value += 1;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
    } finally {
      uploading.value = false;
    }
    if (stopUploads) {
      useNotices().push('info', 'Upload cancelled', `${paths.length} of ${files.length} files were sent; nothing was imported.`);
      return;
    }
    if (paths.length) await start(paths.sort(), o, files.every((f) => f.name.includes('/')));
  }

  function cancelUploads(): void {
    stopUploads = true;
  }

  return { uploading, uploadDone, uploadTotal, uploadErrors, jobId, job, importPaths, importFiles, cancelUploads };
});
