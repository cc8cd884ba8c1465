import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

const SHA_RE = /^[0-9a-f]{64}$/;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Content-addressed, write-once file store: an original lives at `ab/abcdef...` named by the
 * SHA-256 of its bytes. Files are written to a temporary name, flushed, then renamed, so a crash
 * never leaves a partial file under a real hash; they are made read-only once in place.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  pathFor(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new Error(`Not a SHA-256: ${JSON.stringify(sha256)}`);
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathFor(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /** Stores `data` under its hash and returns the hash. Idempotent. */
  async put(data: Uint8Array, knownSha256?: string): Promise<string> {
    const sha = knownSha256 ?? sha256Hex(data);
    const target = this.pathFor(sha);
    if (await this.has(sha)) return sha;
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(this.root, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    await rename(tmp, target);
    await chmod(target, 0o444);
    return sha;
  }

  /** Re-hashes a stored file from disk; undefined when it is missing. */
  async hashOnDisk(sha256: string): Promise<string | undefined> {
    const file = this.pathFor(sha256);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return hash.digest('hex');
  }
}
