/**
 * Files uploaded by a browser on the loopback door (which, unlike the Electron window, cannot give
 * Facet a path): each is written into `<catalog>/uploads/<batch>/[folder/]name` and then imported
 * by path like any other file. The name keeps at most one folder level, so that "the folder name
 * is the subject" works for a dropped folder of Person/Person_0001.jpg files.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MAX_INPUT_BYTES } from '../vision/probe';

/** The import's own per-file limit: a larger upload could only fail later. */
export const MAX_UPLOAD_BYTES = MAX_INPUT_BYTES;
const BATCH_RE = /^[0-9a-z][0-9a-z-]{7,63}$/;

export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

export const uploadsDir = (catalogDir: string): string => path.join(catalogDir, 'uploads');

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 0)} MiB`;

/** Checks a batch id and a client-side name ("a.jpg" or "Folder/a.jpg"); returns the relative target. */
export function uploadTarget(batch: string, name: string): string {
  if (!BATCH_RE.test(batch)) throw new UploadError(400, 'the upload batch must be 8 to 64 lowercase letters, digits or dashes');
  const segments = name.split(/[\\/]+/).filter((s) => s.length > 0);
  if (!segments.length) throw new UploadError(400, 'the upload has no file name');
  for (const s of segments) {
    // eslint-disable-next-line no-control-regex
    if (s === '.' || s === '..' || /[\u0000-\u001f]/.test(s) || s.length > 255) throw new UploadError(400, `"${name}" is not an acceptable file name`);
  }
  return path.join(...segments.slice(-2));
}

/**
 * Streams one upload to its place, refusing it once it passes the limit (the declared length is
 * checked first, so an oversized upload is refused before anything is written).
 */
export async function receiveUpload(
  catalogDir: string,
  request: { batch?: string; name: string; declaredBytes?: number; maxBytes?: number },
  body: AsyncIterable<Buffer>,
): Promise<{ path: string; bytes: number; batch: string }> {
  const batch = request.batch ?? randomUUID();
  const rel = uploadTarget(batch, request.name);
  const max = request.maxBytes ?? MAX_UPLOAD_BYTES;
  const tooLarge = (n: number): UploadError =>
    new UploadError(413, `${path.basename(rel)} is ${mib(n)}, over the ${mib(max)} upload limit; import it by its path instead, or make it smaller`);
  if (request.declaredBytes !== undefined && request.declaredBytes > max) throw tooLarge(request.declaredBytes);
  const target = path.join(uploadsDir(catalogDir), batch, rel);
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.${randomUUID()}.part`;
  const out = createWriteStream(partial, { flags: 'wx' });
  let bytes = 0;
  try {
    // Past the limit the rest is drained, not kept (leaving the loop would close the connection
    // before the refusal reaches the sender).
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > max) continue;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    if (bytes > max) throw tooLarge(bytes);
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    await rename(partial, target);
  } catch (e) {
    out.destroy();
    await rm(partial, { force: true });
    throw e;
  }
  return { path: target, bytes, batch };
}

/** Whether a path is a staged upload (the import removes it once its original is in the store). */
export function isStagedUpload(catalogDir: string, file: string): boolean {
  const root = uploadsDir(catalogDir) + path.sep;
  return path.resolve(file).startsWith(root);
}
