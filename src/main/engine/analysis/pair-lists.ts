/**
 * Labelled pair lists the evaluation screen can offer without typing a path: LFW-style
 * `pairs*.txt` files in a data folder beside the application (`../shared/data` next to the
 * checkout, where the LFW View-1 lists live) or in `$FACET_DATA`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface FoundList {
  path: string;
  name: string;
  bytes: number;
}

export function dataDirs(modelsDir: string): string[] {
  const dirs = [process.env['FACET_DATA'], path.resolve(modelsDir, '../../../shared/data')].filter((d): d is string => Boolean(d));
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

export function findPairLists(modelsDir: string): FoundList[] {
  const found: FoundList[] = [];
  const look = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      let st;
      try {
        st = statSync(file);
      } catch {
        continue;
      }
      // Only small folders are entered: an images folder of thousands of people is not searched.
      if (st.isDirectory() && depth > 0 && name !== 'images') look(file, depth - 1);
      else if (st.isFile() && /^pairs.*\.txt$/i.test(name)) found.push({ path: file, name: `${path.basename(dir)}/${name}`, bytes: st.size });
    }
  };
  for (const d of dataDirs(modelsDir)) look(d, 1);
  return found;
}
