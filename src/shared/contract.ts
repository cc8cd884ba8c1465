/**
 * The one API contract between every door (Electron IPC, loopback HTTP/WebSocket, CLI) and the
 * engine. Requests are validated with these schemas where they enter main; responses are
 * validated on the way out so the engine cannot drift from what the renderer expects.
 */
import { z } from 'zod';
import { Assessment, AssessmentRequest, Checklist, Disagreement, Examiner, QueueRequest, VerificationQueue } from './examination';

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

/** Saliency methods (papers 001, 002); see src/main/engine/saliency. */
export const SALIENCY_METHODS = ['gradient', 'gradient-input', 'guided', 'deconvnet', 'gradcam', 'guided-gradcam', 'ebp', 'cebp', 'tcebp', 'saliency-difference', 'random'] as const;
/** FISWG components an analyst can mark as characteristic (paper 002's task). */
export const SALIENT_LABELS = ['forehead', 'eyebrows', 'eyes', 'cheeks', 'nose', 'ears', 'mouth', 'chin', 'outline', 'hair'] as const;

export const JobKind = z.enum(['store.ingest', 'store.verify', 'eval.pairs', 'subject.characterize', 'subject.hybrid', 'saliency.hiding-game']);
export type JobKind = z.infer<typeof JobKind>;

export const IngestParams = z
  .object({
    paths: z.array(AbsolutePath).max(10_000).default([]),
    /** A CSV mapping with a header row: a path column and optionally a subject column. */
    csv: AbsolutePath.optional(),
    /** Continue an import run that a crash or a cancel stopped (its own parameters apply). */
    resume: z.number().int().positive().optional(),
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
  .refine((p) => !(p.subject && p.subjectFromFolder), { message: 'give either a subject or subjectFromFolder, not both' })
  .refine((p) => p.paths.length > 0 || p.csv !== undefined || p.resume !== undefined, {
    message: 'name at least one file or folder, a CSV mapping, or a run to resume',
    path: ['paths'],
  })
  .refine((p) => p.resume === undefined || (p.paths.length === 0 && p.csv === undefined), {
    message: 'a resumed import takes its files from the stopped run; name no new ones',
    path: ['resume'],
  });

export const VerifyParams = z.object({}).strict();

const ModelId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'is not a model id');
/** The recognizers the verification default fuses (LFW View-1 picked their fusion; see README). */
export const DEFAULT_RECOGNIZERS = ['faceres', 'mobileface', 'faceapi-resnet'];

export const EvalParams = z
  .object({
    /** Pair list: LFW format (pairs.txt, pairsDevTrain.txt) or `fileA fileB same|different` lines. */
    list: AbsolutePath,
    /** Where LFW names resolve (default: `images` beside the list). */
    images: AbsolutePath.optional(),
    recognizers: z.array(ModelId).min(1).max(8).default(DEFAULT_RECOGNIZERS),
    /** Which face of a multi-face image: auto = nearest the centre for LFW lists, else the primary. */
    face: z.enum(['auto', 'primary', 'centre']).default('auto'),
    /** Folds when the list's header defines none. */
    folds: z.number().int().min(2).max(100).default(10),
    /** Folder for evaluation.json and the ROC/DET/Tippett plots (SVG and PNG). */
    outDir: AbsolutePath.optional(),
    /** Fit calibrations on the whole list and store them in the catalog under this name. */
    saveCalibration: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

/** Paper 001's hiding game over the catalog's people (those with a probe and gallery portraits). */
export const HidingGameParams = z
  .object({
    recognizer: ModelId.default('mobileface'),
    methods: z.array(z.enum(SALIENCY_METHODS)).min(1).max(SALIENCY_METHODS.length).optional(),
    /** Default: every subject with at least 1 + `gallery` analysed portraits, up to `maxSubjects`. */
    subjects: z.array(z.string().trim().min(1).max(200)).max(5000).optional(),
    maxSubjects: z.number().int().min(2).max(5000).default(40),
    /** Portraits per person that form their template (the probe is the next one). */
    gallery: z.number().int().min(1).max(50).default(3),
    levels: z.array(z.number().gt(0).lt(1)).min(1).max(20).default([0.5, 0.7, 0.9, 0.99]),
    replacements: z.array(z.enum(['zero', 'mean', 'mean-soft'])).min(1).max(3).default(['zero', 'mean', 'mean-soft']),
    /** Contrastive game: the gallery is the person and their 5 closest look-alike identities. */
    contrastive: z.boolean().default(false),
    /** Write hiding-game.csv and the curves (SVG and PNG) here. */
    outDir: AbsolutePath.optional(),
  })
  .strict();

export const HidingGameResult = z.object({
  recognizer: z.string(),
  modelSha256: z.string(),
  contrastive: z.boolean(),
  identities: z.number().int(),
  threshold: z.number(),
  epsilon: z.number().nullable(),
  cells: z.array(z.object({ method: z.enum(SALIENCY_METHODS), replacement: z.enum(['zero', 'mean', 'mean-soft']), level: z.number(), rank1: z.number(), verified: z.number(), n: z.number().int() })),
  millis: z.record(z.string(), z.number()),
  files: z.array(z.string()),
});
export type HidingGameResult = z.infer<typeof HidingGameResult>;

export const CharacterizeParams = z
  .object({
    subject: z.string().trim().min(1).max(200),
    recognizer: ModelId.default('faceres'),
    /** Portraits of other subjects (one each) in the arbitrary set. */
    arbitrary: z.number().int().min(3).max(500).default(40),
    maxPortraits: z.number().int().min(3).max(500).default(40),
    seed: z.number().int().nonnegative().default(1),
    epochs: z.number().int().min(1).max(5000).default(300),
    /** runtime: the training steps as an ONNX graph on the best execution provider (2x faster on CPU, GPU where present); typescript: the reference. */
    trainer: z.enum(['typescript', 'runtime']).default('runtime'),
  })
  .strict();

export const CharacterizeResult = z.object({
  subject: z.string(),
  recognizer: z.string(),
  modelSha256: Sha256,
  seed: z.number().int(),
  portraits: z.array(z.object({ sha256: Sha256, representativeness: z.number() })),
  arbitrary: z.array(Sha256),
  mostRepresentative: Sha256,
  leastRepresentative: Sha256,
  parts: z.array(z.object({ part: z.string(), score: z.number(), individual: z.number(), arbitrary: z.number(), rank: z.number().int() })),
  losses: z.array(z.number()),
});
export type CharacterizeResult = z.infer<typeof CharacterizeResult>;

export const HybridParams = z
  .object({
    a: z.string().trim().min(1).max(200),
    b: z.string().trim().min(1).max(200),
    /** How many of each person's most characteristic parts are transplanted. */
    parts: z.number().int().min(1).max(4).default(2),
    recognizer: ModelId.default('faceres'),
    seed: z.number().int().nonnegative().default(1),
    /** Write hybrid-<from>-into-<into>.png here. */
    outDir: AbsolutePath.optional(),
  })
  .strict();

const JpegDataUrl = z.string().regex(/^data:image\/jpeg;base64,[A-Za-z0-9+/]+=*$/);

export const HybridResult = z.object({
  recognizer: z.string(),
  /** Cosine similarity of the two source portraits. */
  baseline: z.number(),
  hybrids: z.array(
    z.object({
      from: z.string(),
      into: z.string(),
      parts: z.array(z.string()),
      /** The donor's and the base's most representative portraits. */
      fromPortrait: Sha256,
      intoPortrait: Sha256,
      similarityToFrom: z.number(),
      similarityToInto: z.number(),
      file: z.string().nullable(),
      /** The hybrid, an aligned crop at the recognizer's input size (224 px for faceres), as a JPEG data URL (the file is PNG). */
      image: JpegDataUrl,
    }),
  ),
  /** The two aligned crops the hybrids were made from. */
  sources: z.array(z.object({ subject: z.string(), sha256: Sha256, image: JpegDataUrl })),
});

export const JobRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('store.ingest'), params: IngestParams }).strict(),
  z.object({ kind: z.literal('store.verify'), params: VerifyParams }).strict(),
  z.object({ kind: z.literal('eval.pairs'), params: EvalParams }).strict(),
  z.object({ kind: z.literal('subject.characterize'), params: CharacterizeParams }).strict(),
  z.object({ kind: z.literal('subject.hybrid'), params: HybridParams }).strict(),
  z.object({ kind: z.literal('saliency.hiding-game'), params: HidingGameParams }).strict(),
]);
export type JobRequest = z.input<typeof JobRequest>;
export type ParsedJobRequest = z.output<typeof JobRequest>;

export const FileError = z.object({ path: z.string(), message: z.string() });
export type FileError = z.infer<typeof FileError>;

export const IngestResult = z.object({
  /** The import run in the catalog: `resume` with this id continues it after a crash or cancel. */
  runId: z.number().int().positive(),
  resumed: z.boolean(),
  /** Files in the run (a resumed run reports the whole run). */
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

const SystemFigures = z.object({
  system: z.string(),
  accuracy: z.object({ mean: z.number(), sd: z.number(), perFold: z.array(z.number()) }),
  auc: z.number(),
  eer: z.number(),
  eerThreshold: z.number(),
  tarAtFar: z.array(z.object({ far: z.number(), tar: z.number().nullable(), threshold: z.number().nullable() })),
  cllr: z.number(),
  cllrPav: z.number(),
  cllrMin: z.number(),
  threshold: z.number(),
});

export const EvalResult = z.object({
  list: z.string(),
  listSha256: Sha256,
  format: z.enum(['lfw', 'plain']),
  folds: z.number().int(),
  foldSource: z.enum(['header', 'assigned']),
  faceChoice: z.string(),
  pairs: z.number().int(),
  targets: z.number().int(),
  nonTargets: z.number().int(),
  images: z.number().int(),
  /** Images whose embeddings came from the catalog (same model files) instead of a new analysis. */
  imagesFromCatalog: z.number().int(),
  /** Pairs scored as least similar because an image was unreadable or showed no face. */
  unscorable: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  models: z.record(z.string(), Sha256),
  systems: z.array(SystemFigures),
  files: z.array(z.string()),
  savedCalibration: z.string().nullable(),
  /** ROC, DET and Tippett plots as Vega-Lite specs (the same figures `--out` writes), for the screen to draw. */
  plots: z.array(z.object({ name: z.string(), title: z.string(), spec: z.unknown() })).default([]),
});
export type EvalResult = z.infer<typeof EvalResult>;

export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobProgress = z.object({
  done: z.number().int().nonnegative(),
  /** null while the amount of work is still unknown (e.g. a folder is being listed). */
  total: z.number().int().nonnegative().nullable(),
  message: z.string(),
  /** A series the job reports as it goes (PCAM training: the hinge loss of every epoch so far). */
  curve: z.object({ label: z.string(), values: z.array(z.number()) }).optional(),
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
  z.object({ ...jobCommon, kind: z.literal('eval.pairs'), result: EvalResult.nullable() }),
  z.object({ ...jobCommon, kind: z.literal('subject.characterize'), result: CharacterizeResult.nullable() }),
  z.object({ ...jobCommon, kind: z.literal('subject.hybrid'), result: HybridResult.nullable() }),
  z.object({ ...jobCommon, kind: z.literal('saliency.hiding-game'), result: HidingGameResult.nullable() }),
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

/** A page of the catalog, filtered and sorted in SQL; quality filters apply to each portrait's primary face. */
export const CatalogSort = z.enum(['imported-desc', 'imported-asc', 'name', 'subject', 'detector-score', 'face-size', 'sharpness']);
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/, 'must be a date, YYYY-MM-DD or an ISO timestamp');
export const CatalogQuery = z
  .object({
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(500).default(100),
    /** Part of the file name. */
    query: z.string().max(200).default(''),
    /** Part of the subject's name (case-insensitive). */
    subject: z.string().trim().max(200).optional(),
    /** Exactly this subject (by id), or this one original. */
    subjectId: z.number().int().positive().optional(),
    sha256: Sha256.optional(),
    /** Faces found: with (at least one face), without (analysed, none found), unanalysed. */
    faces: z.enum(['any', 'with', 'without', 'unanalysed']).default('any'),
    minDetectorScore: z.number().min(0).max(1).optional(),
    /** Detection box width in source pixels. */
    minFaceSize: z.number().nonnegative().max(100_000).optional(),
    minInterOcular: z.number().nonnegative().max(100_000).optional(),
    minSharpness: z.number().nonnegative().optional(),
    /** Imported on or after / before this date (a bare date covers its whole day, UTC). */
    importedFrom: IsoDate.optional(),
    importedTo: IsoDate.optional(),
    sort: CatalogSort.default('imported-desc'),
  })
  .strict()
  .refine((q) => !q.importedFrom || !q.importedTo || q.importedFrom <= q.importedTo, { message: 'importedFrom is after importedTo', path: ['importedFrom'] });

export const CatalogItem = Original.extend({
  subject: z.string().nullable(),
  subjectId: z.number().int().nullable(),
  state: z.enum(['pending', 'analyzed', 'failed']).nullable(),
  faces: z.number().int().nonnegative(),
  /** The primary face's quality signals (null: no face). */
  quality: z.object({ detectorScore: z.number(), boxWidth: z.number(), interOcular: z.number().nullable(), sharpness: z.number().nullable() }).nullable(),
});
export type CatalogItem = z.infer<typeof CatalogItem>;

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
  /** Listed for an examiner: the entry is about a decision the blindness rule withholds, so its details are null. */
  withheld: z.literal(true).optional(),
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

/** A face to verify: an image file or a catalogued original, and which of its faces. */
export const FaceRef = z
  .object({
    path: AbsolutePath.optional(),
    sha256: Sha256.optional(),
    /** Face number (0 = largest); default: the portrait's primary face. */
    face: z.number().int().nonnegative().max(1000).optional(),
  })
  .strict()
  .refine((r) => (r.path === undefined) !== (r.sha256 === undefined), { message: 'give either a path or a sha256' });

/** Where a calibration came from: the pair list it was fitted on (named, and its file's SHA-256). */
export const CalibrationProvenance = z.object({
  source: z.enum(['builtin', 'catalog']),
  pairList: z.string(),
  pairListSha256: z.string(),
  targets: z.number().int(),
  nonTargets: z.number().int(),
  fittedAt: z.string(),
  facetVersion: z.string(),
});

const CalibrationInfo = z.object({
  id: z.number().int().nullable(),
  name: z.string(),
  provenance: CalibrationProvenance,
  bounds: z.tuple([z.number(), z.number()]),
});

export const SystemScore = z.object({
  system: z.string(),
  modelSha256: Sha256,
  score: z.number(),
  threshold: z.number().nullable(),
  decision: z.enum(['same', 'different']).nullable(),
  evidence: z.array(
    z.object({ method: z.enum(['logistic', 'pav']), log10Lr: z.number(), lr: z.number(), verbal: z.string(), calibration: CalibrationInfo }),
  ),
  note: z.string().nullable(),
});
export type SystemScore = z.infer<typeof SystemScore>;

const VerifiedFace = z.object({
  sha256: Sha256,
  source: z.enum(['catalog', 'analysed']),
  facesFound: z.number().int(),
  face: z.number().int(),
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  quality: z.record(z.string(), z.number()),
  norms: z.record(z.string(), z.number()),
});

/** The examiner's calibration choice for the catalog (calibrations.select); name null: none chosen. */
export const CalibrationChoice = z.object({ name: z.string().nullable(), by: z.string().nullable(), at: z.string().nullable() });
export type CalibrationChoice = z.infer<typeof CalibrationChoice>;

export const VerifyPairResult = z.object({
  a: VerifiedFace,
  b: VerifiedFace,
  systems: z.array(SystemScore),
  calibrationSet: z.string().nullable(),
  /** Why this calibration set: named in the request, chosen for the catalog, or the default (newest, else built-in). */
  calibrationChoice: z.object({ how: z.enum(['requested', 'selected', 'default']), name: z.string().nullable() }),
});
export type VerifyPairResult = z.infer<typeof VerifyPairResult>;

const Box = z.object({ x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() }).strict();

export const FaceSummary = z.object({
  id: z.number().int(),
  idx: z.number().int(),
  box: Box,
  quality: z.record(z.string(), z.number()),
  models: z.array(z.object({ id: z.string(), sha256: Sha256, norm: z.number() })),
  /** With `landmarks`: the five alignment points and FaceMesh's 468 points, in photo pixels. */
  five: z.array(z.tuple([z.number(), z.number()])).optional(),
  mesh: z.array(z.tuple([z.number(), z.number()])).optional(),
});

export const AnnotationTarget = z
  .object({ kind: z.enum(['portrait', 'face', 'subject', 'decision']), id: z.string().min(1).max(64) })
  .strict()
  .refine((t) => (t.kind === 'portrait' ? /^[0-9a-f]{64}$/.test(t.id) : /^[1-9][0-9]*$/.test(t.id)), {
    message: 'a portrait is named by its SHA-256, anything else by its number',
    path: ['id'],
  });

export const Annotation = z.object({
  id: z.number().int(),
  target: z.object({ kind: z.enum(['portrait', 'face', 'subject', 'decision']), id: z.string() }),
  author: z.string(),
  body: z.string(),
  region: Box.nullable(),
  createdAt: z.string(),
});

export const Decision = z.object({
  id: z.number().int(),
  faceA: z.number().int(),
  faceB: z.number().int(),
  conclusion: z.enum(['same', 'different', 'inconclusive']),
  scale: z.number().int().nullable(),
  rationale: z.string(),
  /** The scores, LRs and calibrations Facet showed for the pair when the decision was made. */
  evidence: z.unknown(),
  /** The examiner who made it. */
  author: z.string(),
  supersedes: z.number().int().nullable(),
  supersededBy: z.number().int().nullable(),
  createdAt: z.string(),
  /** FISWG component findings (null on decisions recorded without them). */
  checklist: Checklist.nullable(),
  /** verification: another examiner had a current decision on the pair when this one was recorded; examination otherwise. */
  role: z.enum(['examination', 'verification']).nullable(),
  /** The examiner's initial assessment (or recorded skip) it followed. */
  assessment: z.number().int().nullable(),
});

const Similarity = z.object({ a: z.number(), b: z.number(), tx: z.number(), ty: z.number() });

export const PairDiffResponse = z.object({
  recognizer: z.string(),
  modelSha256: Sha256,
  settings: z.object({ patch: z.number().int(), stride: z.number().int(), mode: z.enum(['pair', 'a', 'b']), refined: z.boolean() }),
  /** The map's size: the recognizer's aligned crop. */
  width: z.number().int(),
  height: z.number().int(),
  /** Cosine distance of the pair before any occlusion. */
  distance: z.number(),
  forwardPasses: z.number().int(),
  millis: z.number(),
  cached: z.boolean(),
  maxDelta: z.number(),
  /** The calibrated Theta and its provenance; null when none fits this model file and grid. */
  theta: z
    .object({ theta: z.number(), auc: z.number(), separation: z.number(), negatives: z.number().int(), positives: z.number().int(), pairList: z.string(), pairListSha256: z.string(), measuredAt: z.string() })
    .passthrough()
    .nullable(),
  /** Row-major width x height values in [0, 1]: max(0, min(1, delta / theta)). */
  map: z.array(z.number()),
  /** Facial parts, most different first: total effect (the ranking), effect per pixel, map density and share of its mass. */
  parts: z.array(z.object({ part: z.string(), total: z.number(), effect: z.number(), density: z.number(), share: z.number(), rank: z.number().int() })),
  a: z.object({ sha256: Sha256, face: z.number().int(), facesFound: z.number().int(), cropToPhoto: Similarity }),
  b: z.object({ sha256: Sha256, face: z.number().int(), facesFound: z.number().int(), cropToPhoto: Similarity }),
  files: z.array(z.string()),
});

export const CalibrationSummary = z.object({
  id: z.number().int().nullable(),
  name: z.string(),
  modelId: z.string(),
  modelSha256: Sha256,
  method: z.enum(['logistic', 'pav']),
  threshold: z.number(),
  provenance: CalibrationInfo.shape.provenance,
  figures: z.object({ accuracy: z.number(), auc: z.number(), eer: z.number(), cllr: z.number(), cllrMin: z.number() }),
  /** Whether it fits the model file installed now (a calibration for another file is never used). */
  applicable: z.boolean(),
  /** Whether verifications use it now (the chosen set, else the newest for the file, else the built-in one). */
  inUse: z.boolean().default(false),
});

export const ImportRun = z.object({
  id: z.number().int().positive(),
  state: z.enum(['running', 'done', 'cancelled']),
  total: z.number().int().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  counts: z.object({ pending: z.number().int(), added: z.number().int(), duplicate: z.number().int(), error: z.number().int() }),
});
export type ImportRun = z.infer<typeof ImportRun>;

/** A case report of a pair of catalogued portraits or of a subject, as one HTML file or a PDF. */
export const ReportRequest = z
  .object({
    pair: z.object({ a: Sha256, b: Sha256, faceA: z.number().int().nonnegative().optional(), faceB: z.number().int().nonnegative().optional() }).strict().optional(),
    subject: z.string().trim().min(1).max(200).optional(),
    format: z.enum(['html', 'pdf']).default('html'),
    /** The examiner it is made for: decisions blind verification withholds from them stay out (with their audit entries); none: every decision. */
    examiner: Examiner.optional(),
    /** Also write the report to this file. */
    outFile: AbsolutePath.optional(),
  })
  .strict()
  .refine((r) => (r.pair === undefined) !== (r.subject === undefined), { message: 'name either a pair or a subject' });

export const ReportResponse = z.object({
  format: z.enum(['html', 'pdf']),
  fileName: z.string(),
  mediaType: z.string(),
  sha256: Sha256,
  bytes: z.number().int(),
  /** The HTML text, or the PDF as base64. */
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  file: z.string().nullable(),
});

// ---------------------------------------------------------------------------------------------
// Methods: name -> request and response schema. Adding a method here is the only way to add one.

const SubjectName = z.string().trim().min(1).max(500);
/** What a saliency map explains: similarity to a reference face, to a person's template, or to everyone else's. */
export const SaliencyTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pair'), face: FaceRef }).strict(),
  z.object({ kind: z.literal('class'), subject: SubjectName }).strict(),
  z.object({ kind: z.literal('not-class'), subject: SubjectName }).strict(),
]);
const Labelled = z.object({ kind: z.string(), label: z.string() });
export const SaliencyResponse = z.object({
  model: z.string(),
  modelSha256: Sha256,
  width: z.number().int(),
  height: z.number().int(),
  face: z.object({ sha256: Sha256, face: z.number().int(), facesFound: z.number().int(), cropToPhoto: Similarity }),
  target: Labelled,
  contrast: Labelled.nullable(),
  epsilon: z.number().nullable(),
  results: z.array(
    z.object({
      method: z.enum(SALIENCY_METHODS),
      label: z.string(),
      /** Crop-sized, row-major, scaled to peak 1 for display (the unit-mass map divided by its peak). */
      map: z.array(z.number()),
      passes: z.number().int(),
      millis: z.number(),
      /** Facial parts by map density (share of mass over share of area), densest first. */
      parts: z.array(z.object({ part: z.string(), share: z.number(), density: z.number() })),
    }),
  ),
  files: z.array(z.string()),
});
const AgreementFigures = z.object({
  boxes: z.number().int(),
  massInBoxes: z.number(),
  areaOfBoxes: z.number(),
  lift: z.number(),
  machineRanking: z.array(z.object({ component: z.string(), density: z.number() })),
  labelRanks: z.array(z.object({ label: z.enum(SALIENT_LABELS), rank: z.number().int().nullable() })),
  top3Hits: z.number(),
  spearman: z.number().nullable(),
});

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
    request: CatalogQuery,
    response: z.object({ total: z.number().int(), items: z.array(CatalogItem) }),
  },
  'audit.list': {
    request: z
      .object({
        limit: z.number().int().min(1).max(1000).default(100),
        beforeSeq: z.number().int().positive().optional(),
        /** Read as this examiner: entries about decisions withheld from them (blind verification) come without details. */
        examiner: Examiner.optional(),
      })
      .strict(),
    response: z.array(AuditEntry),
  },
  'audit.verify': { request: Empty, response: AuditReport },
  'imports.runs': {
    request: z.object({ limit: z.number().int().min(1).max(500).default(50) }).strict(),
    response: z.array(ImportRun),
  },
  'verify.pair': {
    request: z
      .object({
        a: FaceRef,
        b: FaceRef,
        recognizers: z.array(ModelId).min(1).max(8).default(DEFAULT_RECOGNIZERS),
        /** Calibration set name; default: the newest catalog set for the model files, else the built-in one. */
        calibration: z.string().trim().min(1).max(100).optional(),
      })
      .strict(),
    response: VerifyPairResult,
  },
  'calibrations.list': { request: Empty, response: z.array(CalibrationSummary) },
  'calibrations.selected': { request: Empty, response: CalibrationChoice },
  /** Chooses the calibration set verifications use from now on (null: back to the default); audited. */
  'calibrations.select': { request: z.object({ name: z.string().trim().min(1).max(100).nullable() }).strict(), response: CalibrationChoice },
  /** Labelled pair lists found beside the app (LFW View-1 under ../shared/data), for the evaluation screen. */
  'eval.lists': { request: Empty, response: z.array(z.object({ path: z.string(), name: z.string(), bytes: z.number().int() })) },
  'reports.export': { request: ReportRequest, response: ReportResponse },
  'lookalikes.query': {
    request: z
      .object({
        face: FaceRef,
        recognizer: ModelId.default('faceres'),
        limit: z.number().int().min(1).max(500).default(20),
        /**
         * Re-rank the nearest candidates by the query person's characterization metric (paper 000),
         * which weighs their distinctive parts; needs `facet characterize` of that person first.
         */
        weighted: z.boolean().default(false),
      })
      .strict(),
    response: z.object({
      recognizer: z.string(),
      weighted: z.boolean(),
      modelSha256: Sha256,
      query: z.object({ sha256: Sha256, face: z.number().int(), subject: z.string().nullable() }),
      /** Faces searched (every catalogued face embedded by this model file). */
      searched: z.number().int(),
      /**
       * How: exact cosine over every face up to `exactLimit` faces; above, an HNSW index (built in the
       * background on first use, answered exactly meanwhile) whose candidates are re-ranked exactly.
       */
      search: z.object({
        method: z.enum(['exact', 'hnsw']),
        exactLimit: z.number().int(),
        index: z.enum(['none', 'building', 'ready', 'failed']),
        /** Faces scored exactly: all of them, or the index's candidates. */
        candidates: z.number().int(),
      }),
      millis: z.number(),
      results: z.array(
        z.object({
          rank: z.number().int(),
          faceId: z.number().int(),
          sha256: Sha256,
          face: z.number().int(),
          subject: z.string().nullable(),
          score: z.number(),
          /** Squared distance under the characterization metric to the centre of the person's characterized portraits (weighted searches only). */
          metricDistance: z.number().nullable(),
        }),
      ),
    }),
  },
  'diff.pair': {
    request: z
      .object({
        a: FaceRef,
        b: FaceRef,
        /** Default: mobileface, the fastest bundled recognizer (an interactive map in under a second). */
        recognizer: ModelId.optional(),
        /** pair: both faces occluded (paper 003); a / b: only that face. */
        mode: z.enum(['pair', 'a', 'b']).default('pair'),
        /** Stride 2 over the whole face, as in the paper (seconds, not milliseconds). */
        dense: z.boolean().default(false),
        patch: z.number().int().min(2).max(128).optional(),
        stride: z.number().int().min(1).max(64).optional(),
        /** Write overlay-a.png, overlay-b.png, heatmap.png and diff.json here. */
        outDir: AbsolutePath.optional(),
      })
      .strict(),
    response: PairDiffResponse,
  },
  'subjects.list': {
    request: Empty,
    response: z.array(z.object({ id: z.number().int(), name: z.string(), portraits: z.number().int(), analyzed: z.number().int() })),
  },
  'subjects.maps': {
    request: z.object({ subject: z.string().trim().min(1).max(200), sha256: Sha256, recognizer: ModelId.default('faceres') }).strict(),
    response: z.object({
      subject: z.string(),
      sha256: Sha256,
      face: z.number().int(),
      recognizer: z.string(),
      modelSha256: Sha256,
      characterizedAt: z.string(),
      /** The portrait's place in the characterization: most/least representative, another of the person's, of the arbitrary set, or none. */
      role: z.enum(['most', 'least', 'portrait', 'arbitrary', 'other']),
      representativeness: z.number().nullable(),
      /** The feature grid the maps are on, and the aligned crop it covers. */
      grid: z.object({ width: z.number().int(), height: z.number().int() }),
      crop: z.object({ width: z.number().int(), height: z.number().int() }),
      cropToPhoto: Similarity,
      /** Row-major grid values: the map's positive part as shares of its mass (they sum to 1). */
      cam: z.array(z.number()),
      pcam: z.array(z.number()),
      /** Hair (segmentation minus face, above the mouth): the covered fraction of each cell of a coarse grid over the crop. */
      hair: z.object({ width: z.number().int(), height: z.number().int(), coverage: z.array(z.number()) }),
    }),
  },
  'faces.list': {
    request: z.object({ sha256: Sha256, landmarks: z.boolean().default(false) }).strict(),
    response: z.object({ primary: z.number().int().nullable(), faces: z.array(FaceSummary) }),
  },
  'faces.setPrimary': { request: z.object({ sha256: Sha256, face: z.number().int().nonnegative() }).strict(), response: z.object({ primary: z.number().int() }) },
  'annotations.add': {
    request: z
      .object({
        target: AnnotationTarget,
        body: z.string().trim().min(1, 'must not be empty').max(20_000),
        region: Box.optional(),
        /** The examiner who writes it (its author); default: the account Facet runs under. */
        examiner: Examiner.optional(),
      })
      .strict(),
    response: Annotation,
  },
  'annotations.list': { request: z.object({ target: AnnotationTarget }).strict(), response: z.array(Annotation) },
  'decisions.record': {
    request: z
      .object({
        faceA: z.number().int().positive(),
        faceB: z.number().int().positive(),
        conclusion: z.enum(['same', 'different', 'inconclusive']),
        /** Paper 003's five-point scale (Fig. 7): 1 sure same, 2 think same, 3 not sure, 4 think different, 5 sure different. */
        scale: z.number().int().min(1).max(5).optional(),
        rationale: z.string().trim().min(1, 'say why').max(20_000),
        supersedes: z.number().int().positive().optional(),
        /** Who decides; needs their assessment of the pair (assessments.record) first. */
        examiner: Examiner,
        checklist: Checklist.optional(),
      })
      .strict(),
    response: Decision,
  },
  /** Blind verification: decisions on pairs the examiner has not decided are withheld unless they are the examiner's own. */
  'decisions.list': { request: z.object({ face: z.number().int().positive().optional(), examiner: Examiner }).strict(), response: z.array(Decision) },
  /** The examiner's initial assessment of a pair before the score is shown, or the recorded choice to skip it. */
  'assessments.record': { request: AssessmentRequest, response: Assessment },
  /** One pair as an examiner may see it: their assessment, the decisions not withheld from them, disagreements. */
  'review.pair': {
    request: z.object({ faceA: z.number().int().positive(), faceB: z.number().int().positive(), examiner: Examiner }).strict(),
    response: z.object({
      examiner: z.string(),
      blind: z.boolean(),
      withheld: z.number().int(),
      assessment: Assessment.nullable(),
      decisions: z.array(Decision),
      disagreements: z.array(Disagreement),
    }),
  },
  /** Pairs awaiting this examiner's blind verification, and their pairs where examiners disagree. */
  'review.queue': { request: QueueRequest, response: VerificationQueue },
  'jobs.start': { request: JobRequest, response: JobSnapshot },
  'jobs.cancel': { request: z.object({ id: JobId }).strict(), response: JobSnapshot },
  'jobs.get': { request: z.object({ id: JobId }).strict(), response: JobSnapshot },
  'saliency.explain': {
    request: z
      .object({
        face: FaceRef,
        methods: z.array(z.enum(SALIENCY_METHODS)).min(1).max(SALIENCY_METHODS.length),
        /** Default: mobileface. */
        model: ModelId.optional(),
        /** Default: the class of the portrait's own subject (its other portraits). */
        target: SaliencyTarget.optional(),
        /** Contrastive methods; default: not-class (everyone else in the catalog). */
        contrast: SaliencyTarget.optional(),
        /** Write <method>-overlay.png and <method>-map.png here. */
        outDir: AbsolutePath.optional(),
      })
      .strict(),
    response: SaliencyResponse,
  },
  'saliency.annotate': {
    request: z.object({ sha256: Sha256, face: z.number().int().nonnegative().max(1000).default(0), label: z.enum(SALIENT_LABELS), box: Box }).strict(),
    response: Annotation,
  },
  'saliency.agreement': {
    request: z
      .object({
        sha256: Sha256.optional(),
        face: z.number().int().nonnegative().max(1000).optional(),
        subject: SubjectName.optional(),
        method: z.enum(SALIENCY_METHODS),
        model: ModelId.optional(),
      })
      .strict()
      .refine((r) => (r.sha256 === undefined) !== (r.subject === undefined), { message: 'give either a portrait (sha256) or a subject' }),
    response: z.object({
      method: z.string(),
      model: z.string(),
      modelSha256: Sha256,
      pooled: AgreementFigures,
      portraits: z.array(AgreementFigures.extend({ sha256: Sha256, face: z.number().int() })),
    }),
  },
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
