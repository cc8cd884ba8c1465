import type { z } from 'zod';
import type { JobKind, JobRequest, JobSnapshot } from '../../../shared/contract';
import type { Catalog } from '../catalog/catalog';
import type { InferenceService } from '../models/inference';
import type { WorkerEntry } from './manager';

export type ParamsOf<K extends JobKind> = Extract<z.output<typeof JobRequest>, { kind: K }>['params'];
export type ResultOf<K extends JobKind> = NonNullable<Extract<z.output<typeof JobSnapshot>, { kind: K }>['result']>;

export interface JobContext {
  /** Aborted when the user cancels; jobs check it between units of work and return partial results. */
  readonly signal: AbortSignal;
  readonly catalog: Catalog;
  /** Who the work is done for, as recorded in the audit log. */
  readonly actor: string;
  /** Model inference for this job (started on first use, stopped with the job). */
  inference(): InferenceService;
  progress(done: number, total: number | null, message: string, curve?: { label: string; values: number[] }): void;
}

export interface JobDefinition<K extends JobKind, R> {
  kind: K;
  run(params: ParamsOf<K>, ctx: JobContext): Promise<R>;
}

/** Messages a job worker posts to its manager. */
export type WorkerMessage =
  | { type: 'progress'; done: number; total: number | null; message: string; curve?: { label: string; values: number[] } }
  | { type: 'result'; result: unknown; cancelled: boolean }
  | { type: 'error'; message: string };

/** Messages the manager posts to a job worker. */
export type ManagerMessage = { type: 'cancel' };

export interface WorkerInput {
  kind: JobKind;
  params: unknown;
  catalogDir: string;
  modelsDir?: string;
  inferenceWorkerEntry?: WorkerEntry;
}
