/**
 * The catalog as the Catalog screen pages through it: originals with their subject and their
 * primary face's quality signals, filtered and sorted in SQL (10k+ portraits must never travel to
 * the window at once), one page at a time.
 */
import type { CatalogItem, ParsedReq } from '../../../shared/contract';
import type { Catalog } from './catalog';

export type CatalogQuery = ParsedReq<'catalog.originals'>;

// The primary face: the reviewer's pick, else the largest (idx 0).
const FROM = `FROM originals o
  LEFT JOIN portraits p ON p.sha256 = o.sha256
  LEFT JOIN subjects s ON s.id = p.subject_id
  LEFT JOIN faces f ON f.portrait = o.sha256 AND f.idx = coalesce(p.primary_idx, 0)`;

// Same expressions as the indexes of migrations 6 and 8, so that SQLite can use them.
const INTER_OCULAR = "json_extract(f.quality, '$.interOcular')";
const SHARPNESS = "json_extract(f.quality, '$.sharpness')";

const ORDER: Record<CatalogQuery['sort'], string> = {
  'imported-desc': 'o.imported_at DESC, o.sha256',
  'imported-asc': 'o.imported_at ASC, o.sha256',
  name: 'o.original_name, o.sha256',
  subject: 's.name IS NULL, s.name, o.original_name, o.sha256',
  'detector-score': 'f.score IS NULL, f.score DESC, o.sha256',
  'face-size': 'f.width IS NULL, f.width DESC, o.sha256',
  sharpness: `${SHARPNESS} IS NULL, ${SHARPNESS} DESC, o.sha256`,
};

const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A bare date as an upper bound covers its whole day: compare with the next day's start. */
function upperBound(date: string): string {
  if (date.length > 10) return date;
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

interface Row {
  sha256: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  original_name: string;
  imported_at: string;
  subject: string | null;
  subject_id: number | null;
  state: CatalogItem['state'];
  faces: number;
  score: number | null;
  box_width: number | null;
  inter_ocular: number | null;
  sharpness: number | null;
}

export function browseCatalog(catalog: Catalog, q: CatalogQuery): { total: number; items: CatalogItem[] } {
  // Every filter is a condition on `o` alone (joins as IN-sets that their indexes build), so that
  // counting and paging never join 100k rows they do not need; details are joined for the page only.
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.query) {
    where.push("o.original_name LIKE ? ESCAPE '\\'");
    args.push(likePattern(q.query));
  }
  if (q.subject) {
    // LIKE is case-insensitive for ASCII; subjects are few, portraits_subject finds their portraits.
    where.push("o.sha256 IN (SELECT sha256 FROM portraits WHERE subject_id IN (SELECT id FROM subjects WHERE name LIKE ? ESCAPE '\\'))");
    args.push(likePattern(q.subject));
  }
  if (q.subjectId !== undefined) {
    where.push('o.sha256 IN (SELECT sha256 FROM portraits WHERE subject_id = ?)');
    args.push(q.subjectId);
  }
  if (q.sha256) {
    where.push('o.sha256 = ?');
    args.push(q.sha256);
  }
  const quality: string[] = [];
  const qualityArgs: unknown[] = [];
  const min = (expr: string, value: number | undefined): void => {
    if (value === undefined) return;
    quality.push(`${expr} >= ?`);
    qualityArgs.push(value);
  };
  min('f.score', q.minDetectorScore);
  min('f.width', q.minFaceSize);
  min(INTER_OCULAR, q.minInterOcular);
  min(SHARPNESS, q.minSharpness);
  if (q.faces === 'with' || quality.length) {
    where.push(
      `o.sha256 IN (SELECT f.portrait FROM faces f JOIN portraits p ON p.sha256 = f.portrait
        WHERE p.state = 'analyzed' AND f.idx = coalesce(p.primary_idx, 0)${quality.map((c) => ` AND ${c}`).join('')})`,
    );
    args.push(...qualityArgs);
  }
  if (q.faces === 'without') {
    where.push("o.sha256 IN (SELECT p.sha256 FROM portraits p WHERE p.state = 'analyzed' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.portrait = p.sha256 AND f.idx = coalesce(p.primary_idx, 0)))");
  } else if (q.faces === 'unanalysed') {
    where.push("o.sha256 NOT IN (SELECT sha256 FROM portraits WHERE state = 'analyzed')");
  }
  if (q.importedFrom) {
    where.push('o.imported_at >= ?');
    args.push(q.importedFrom);
  }
  if (q.importedTo) {
    where.push(q.importedTo.length > 10 ? 'o.imported_at <= ?' : 'o.imported_at < ?');
    args.push(upperBound(q.importedTo));
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const db = catalog.db;
  const total = (db.prepare(`SELECT count(*) AS n FROM originals o ${clause}`).get(...args) as { n: number }).n;
  // The page's keys: sorts on the original's own columns need no join at all.
  const joined = !['imported-desc', 'imported-asc', 'name'].includes(q.sort);
  const keys = (
    db.prepare(`SELECT o.sha256 ${joined ? FROM : 'FROM originals o'} ${clause} ORDER BY ${ORDER[q.sort]} LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset) as { sha256: string }[]
  ).map((r) => r.sha256);
  if (!keys.length) return { total, items: [] };
  const rows = db
    .prepare(
      `SELECT o.sha256, o.bytes, o.format, o.width, o.height, o.original_name, o.imported_at, s.name AS subject, p.subject_id, p.state,
              (SELECT count(*) FROM faces c WHERE c.portrait = o.sha256) AS faces,
              f.score, f.width AS box_width, ${INTER_OCULAR} AS inter_ocular, ${SHARPNESS} AS sharpness
       ${FROM} WHERE o.sha256 IN (${keys.map(() => '?').join(', ')})`,
    )
    .all(...keys) as Row[];
  const bySha = new Map(rows.map((r) => [r.sha256, r]));
  return {
    total,
    items: keys.map((k) => bySha.get(k)!).map((r) => ({
      sha256: r.sha256,
      bytes: r.bytes,
      format: r.format,
      width: r.width,
      height: r.height,
      originalName: r.original_name,
      importedAt: r.imported_at,
      subject: r.subject,
      subjectId: r.subject_id,
      state: r.state,
      faces: r.faces,
      quality: r.score === null ? null : { detectorScore: r.score, boxWidth: r.box_width ?? 0, interOcular: r.inter_ocular, sharpness: r.sharpness },
    })),
  };
}

type Pt = [number, number];

/** A face's five alignment points and 468-point mesh in photo pixels (rounded to 0.1 px), for the detail view. */
export function faceLandmarks(catalog: Catalog, faceId: number): { five: Pt[]; mesh: Pt[] } {
  const row = catalog.db.prepare('SELECT five, mesh FROM faces WHERE id = ?').get(faceId) as { five: string; mesh: Buffer } | undefined;
  if (!row) return { five: [], mesh: [] };
  const r = (v: number): number => Math.round(v * 10) / 10;
  const flat = new Float32Array(row.mesh.buffer.slice(row.mesh.byteOffset, row.mesh.byteOffset + row.mesh.byteLength));
  const mesh: Pt[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) mesh.push([r(flat[i]!), r(flat[i + 1]!)]);
  return { five: (JSON.parse(row.five) as Pt[]).map(([x, y]) => [r(x), r(y)]), mesh };
}
