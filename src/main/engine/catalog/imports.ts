/**
 * Import runs: an import's expanded file list is written to the catalog before any file is read,
 * and each file's outcome is committed together with what it added. A run stopped by a crash (or
 * a cancel) therefore continues exactly where it stopped, without re-reading finished files.
 */
import type { Catalog } from './catalog';

export type ItemStatus = 'pending' | 'added' | 'duplicate' | 'error';

export interface ImportItem {
  idx: number;
  path: string;
  subject: string | null;
  status: ItemStatus;
  /** Set as soon as the original is committed, before its analysis: a resumed run finishes it. */
  sha256: string | null;
  message: string | null;
}

export interface ImportRun {
  id: number;
  params: unknown;
  state: 'running' | 'done' | 'cancelled';
  total: number;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<ItemStatus, number>;
}

interface RunRow {
  id: number;
  params: string;
  state: ImportRun['state'];
  total: number;
  started_at: string;
  finished_at: string | null;
}

export function createRun(catalog: Catalog, params: unknown, items: { path: string; subject: string | null }[]): number {
  const db = catalog.db;
  return db.transaction(() => {
    const info = db
      .prepare("INSERT INTO import_runs (params, state, total, started_at) VALUES (?, 'running', ?, ?)")
      .run(JSON.stringify(params), items.length, new Date().toISOString());
    const runId = Number(info.lastInsertRowid);
    const insert = db.prepare("INSERT INTO import_items (run_id, idx, path, subject, status) VALUES (?, ?, ?, ?, 'pending')");
    items.forEach((it, idx) => insert.run(runId, idx, it.path, it.subject));
    return runId;
  })();
}

function toRun(catalog: Catalog, r: RunRow): ImportRun {
  const counts: Record<ItemStatus, number> = { pending: 0, added: 0, duplicate: 0, error: 0 };
  for (const c of catalog.db.prepare('SELECT status, count(*) AS n FROM import_items WHERE run_id = ? GROUP BY status').all(r.id) as { status: ItemStatus; n: number }[]) {
    counts[c.status] = c.n;
  }
  return { id: r.id, params: JSON.parse(r.params) as unknown, state: r.state, total: r.total, startedAt: r.started_at, finishedAt: r.finished_at, counts };
}

export function getRun(catalog: Catalog, id: number): ImportRun | undefined {
  const row = catalog.db.prepare('SELECT * FROM import_runs WHERE id = ?').get(id) as RunRow | undefined;
  return row && toRun(catalog, row);
}

/** The newest runs first. A 'running' run no process is working on was stopped by a crash. */
export function listRuns(catalog: Catalog, limit = 50): ImportRun[] {
  const rows = catalog.db.prepare('SELECT * FROM import_runs ORDER BY id DESC LIMIT ?').all(limit) as RunRow[];
  return rows.map((r) => toRun(catalog, r));
}

export function pendingItems(catalog: Catalog, runId: number): ImportItem[] {
  return catalog.db
    .prepare("SELECT idx, path, subject, status, sha256, message FROM import_items WHERE run_id = ? AND status = 'pending' ORDER BY idx")
    .all(runId) as ImportItem[];
}

/** Items already finished in a run, for a resumed run's report. */
export function finishedItems(catalog: Catalog, runId: number): ImportItem[] {
  return catalog.db
    .prepare("SELECT idx, path, subject, status, sha256, message FROM import_items WHERE run_id = ? AND status != 'pending' ORDER BY idx")
    .all(runId) as ImportItem[];
}

/** Records that the item's original is committed (call inside the transaction that commits it). */
export function markStored(catalog: Catalog, runId: number, idx: number, sha256: string): void {
  catalog.db.prepare('UPDATE import_items SET sha256 = ? WHERE run_id = ? AND idx = ?').run(sha256, runId, idx);
}

export function finishItem(catalog: Catalog, runId: number, idx: number, status: Exclude<ItemStatus, 'pending'>, sha256: string | null, message: string | null): void {
  catalog.db
    .prepare('UPDATE import_items SET status = ?, sha256 = coalesce(?, sha256), message = ? WHERE run_id = ? AND idx = ?')
    .run(status, sha256, message, runId, idx);
}

export function setRunState(catalog: Catalog, runId: number, state: 'running' | 'done' | 'cancelled'): void {
  catalog.db
    .prepare('UPDATE import_runs SET state = ?, finished_at = ? WHERE id = ?')
    .run(state, state === 'running' ? null : new Date().toISOString(), runId);
}
