import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { IngestParams, type IngestResult } from '../../../../shared/contract';
import { ensurePortrait, markFailed, portraitState, saveAnalysis, subjectId } from '../../catalog/faces';
import { createRun, finishedItems, finishItem, getRun, markStored, pendingItems, setRunState, type ImportItem } from '../../catalog/imports';
import { sha256Hex } from '../../catalog/store';
import { isStagedUpload } from '../../catalog/uploads';
import { decodeRgb } from '../../vision/image';
import { analyzeFaces } from '../../vision/pipeline';
import { IMAGE_EXTENSIONS, MAX_INPUT_BYTES, probeImage } from '../../vision/probe';
import type { JobContext, JobDefinition, ParamsOf } from '../types';

type Params = ParamsOf<'store.ingest'>;

/** Files processed at once by one import. */
const IN_FLIGHT = 4;
interface Input {
  path: string;
  subject: string | null;
  /** Set for inputs that failed while being listed: they enter the run already finished. */
  error?: string;
}

/** Expands files and folders into a sorted file list; unreadable entries become per-file errors. */
async function listPaths(paths: string[], recursive: boolean, signal: AbortSignal): Promise<Input[]> {
  const out: Input[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (signal.aborted) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      out.push({ path: dir, subject: null, error: `cannot read folder: ${(e as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) await walk(full);
      } else if (entry.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        out.push({ path: full, subject: null });
      }
    }
  };
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      out.push({ path: p, subject: null, error: code === 'ENOENT' ? 'no such file or folder' : (e as Error).message });
      continue;
    }
    if (info.isDirectory()) await walk(p);
    else if (info.isFile()) out.push({ path: p, subject: null }); // an explicitly named file is tried whatever its extension
    else out.push({ path: p, subject: null, error: 'not a regular file or folder' });
  }
  return out;
}

const PATH_COLUMNS = ['path', 'file', 'filename', 'image'];
const SUBJECT_COLUMNS = ['subject', 'identity', 'person', 'name'];

/**
 * A CSV mapping with a header row: a path column (path/file/filename/image) and optionally a
 * subject column (subject/identity/person/name). Relative paths are read from the CSV's folder.
 * A malformed file fails the whole import before anything is stored; a bad row is a per-file error.
 */
export async function readCsvMapping(file: string): Promise<Input[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the CSV mapping ${file}: ${(e as Error).message}`);
  }
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (e) {
    throw new Error(`the CSV mapping ${file} is malformed: ${(e as Error).message}`);
  }
  const header = rows.length ? Object.keys(rows[0] as object) : [];
  const pathCol = PATH_COLUMNS.find((c) => header.includes(c));
  if (!pathCol) throw new Error(`the CSV mapping ${file} needs a header row with a path column (one of: ${PATH_COLUMNS.join(', ')})`);
  const subjectCol = SUBJECT_COLUMNS.find((c) => header.includes(c));
  const base = path.dirname(file);
  return rows.map((r, i) => {
    const p = r[pathCol] ?? '';
    const subject = (subjectCol && r[subjectCol]) || null;
    if (!p) return { path: `${file}:${i + 2}`, subject, error: 'row has no path' };
    return { path: path.resolve(base, p), subject };
  });
}

async function listInputs(params: Params, signal: AbortSignal): Promise<Input[]> {
  const inputs = [...(await listPaths(params.paths, params.recursive, signal)), ...(params.csv ? await readCsvMapping(params.csv) : [])];
  for (const input of inputs) {
    input.subject = params.subject ?? (params.subjectFromFolder ? path.basename(path.dirname(input.path)) : null) ?? input.subject;
  }
  return inputs;
}

type Outcome = { status: 'added' | 'duplicate'; sha256: string; analyzed: boolean; faces: number };

async function ingestOne(item: ImportItem, runId: number, params: Params, ctx: JobContext): Promise<Outcome> {
  const { catalog } = ctx;
  const info = await stat(item.path).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message);
  });
  if (!info.isFile()) throw new Error('not a regular file');
  if (info.size > MAX_INPUT_BYTES) {
    throw new Error(`the file is ${(info.size / 2 ** 20).toFixed(0)} MiB, over the ${MAX_INPUT_BYTES / 2 ** 20} MiB limit`);
  }
  const data = await readFile(item.path);
  const sha = sha256Hex(data);
  const subject = item.subject ? subjectId(catalog, item.subject, ctx.actor) : null;
  // An item whose original this run already committed (before a crash) is not a duplicate of itself.
  let status: Outcome['status'] = item.sha256 === sha ? 'added' : 'duplicate';
  if (!catalog.hasOriginal(sha)) {
    const probe = await probeImage(data);
    // The store file goes first: a row never points at a file that is not fully on disk.
    await catalog.store.put(data, sha);
    const original = { sha256: sha, bytes: data.byteLength, format: probe.format, width: probe.width, height: probe.height, originalName: path.basename(item.path), sourcePath: item.path };
    // Original, thumbnail, portrait and the run's note that it is stored commit together.
    const added = catalog.db.transaction(() => {
      const inserted = catalog.addOriginal(original, ctx.actor);
      catalog.putThumbnail(sha, probe.thumbnail);
      ensurePortrait(catalog, sha, subject);
      if (inserted) markStored(catalog, runId, item.idx, sha);
      return inserted;
    })();
    catalog.audit.syncHead();
    if (added) status = 'added';
  } else {
    ensurePortrait(catalog, sha, subject);
    if (!catalog.getThumbnail(sha)) catalog.putThumbnail(sha, (await probeImage(data)).thumbnail);
  }
  // A portrait left unanalysed (a crash, or an import without analysis) is analysed when met again.
  if (params.analyze && portraitState(catalog, sha) !== 'analyzed') {
    const inference = ctx.inference();
    try {
      const faces = await analyzeFaces(await decodeRgb(data), inference, { recognizers: params.recognizers });
      const hashes = Object.fromEntries(params.recognizers.map((id) => [id, inference.registry.get(id).sha256]));
      saveAnalysis(catalog, sha, faces, hashes, ctx.actor);
      return { status, sha256: sha, analyzed: true, faces: faces.length };
    } catch (e) {
      markFailed(catalog, sha, (e as Error).message);
      throw Object.assign(new Error(`stored, but the face analysis failed: ${(e as Error).message}`), { sha256: sha });
    }
  }
  return { status, sha256: sha, analyzed: false, faces: 0 };
}

export const ingestJob: JobDefinition<'store.ingest', IngestResult> = {
  kind: 'store.ingest',
  async run(requested: Params, ctx: JobContext): Promise<IngestResult> {
    const { catalog } = ctx;
    let runId: number;
    let params: Params;
    if (requested.resume !== undefined) {
      const run = getRun(catalog, requested.resume);
      if (!run) throw new Error(`there is no import run ${requested.resume} in this catalog`);
      if (run.state === 'done') throw new Error(`import run ${run.id} has already finished; nothing to resume`);
      params = IngestParams.parse(run.params);
      runId = run.id;
      setRunState(catalog, runId, 'running');
    } else {
      ctx.progress(0, null, 'Listing files…');
      params = requested;
      const inputs = await listInputs(params, ctx.signal);
      runId = createRun(catalog, params, inputs);
      for (const [idx, input] of inputs.entries()) if (input.error) finishItem(catalog, runId, idx, 'error', null, input.error);
    }

    // A resumed run reports the whole run, not only the part done this time.
    const result: IngestResult = { runId, resumed: requested.resume !== undefined, files: 0, added: 0, analyzed: 0, faces: 0, duplicates: [], errors: [], skipped: 0 };
    for (const it of finishedItems(catalog, runId)) {
      result.files += 1;
      if (it.status === 'added') result.added += 1;
      else if (it.status === 'duplicate') result.duplicates.push({ path: it.path, sha256: it.sha256 as string });
      else result.errors.push({ path: it.path, message: it.message ?? 'failed' });
    }
    const pending = pendingItems(catalog, runId);
    const total = result.files + pending.length;
    // Several files in flight: decoding, hashing and storing one overlap with inference on
    // another, and the inference service batches the recognizer calls of concurrent files.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length && !ctx.signal.aborted) {
        const item = pending[next++] as ImportItem;
        try {
          const out = await ingestOne(item, runId, params, ctx);
          finishItem(catalog, runId, item.idx, out.status, out.sha256, null);
          // A browser's upload is a copy made only for this import: the store now holds the original.
          if (isStagedUpload(catalog.dir, item.path)) await rm(item.path, { force: true });
          if (out.status === 'added') result.added += 1;
          else result.duplicates.push({ path: item.path, sha256: out.sha256 });
          if (out.analyzed) {
            result.analyzed += 1;
            result.faces += out.faces;
          }
        } catch (e) {
          const message = (e as Error).message;
          finishItem(catalog, runId, item.idx, 'error', (e as { sha256?: string }).sha256 ?? null, message);
          result.errors.push({ path: item.path, message });
        }
        result.files += 1;
        ctx.progress(result.files, total, path.basename(item.path));
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pending.length) }, worker));
    if (ctx.signal.aborted) {
      result.skipped = total - result.files;
      ctx.progress(result.files, total, `Stopped after ${result.files} of ${total} files`);
    }
    result.files = total;
    setRunState(catalog, runId, ctx.signal.aborted ? 'cancelled' : 'done');
    if (!ctx.signal.aborted) ctx.progress(total, total, `${result.added} added`);
    return result;
  },
};
