import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  JobRequest,
  JobSnapshot,
  TERMINAL_STATES,
  toIssues,
  type JobRequest as JobRequestInput,
  type JobState,
  type ParsedJobRequest,
} from '../../../shared/contract';
import { EngineError } from '../errors';
import { workerEntryBeside, type WorkerEntry } from '../workers';
import type { ManagerMessage, WorkerInput, WorkerMessage } from './types';

export type { WorkerEntry };

export function defaultWorkerEntry(): WorkerEntry {
  return workerEntryBeside(import.meta.url, 'worker');
}

export interface JobManagerOptions {
  catalogDir: string;
  modelsDir?: string;
  inferenceWorkerEntry?: WorkerEntry;
  workerEntry?: WorkerEntry;
  /** Jobs that may run at once; the rest wait in order. */
  concurrency?: number;
  /** How long a cancelled worker may take to return its partial result before it is stopped. */
  cancelGraceMs?: number;
}

interface Job {
  snapshot: JobSnapshot;
  request: ParsedJobRequest;
  worker?: Worker;
  killTimer?: NodeJS.Timeout;
  settled: boolean;
}

type Listener = (job: JobSnapshot) => void;

const now = (): string => new Date().toISOString();

export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: string[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Map<string, ((s: JobSnapshot) => void)[]>();
  private running = 0;
  private closed = false;
  private readonly entry: WorkerEntry;
  private readonly concurrency: number;
  private readonly cancelGraceMs: number;

  constructor(private readonly options: JobManagerOptions) {
    this.entry = options.workerEntry ?? defaultWorkerEntry();
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.cancelGraceMs = options.cancelGraceMs ?? 10_000;
  }

  onUpdate(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates (defaults filled) and queues a job. */
  start(raw: JobRequestInput): JobSnapshot {
    if (this.closed) throw new EngineError('conflict', 'The engine is shutting down; no new jobs are accepted.');
    const checked = JobRequest.safeParse(raw);
    if (!checked.success) throw new EngineError('invalid_request', 'Invalid job request', toIssues(checked.error));
    const request: ParsedJobRequest = checked.data;
    const id = `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const snapshot = JobSnapshot.parse({
      id,
      kind: request.kind,
      revision: 0,
      state: 'queued',
      progress: { done: 0, total: null, message: 'Waiting to start' },
      createdAt: now(),
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    });
    this.jobs.set(id, { snapshot, request, settled: false });
    this.queue.push(id);
    this.emit(id);
    this.pump();
    return this.get(id);
  }

  get(id: string): JobSnapshot {
    const job = this.jobs.get(id);
    if (!job) throw new EngineError('not_found', `No job with id ${id}.`);
    return structuredClone(job.snapshot);
  }

  list(): JobSnapshot[] {
    return [...this.jobs.values()].map((j) => structuredClone(j.snapshot)).reverse();
  }

  cancel(id: string): JobSnapshot {
    const job = this.jobs.get(id);
    if (!job) throw new EngineError('not_found', `No job with id ${id}.`);
    if (job.settled) return this.get(id);
    if (job.snapshot.state === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.finish(job, 'cancelled', null, null);
      return this.get(id);
    }
    if (job.worker && !job.killTimer) {
      job.snapshot.progress.message = 'Cancelling…';
      job.worker.postMessage({ type: 'cancel' } satisfies ManagerMessage);
      job.killTimer = setTimeout(() => {
        void job.worker?.terminate();
        this.finish(job, 'cancelled', null, null);
      }, this.cancelGraceMs);
      this.emit(id);
    }
    return this.get(id);
  }

  /** Resolves when the job reaches a final state. */
  waitFor(id: string): Promise<JobSnapshot> {
    const snapshot = this.get(id);
    if (TERMINAL_STATES.includes(snapshot.state)) return Promise.resolve(snapshot);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Cancels everything and waits for the workers to stop. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.jobs.values()].filter((j) => !j.settled).map((j) => j.snapshot.id);
    for (const id of pending) this.cancel(id);
    await Promise.all(pending.map((id) => this.waitFor(id)));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      const job = this.jobs.get(id);
      if (job) this.launch(job);
    }
  }

  private launch(job: Job): void {
    this.running += 1;
    job.snapshot.state = 'running';
    job.snapshot.startedAt = now();
    job.snapshot.progress = { done: 0, total: null, message: 'Starting' };
    const input: WorkerInput = {
      kind: job.request.kind,
      params: job.request.params,
      catalogDir: this.options.catalogDir,
      modelsDir: this.options.modelsDir,
      inferenceWorkerEntry: this.options.inferenceWorkerEntry,
    };
    const worker = new Worker(this.entry.file, { workerData: input, execArgv: this.entry.execArgv ?? [] });
    job.worker = worker;
    worker.on('message', (m: WorkerMessage) => this.onMessage(job, m));
    worker.on('error', (e) => this.finish(job, 'failed', null, `The job stopped with an error: ${e.message}`));
    worker.on('exit', (code) => {
      this.finish(job, 'failed', null, `The job's worker stopped unexpectedly (exit code ${code}).`);
    });
    this.emit(job.snapshot.id);
  }

  private onMessage(job: Job, m: WorkerMessage): void {
    if (job.settled) return;
    switch (m.type) {
      case 'progress':
        job.snapshot.progress = {
          done: m.done,
          total: m.total,
          message: job.killTimer ? 'Cancelling…' : m.message,
          // A curve, once reported, stays with the job's later messages.
          ...(m.curve ? { curve: m.curve } : job.snapshot.progress.curve ? { curve: job.snapshot.progress.curve } : {}),
        };
        this.emit(job.snapshot.id);
        break;
      case 'result':
        this.finish(job, m.cancelled ? 'cancelled' : 'succeeded', m.result, null);
        break;
      case 'error':
        // A job may stop a cancel by throwing (nothing partial to return): that is still a cancel.
        if (job.killTimer) this.finish(job, 'cancelled', null, null, `Cancelled: ${m.message}`);
        else this.finish(job, 'failed', null, m.message);
        break;
    }
  }

  private finish(job: Job, state: JobState, result: unknown, error: string | null, cancelMessage = 'Cancelled'): void {
    if (job.settled) return;
    job.settled = true;
    if (job.killTimer) clearTimeout(job.killTimer);
    const wasRunning = job.worker !== undefined;
    job.worker = undefined;
    const candidate = {
      ...job.snapshot,
      state,
      finishedAt: now(),
      result: result ?? null,
      error: error ? { code: 'internal' as const, message: error } : null,
    };
    const parsed = JobSnapshot.safeParse(candidate);
    job.snapshot = parsed.success
      ? parsed.data
      : JobSnapshot.parse({
          ...candidate,
          state: 'failed',
          result: null,
          error: { code: 'internal', message: `The job returned a malformed result (${parsed.error.message}).` },
        });
    if (state === 'succeeded' && job.snapshot.progress.total !== null) {
      job.snapshot.progress.done = job.snapshot.progress.total;
    }
    if (state === 'cancelled') job.snapshot.progress.message = cancelMessage;
    if (wasRunning) this.running -= 1;
    this.emit(job.snapshot.id);
    const waiters = this.waiters.get(job.snapshot.id) ?? [];
    this.waiters.delete(job.snapshot.id);
    for (const w of waiters) w(this.get(job.snapshot.id));
    this.pump();
  }

  private emit(id: string): void {
    const job = this.jobs.get(id);
    if (job) job.snapshot.revision += 1;
    const snapshot = this.get(id);
    for (const l of this.listeners) l(snapshot);
  }
}
