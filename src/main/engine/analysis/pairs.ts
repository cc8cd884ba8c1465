/**
 * Labelled pair lists. Two formats, told apart line by line:
 * - LFW: `name n1 n2` (same person) and `name1 n1 name2 n2` (different people), images at
 *   `<images>/<name>/<name>_<nnnn>.jpg`; an optional first line `N` (pairs per class) or
 *   `F N` (F folds of N same then N different pairs, as in pairs.txt).
 * - Plain: `fileA fileB same|different` (or 1|0); relative files are read from the list's folder.
 * Fields are separated by tabs or spaces (so file names with spaces need tabs).
 */
import path from 'node:path';

export interface LabelledPair {
  a: string;
  b: string;
  same: boolean;
  /** 0-based fold, from the list's header, or assigned round-robin per class. */
  fold: number;
  /** 1-based line in the list, for messages. */
  line: number;
}

export interface PairList {
  pairs: LabelledPair[];
  folds: number;
  /** 'header' when the list defined the folds, 'assigned' when Facet split it. */
  foldSource: 'header' | 'assigned';
  format: 'lfw' | 'plain';
}

export class PairListError extends Error {
  override name = 'PairListError';
}

const INT = /^\d+$/;

export function lfwImagePath(imagesDir: string, name: string, n: string): string {
  return path.join(imagesDir, name, `${name}_${n.padStart(4, '0')}.jpg`);
}

/**
 * Parses a list. `imagesDir` resolves LFW names; `baseDir` resolves relative plain paths.
 * Every malformed line is reported at once, with its number, and nothing is returned.
 */
export function parsePairList(text: string, opts: { imagesDir: string; baseDir: string; defaultFolds?: number }): PairList {
  const lines = text.split(/\r?\n/);
  const problems: string[] = [];
  const pairs: Omit<LabelledPair, 'fold'>[] = [];
  let header: number[] | undefined;
  let format: PairList['format'] | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.includes('\t') ? line.split('\t').map((s) => s.trim()) : line.split(/\s+/);
    if (pairs.length === 0 && header === undefined && f.length <= 2 && f.every((x) => INT.test(x))) {
      header = f.map(Number);
      return;
    }
    let pair: Omit<LabelledPair, 'fold'> | undefined;
    if (f.length === 3 && INT.test(f[1]!) && INT.test(f[2]!)) {
      pair = { a: lfwImagePath(opts.imagesDir, f[0]!, f[1]!), b: lfwImagePath(opts.imagesDir, f[0]!, f[2]!), same: true, line: i + 1 };
      format ??= 'lfw';
    } else if (f.length === 4 && INT.test(f[1]!) && INT.test(f[3]!)) {
      pair = { a: lfwImagePath(opts.imagesDir, f[0]!, f[1]!), b: lfwImagePath(opts.imagesDir, f[2]!, f[3]!), same: false, line: i + 1 };
      format ??= 'lfw';
    } else if (f.length === 3) {
      const label = f[2]!.toLowerCase();
      const same = label === 'same' || label === '1' ? true : label === 'different' || label === '0' ? false : undefined;
      if (same === undefined) problems.push(`line ${i + 1}: the label must be same/different or 1/0, not ${JSON.stringify(f[2])}`);
      else pair = { a: path.resolve(opts.baseDir, f[0]!), b: path.resolve(opts.baseDir, f[1]!), same, line: i + 1 };
      format ??= 'plain';
    } else {
      problems.push(`line ${i + 1}: expected 3 fields (same person) or 4 (different people), found ${f.length}`);
    }
    if (pair) pairs.push(pair);
  });
  if (problems.length) {
    const shown = problems.slice(0, 10).join('; ');
    throw new PairListError(`the pair list is malformed: ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
  }
  const targets = pairs.filter((p) => p.same).length;
  if (targets === 0 || targets === pairs.length) throw new PairListError('the pair list needs both same-person and different-people pairs');

  // pairsDevTrain.txt layout: N same pairs then N different ones; a mismatch means a damaged list.
  const [hf, hn] = header ?? [];
  if (hf !== undefined && hn === undefined && (targets !== hf || pairs.length - targets !== hf)) {
    throw new PairListError(`the header promises ${hf} same-person and ${hf} different-people pairs, but the list has ${targets} and ${pairs.length - targets}`);
  }
  // pairs.txt layout: F folds, each N same pairs then N different ones.
  if (hf !== undefined && hn !== undefined && hf > 1) {
    if (hf * hn * 2 !== pairs.length) {
      throw new PairListError(`the header promises ${hf} folds of ${hn}+${hn} pairs (${hf * hn * 2}), but the list has ${pairs.length}`);
    }
    return { pairs: pairs.map((p, i) => ({ ...p, fold: Math.floor(i / (2 * hn)) })), folds: hf, foldSource: 'header', format: format ?? 'lfw' };
  }
  // Otherwise: round-robin within each class, so every fold holds both classes in proportion.
  const folds = Math.max(2, Math.min(opts.defaultFolds ?? 10, targets, pairs.length - targets));
  let t = 0;
  let n = 0;
  const out = pairs.map((p) => ({ ...p, fold: p.same ? t++ % folds : n++ % folds }));
  return { pairs: out, folds, foldSource: 'assigned', format: format ?? 'plain' };
}
