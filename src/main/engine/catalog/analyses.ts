/**
 * Cached analysis results (heatmaps, part rankings, ...). A result is found again only for exactly
 * what produced it: the key hashes the kind, the inputs, the parameters and the model hashes.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './audit';
import type { Catalog } from './catalog';

export interface AnalysisSpec {
  kind: string;
  inputs: unknown;
  params: unknown;
  /** Model id -> SHA-256 of the file that ran. */
  models: Record<string, string>;
}

export function analysisKey(spec: AnalysisSpec): string {
  return createHash('sha256').update(canonicalJson([spec.kind, spec.inputs, spec.params, spec.models])).digest('hex');
}

export interface CachedAnalysis {
  id: number;
  result: unknown;
  payload: Buffer | null;
  createdAt: string;
}

export function getAnalysis(catalog: Catalog, spec: AnalysisSpec): CachedAnalysis | undefined {
  const row = catalog.db.prepare('SELECT id, result, payload, created_at FROM analyses WHERE kind = ? AND key = ?').get(spec.kind, analysisKey(spec)) as
    | { id: number; result: string; payload: Buffer | null; created_at: string }
    | undefined;
  return row && { id: row.id, result: JSON.parse(row.result) as unknown, payload: row.payload, createdAt: row.created_at };
}

/** Stores a result (a recomputation of the same spec replaces it: same inputs, same models). */
export function putAnalysis(catalog: Catalog, spec: AnalysisSpec, result: unknown, payload?: Uint8Array): number {
  const info = catalog.db
    .prepare(
      `INSERT INTO analyses (kind, key, inputs, params, models, result, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, key) DO UPDATE SET result = excluded.result, payload = excluded.payload, created_at = excluded.created_at
       RETURNING id`,
    )
    .get(spec.kind, analysisKey(spec), canonicalJson(spec.inputs), canonicalJson(spec.params), canonicalJson(spec.models), JSON.stringify(result), payload ?? null, new Date().toISOString()) as { id: number };
  return info.id;
}
