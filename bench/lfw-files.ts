import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The first `limit` LFW images in name order (person folders, then files). */
export function lfwFiles(root: string, limit: number): string[] {
  const out: string[] = [];
  for (const person of readdirSync(root).sort()) {
    const dir = path.join(root, person);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).sort()) {
      if (out.length >= limit) return out;
      out.push(path.join(dir, f));
    }
  }
  return out;
}
