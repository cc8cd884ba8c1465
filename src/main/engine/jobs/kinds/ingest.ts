import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IngestResult } from '../../../../shared/contract';
import { ensurePortrait, markFailed, portraitState, saveAnalysis, subjectId } from '../../catalog/faces';
import { sha256Hex } from '../../catalog/store';
import { decodeRgb } from '../../vision/image';
import { analyzeFaces } from '../../vision/pipeline';
import { IMAGE_EXTENSIONS, MAX_INPUT_BYTES, probeImage } from '../../vision/probe';
import type { JobContext, JobDefinition, ParamsOf } from '../types';

/** Expands files and folders into a sorted file list; unreadable entries become per-file errors. */
async function listInputs(
  paths: string[],
  recursive: boolean,
  signal: AbortSignal,
): Promise<{ files: string[]; errors: { path: string; message: string }[] }> {
  const files: string[] = [];
  const errors: { path: string; message: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (signal.aborted) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      errors.push({ path: dir, message: `cannot read folder: ${(e as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) await walk(full);
      } else if (entry.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        files.push(full);
      }
    }
  };
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push({ path: p, message: code === 'ENOENT' ? 'no such file or folder' : (e as Error).message });
      continue;
    }
    if (info.isDirectory()) await walk(p);
    else if (info.isFile()) files.push(p); // an explicitly named file is tried whatever its extension
    else errors.push({ path: p, message: 'not a regular file or folder' });
  }
  return { files, errors };
}

async function ingestOne(file: string, params: ParamsOf<'store.ingest'>, ctx: JobContext, result: IngestResult): Promise<void> {
  const info = await stat(file);
  if (info.size > MAX_INPUT_BYTES) {
    throw new Error(`the file is ${(info.size / 2 ** 20).toFixed(0)} MiB, over the ${MAX_INPUT_BYTES / 2 ** 20} MiB limit`);
  }
  const data = await readFile(file);
  const sha = sha256Hex(data);
  if (ctx.catalog.hasOriginal(sha)) {
    result.duplicates.push({ path: file, sha256: sha });
  } else {
    const probe = await probeImage(data);
    // The store file goes first: a row never points at a file that is not fully on disk.
    await ctx.catalog.store.put(data, sha);
    const added = ctx.catalog.addOriginal(
      { sha256: sha, bytes: data.byteLength, format: probe.format, width: probe.width, height: probe.height, originalName: path.basename(file), sourcePath: file },
      ctx.actor,
    );
    if (added) result.added += 1;
    else result.duplicates.push({ path: file, sha256: sha });
  }
  const subjectName = params.subject ?? (params.subjectFromFolder ? path.basename(path.dirname(file)) : undefined);
  ensurePortrait(ctx.catalog, sha, subjectName ? subjectId(ctx.catalog, subjectName, ctx.actor) : null);
  // A portrait left unanalysed (a crash, or an import without analysis) is analysed when met again.
  if (params.analyze && portraitState(ctx.catalog, sha) !== 'analyzed') {
    const inference = ctx.inference();
    try {
      const faces = await analyzeFaces(await decodeRgb(data), inference, { recognizers: params.recognizers });
      const hashes = Object.fromEntries(params.recognizers.map((id) => [id, inference.registry.get(id).sha256]));
      saveAnalysis(ctx.catalog, sha, faces, hashes, ctx.actor);
      result.analyzed += 1;
      result.faces += faces.length;
    } catch (e) {
      markFailed(ctx.catalog, sha, (e as Error).message);
      throw new Error(`stored, but the face analysis failed: ${(e as Error).message}`);
    }
  }
}

export const ingestJob: JobDefinition<'store.ingest', IngestResult> = {
  kind: 'store.ingest',
  async run(params: ParamsOf<'store.ingest'>, ctx: JobContext): Promise<IngestResult> {
    ctx.progress(0, null, 'Listing files…');
    const { files, errors } = await listInputs(params.paths, params.recursive, ctx.signal);
    const result: IngestResult = { files: files.length, added: 0, analyzed: 0, faces: 0, duplicates: [], errors, skipped: 0 };
    for (let i = 0; i < files.length; i++) {
      if (ctx.signal.aborted) {
        result.skipped = files.length - i;
        ctx.progress(i, files.length, `Stopped after ${i} of ${files.length} files`);
        break;
      }
      const file = files[i] as string;
      ctx.progress(i, files.length, path.basename(file));
      try {
        await ingestOne(file, params, ctx, result);
      } catch (e) {
        result.errors.push({ path: file, message: (e as Error).message });
      }
    }
    if (!ctx.signal.aborted) ctx.progress(files.length, files.length, `${result.added} added`);
    return result;
  },
};
