/**
 * The one API contract between every door (Electron IPC, loopback HTTP/WebSocket, CLI) and the
 * engine. Requests are validated with these schemas where they enter main; responses are
 * validated on the way out so the engine cannot drift from what the renderer expects.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Building blocks

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

/** Paths cross the boundary only as absolute paths: the engine's working directory is not the user's. */
export const AbsolutePath = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((p) => !p.includes('\0'), 'must not contain NUL bytes')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), {
    message: 'must be an absolute path',
  });

export const JobId = z.string().regex(/^job-[0-9a-z-]{1,64}$/, 'is not a job id');

export const ErrorCode = z.enum([
  'invalid_request',
  'unknown_method',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'cancelled',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const Issue = z.object({ path: z.string(), message: z.string() });
export type Issue = z.infer<typeof Issue>;

export const ApiErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  issues: z.array(Issue).optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

// ---------------------------------------------------------------------------------------------
// Jobs

export const JobKind = z.enum(['store.ingest', 'store.verify']);
export type JobKind = z.infer<typeof JobKind>;

export const IngestParams = z
  .object({
    paths: z.array(AbsolutePath).min(1, 'name at least one file or folder').max(10_000),
    recursive: z.boolean().default(true),
    /** Subject (identity) of every imported portrait. */
    subject: z.string().trim().min(1).max(200).optional(),
    /** Subject from each file's folder name, as in LFW's Person_Name/Person_Name_0001.jpg. */
    subjectFromFolder: z.boolean().default(false),
    /** Detect, landmark, align and embed every face of each new portrait. */
    analyze: z.boolean().default(false),
    recognizers: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/)).min(1).max(8).default(['faceres']),
  })
  .strict()
  .refine((p) => !(p.subject && p.subjectFromFolder), { message: 'give either a subject or subjectFromFolder, not both' });

export const VerifyParams = z.object({}).strict();

export const JobRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('store.ingest'), params: IngestParams }).strict(),
  z.object({ kind: z.literal('store.verify'), params: VerifyParams }).strict(),
]);
export type JobRequest = z.input<typeof JobRequest>;
export type ParsedJobRequest = z.output<typeof JobRequest>;

export const FileError = z.object({ path: z.string(), message: z.string() });
export type FileError = z.infer<typeof FileError>;

export const IngestResult = z.object({
  files: z.number().int().nonnegative(),
  added: z.number().int().nonnegative(),
  /** Portraits analysed, and faces found in them (0 when analysis was not asked for). */
  analyzed: z.number().int().nonnegative().default(0),
  faces: z.number().int().nonnegative().default(0),
  duplicates: z.array(z.object({ path: z.string(), sha256: Sha256 })),
  errors: z.array(FileError),
  /** Files not reached because the job was cancelled. */
  skipped: z.number().int().nonnegative(),
});
export type IngestResult = z.infer<typeof IngestResult>;

export const VerifyResult = z.object({
  checked: z.number().int().nonnegative(),
  intact: z.number().int().nonnegative(),
  missing: z.array(Sha256),
  corrupted: z.array(z.object({ sha256: Sha256, actual: Sha256 })),
  skipped: z.number().int().nonnegative(),
});
export type VerifyResult = z.infer<typeof VerifyResult>;

export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobProgress = z.object({
  done: z.number().int().nonnegative(),
  /** null while the amount of work is still unknown (e.g. a folder is being listed). */
  total: z.number().int().nonnegative().nullable(),
  message: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

const jobCommon = {
  id: JobId,
  /**
   * Grows with every change. Replies and events can arrive in either order; a snapshot with a
   * lower revision than one already seen is stale and must be ignored.
   */
  revision: z.number().int().nonnegative(),
  state: JobState,
  progress: JobProgress,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: ApiErrorBody.nullable(),
};

/** A cancelled job keeps its partial result: work committed before cancel is never lost. */
export const JobSnapshot = z.discriminatedUnion('kind', [
  z.object({ ...jobCommon, kind: z.literal('store.ingest'), result: IngestResult.nullable() }),
  z.object({ ...jobCommon, kind: z.literal('store.verify'), result: VerifyResult.nullable() }),
]);
export type JobSnapshot = z.infer<typeof JobSnapshot>;

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

// ---------------------------------------------------------------------------------------------
// Catalog

export const Original = z.object({
  sha256: Sha256,
  bytes: z.number().int().nonnegative(),
  format: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  originalName: z.string(),
  importedAt: z.string(),
});
export type Original = z.infer<typeof Original>;

export const AppInfo = z.object({
  name: z.literal('Facet'),
  version: z.string(),
  catalogDir: z.string(),
  schemaVersion: z.number().int(),
  runtime: z.object({ node: z.string(), platform: z.string(), arch: z.string(), cpus: z.number().int() }),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const ProviderName = z.enum(['cuda', 'webgpu', 'cpu']);

export const DoctorReport = z.object({
  modelsDir: z.string(),
  models: z.array(
    z.object({
      id: z.string(),
      task: z.string(),
      file: z.string(),
      bytes: z.number().int(),
      sha256: z.string(),
      present: z.boolean(),
      /** null: not checked in this run. */
      verified: z.boolean().nullable(),
      source: z.string(),
    }),
  ),
  runtime: z
    .object({
      provider: ProviderName,
      attempts: z.array(z.object({ provider: ProviderName, ok: z.boolean(), reason: z.string() })),
      threads: z.number().int().nullable(),
      maxBatch: z.number().int(),
    })
    .nullable(),
  /** Why the runtime could not start, when it could not. */
  problems: z.array(z.string()),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const AuditEntry = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  details: z.unknown(),
  prevHash: Sha256.or(z.literal('0'.repeat(64))),
  hash: Sha256,
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditReport = z.object({
  entries: z.number().int(),
  head: z.string(),
  ok: z.boolean(),
  problems: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('edited'), seq: z.number().int() }),
      z.object({ kind: z.literal('broken-link'), seq: z.number().int(), expectedPrev: z.string() }),
      z.object({ kind: z.literal('gap'), afterSeq: z.number().int(), nextSeq: z.number().int() }),
      z.object({ kind: z.literal('truncated'), recordedSeq: z.number().int(), lastSeq: z.number().int() }),
    ]),
  ),
});
export type AuditReport = z.infer<typeof AuditReport>;

const Empty = z.object({}).strict();

// ---------------------------------------------------------------------------------------------
// Methods: name -> request and response schema. Adding a method here is the only way to add one.

export const methods = {
  'app.info': { request: Empty, response: AppInfo },
  'app.doctor': { request: z.object({ verify: z.boolean().default(false) }).strict(), response: DoctorReport },
  'models.register': {
    request: z.object({ file: AbsolutePath, entry: z.unknown() }).strict(),
    response: z.object({ id: z.string(), sha256: Sha256, file: z.string() }),
  },
  'catalog.stats': {
    request: Empty,
    response: z.object({ originals: z.number().int(), bytes: z.number().int() }),
  },
  'catalog.originals': {
    request: z
      .object({
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().min(1).max(500).default(100),
        query: z.string().max(200).default(''),
      })
      .strict(),
    response: z.object({ total: z.number().int(), items: z.array(Original) }),
  },
  'audit.list': {
    request: z.object({ limit: z.number().int().min(1).max(1000).default(100), beforeSeq: z.number().int().positive().optional() }).strict(),
    response: z.array(AuditEntry),
  },
  'audit.verify': { request: Empty, response: AuditReport },
  'jobs.start': { request: JobRequest, response: JobSnapshot },
  'jobs.cancel': { request: z.object({ id: JobId }).strict(), response: JobSnapshot },
  'jobs.get': { request: z.object({ id: JobId }).strict(), response: JobSnapshot },
  'jobs.list': { request: Empty, response: z.array(JobSnapshot) },
} as const;

export type Methods = typeof methods;
export type Method = keyof Methods;
export const METHOD_NAMES = Object.keys(methods) as Method[];

/** What a caller sends (defaults may be left out). */
export type Req<M extends Method> = z.input<Methods[M]['request']>;
/** What a handler receives, after validation filled defaults. */
export type ParsedReq<M extends Method> = z.output<Methods[M]['request']>;
export type Res<M extends Method> = z.output<Methods[M]['response']>;

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

// ---------------------------------------------------------------------------------------------
// Envelopes and events

export type Envelope<T> = { ok: true; data: T } | { ok: false; error: ApiErrorBody };

export const FacetEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), job: JobSnapshot }),
]);
export type FacetEvent = z.infer<typeof FacetEvent>;

/** Turns zod issues into the contract's flat issue list ("paths.0: must be an absolute path"). */
export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

export function describeIssues(issues: Issue[]): string {
  return issues.map((i) => (i.path === '(root)' ? i.message : `${i.path}: ${i.message}`)).join('; ');
}
