import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Real labelled faces shared beside the repository; never copied into it. */
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
export const hasSharedData = existsSync(path.join(SHARED_DATA, 'lfw'));

export function tempDir(prefix = 'facet-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small image whose bytes are unique to `seed` (plumbing tests; not evidence about faces). */
export async function noiseImage(seed: number, format: 'png' | 'jpeg' = 'png', size = 48): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  const img = sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

export async function writeNoiseImages(dir: string, count: number, offset = 0): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `img_${String(i + offset).padStart(5, '0')}.png`);
    await writeFile(file, await noiseImage(i + offset + 1));
    files.push(file);
  }
  return files;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid PNG header announcing width x height pixels with almost no data: a decompression bomb's shape. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Files every import must reject with a clear per-file message, and survive. */
export async function writeBadCorpus(dir: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const jpeg = await noiseImage(999, 'jpeg', 96);
  const files: Record<string, Buffer> = {
    'empty.jpg': Buffer.alloc(0),
    'text.jpg': Buffer.from('this is not an image\n'),
    'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    'bomb.png': pngHeaderOnly(20000, 20000),
  };
  const out: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) {
    out[name] = path.join(dir, name);
    await writeFile(out[name], data);
  }
  return out;
}
