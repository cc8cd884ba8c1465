/**
 * The calibration set the examiner chose for this catalog. The choice is an audit entry
 * ('calibration.select'): the newest one wins, so it lives in the catalog, needs no schema change,
 * and who chose what and when stays on the hash-chained record.
 */
import type { Catalog } from '../catalog/catalog';
import type { StoredCalibration } from './verification';

export interface CalibrationChoice {
  /** The chosen set's name; null: none chosen (the newest catalog set, else the built-in one). */
  name: string | null;
  by: string | null;
  at: string | null;
}

export const SELECT_ACTION = 'calibration.select';

export function selectedCalibration(catalog: Catalog): CalibrationChoice {
  const row = catalog.db.prepare('SELECT at, actor, details FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1').get(SELECT_ACTION) as
    | { at: string; actor: string; details: string }
    | undefined;
  if (!row) return { name: null, by: null, at: null };
  const details = JSON.parse(row.details) as { name?: unknown };
  return { name: typeof details.name === 'string' ? details.name : null, by: row.actor, at: row.at };
}

/** Records the choice (null returns to the default); an unknown name is refused. */
export function selectCalibration(catalog: Catalog, name: string | null, known: StoredCalibration[], actor: string): CalibrationChoice {
  if (name !== null && !known.some((c) => c.name === name)) {
    throw new Error(`there is no calibration set named "${name}"; stored sets: ${[...new Set(known.map((c) => c.name))].join(', ') || 'none'}`);
  }
  const entry = catalog.audit.append(actor, SELECT_ACTION, { name });
  return { name, by: actor, at: entry.at };
}

/** Which set a verification uses, and why: asked for in the request, chosen for the catalog, or the default. */
export function resolveCalibration(requested: string | undefined, choice: CalibrationChoice): { name: string | undefined; how: 'requested' | 'selected' | 'default' } {
  if (requested !== undefined) return { name: requested, how: 'requested' };
  if (choice.name !== null) return { name: choice.name, how: 'selected' };
  return { name: undefined, how: 'default' };
}
