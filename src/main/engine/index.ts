/**
 * The engine: everything Facet computes, in plain Node (no Electron import). Doors (IPC, loopback
 * HTTP, CLI) reach it only through `handlers`, which implement the shared contract.
 */
import os from 'node:os';
import path from 'node:path';
import type { FacetEvent, Method, ParsedReq, Res } from '../../shared/contract';
import { Catalog } from './catalog/catalog';
import { listRuns } from './catalog/imports';
import { browseCatalog, faceLandmarks } from './catalog/browse';
import { receiveUpload } from './catalog/uploads';
import { characterizationMaps } from './analysis/characterize-maps';
import { facesOf } from './catalog/faces';
import { addAnnotation, faceRow, listAnnotations, listDecisions, recordDecision, ReviewError, setPrimaryFace } from './catalog/review';
import { auditMatches } from './catalog/audit';
import { pairReview, recordAssessment, verificationQueue, visibleTo, withheldFrom } from './catalog/examination';
import { sourceFace } from './analysis/face-source';
import { diffPairHandler } from './analysis/diff-handler';
import { defaultExactLimit, EmbeddingIndex, WEIGHTED_POOL, type IndexedFace } from './analysis/lookalikes';
import { distanceToCentre, featureMap, featureMaps, metricCentre, storedMetric } from './analysis/characterize';
import { calibrationSetFor, fusionSha, listCatalogCalibrations, loadBuiltinCalibrations, scorePair, type StoredCalibration } from './analysis/verification';
import { JobManager, type WorkerEntry } from './jobs/manager';
import { resolveCalibration, selectCalibration, selectedCalibration } from './analysis/calibration-choice';
import { findPairLists } from './analysis/pair-lists';
import { exportReport, type ReportDeps } from './reports';
import { InferenceService } from './models/inference';
import type { ProviderPreference } from './models/providers';
import { registerRecognizer, RegistrationError } from './models/byo';
import { defaultModelsDir, ModelRegistry } from './models/registry';
import { EngineError } from './errors';
import { DEFAULT_RECOGNIZERS, type DoctorReport } from '../../shared/contract';
import { FACET_VERSION } from './version';
import { agreementHandler, annotateHandler, explainHandler, type SaliencyContext } from './saliency/handler';
import { SaliencyRuntime } from './saliency/runtime';

export interface EngineOptions {
  catalogDir: string;
  workerEntry?: WorkerEntry;
  jobConcurrency?: number;
  /** resources/models (ONNX files + manifest.json). */
  modelsDir?: string;
  inferenceWorkerEntry?: WorkerEntry;
  /** Execution provider: 'auto' tries CUDA, then WebGPU, then CPU. */
  provider?: ProviderPreference;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** Look-alike searches over more faces than this use the HNSW index (default: by dimension, see lookalikes.ts). */
  lookalikeExactLimit?: number;
}

export type Handlers = { [M in Method]: (request: ParsedReq<M>) => Promise<Res<M>> | Res<M> };

export interface Engine {
  readonly catalog: Catalog;
  readonly jobs: JobManager;
  readonly handlers: Handlers;
  /** Model inference, started on first use. */
  inference(): InferenceService;
  doctor(verify: boolean): Promise<DoctorReport>;
  subscribe(listener: (event: FacetEvent) => void): () => void;
  /** File and format of a catalogued original, for the doors that display it. */
  resolveMedia(sha256: string): { file: string; format: string } | undefined;
  /** An original's stored thumbnail. */
  resolveThumbnail(sha256: string): { data: Uint8Array; format: string } | undefined;
  /** Stores a file a browser uploaded (it has no path to give), for an import by the returned path. */
  receiveUpload(request: { batch?: string; name: string; declaredBytes?: number }, body: AsyncIterable<Buffer>): Promise<{ path: string; bytes: number; batch: string }>;
  close(): Promise<void>;
}

export function createEngine(options: EngineOptions): Engine {
  const catalog = Catalog.open(options.catalogDir);
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const jobs = new JobManager({
    catalogDir: catalog.dir,
    workerEntry: options.workerEntry,
    concurrency: options.jobConcurrency,
    modelsDir,
    inferenceWorkerEntry: options.inferenceWorkerEntry,
  });
  const userModelsDir = path.join(catalog.dir, 'models');
  let inference: InferenceService | undefined;
  const getInference = (): InferenceService =>
    (inference ??= new InferenceService({
      modelsDir,
      userModelsDir,
      workerEntry: options.inferenceWorkerEntry,
      preference: options.provider,
      threads: options.threads,
    }));

  const actor = os.userInfo().username;
  // Look-alike indexes, rebuilt when the model's stored embeddings change.
  const indexes = new Map<string, { version: string; index: EmbeddingIndex }>();
  const lookalikeIndex = (model: string, sha: string): EmbeddingIndex => {
    const v = catalog.db.prepare('SELECT count(*) AS n, max(rowid) AS last FROM embeddings WHERE model_id = ? AND model_sha256 = ?').get(model, sha) as { n: number; last: number | null };
    const version = `${v.n}:${v.last}`;
    const key = `${model}:${sha}`;
    const cached = indexes.get(key);
    if (cached?.version === version) return cached.index;
    void cached?.index.dispose();
    const index = EmbeddingIndex.load(catalog, model, sha);
    indexes.set(key, { version, index });
    return index;
  };
  /** Review rules broken by a request are the caller's error, reported with their own code. */
  const review = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ReviewError) throw new EngineError(e.code, e.message);
      throw e;
    }
  };
  const allCalibrations = (): StoredCalibration[] => [...loadBuiltinCalibrations(modelsDir), ...listCatalogCalibrations(catalog)];

  async function verifyPair(r: ParsedReq<'verify.pair'>): Promise<Res<'verify.pair'>> {
    const inference = getInference();
    for (const id of r.recognizers) {
      const entry = inference.registry.get(id);
      if (entry.task !== 'recognizer') throw new EngineError('invalid_request', `${id} is a ${entry.task}, not a recognizer`);
    }
    const side = async (ref: ParsedReq<'verify.pair'>['a'], label: string) => {
      const input = ref.path !== undefined ? { path: ref.path } : { sha256: ref.sha256 as string };
      let sourced;
      try {
        sourced = await sourceFace(input, { catalog, inference }, r.recognizers, ref.face ?? 'primary');
      } catch (e) {
        throw new EngineError('invalid_request', `${label}: ${(e as Error).message}`);
      }
      if (!sourced.face) throw new EngineError('invalid_request', `${label}: no face found in the image`);
      return { sourced, face: sourced.face };
    };
    const a = await side(r.a, 'first image');
    const b = await side(r.b, 'second image');
    const calibrations = allCalibrations();
    // The examiner's chosen set applies unless the request names one (calibrations.select).
    const choice = resolveCalibration(r.calibration, selectedCalibration(catalog));
    if (choice.name !== undefined && !calibrations.some((c) => c.name === choice.name)) {
      throw new EngineError('not_found', `no calibration set named "${choice.name}" (see calibrations.list)`);
    }
    const { systems, calibrationSet } = scorePair(a.face.embeddings, b.face.embeddings, calibrations, choice.name);
    const describe = (s: typeof a) => ({
      sha256: s.sourced.sha256,
      source: s.sourced.source,
      facesFound: s.sourced.facesFound,
      face: s.face.idx,
      box: s.face.box,
      quality: { ...s.face.quality },
      norms: Object.fromEntries(Object.entries(s.face.embeddings).map(([m, e]) => [m, e.norm])),
    });
    return { a: describe(a), b: describe(b), systems, calibrationSet, calibrationChoice: { how: choice.how, name: choice.name ?? null } };
  }

  async function doctor(verify: boolean): Promise<DoctorReport> {
    const problems: string[] = [];
    let models: DoctorReport['models'] = [];
    let runtime: DoctorReport['runtime'] = null;
    try {
      const registry = new ModelRegistry(modelsDir, userModelsDir);
      models = registry.status(verify).map((s) => ({
        id: s.entry.id,
        task: s.entry.task,
        file: s.path,
        bytes: s.entry.bytes,
        sha256: s.entry.sha256,
        present: s.present,
        verified: s.verified,
        source: `${s.entry.source.package}@${s.entry.source.version}`,
      }));
      for (const m of models) {
        if (!m.present) problems.push(`${m.id}: file missing (${m.file})`);
        else if (m.verified === false) problems.push(`${m.id}: file does not match its manifest hash`);
      }
      const info = await getInference().info();
      runtime = { provider: info.choice.provider, attempts: info.choice.attempts, threads: info.threads, maxBatch: info.maxBatch };
    } catch (e) {
      problems.push((e as Error).message);
    }
    return { modelsDir, models, runtime, problems };
  }

  // Saliency runs its backward graphs in this process, on the provider the inference worker chose.
  let saliency: Promise<SaliencyRuntime> | undefined;
  const saliencyContext = (): SaliencyContext => ({
    catalog,
    inference: getInference(),
    runtime: () => (saliency ??= getInference().info().then((info) => new SaliencyRuntime(getInference().registry, info.choice.provider))),
    modelsDir,
    actor,
  });

  const handlers: Handlers = {
    'app.info': () => ({
      name: 'Facet' as const,
      version: FACET_VERSION,
      catalogDir: catalog.dir,
      schemaVersion: catalog.schemaVersion,
      runtime: { node: process.versions.node, platform: process.platform, arch: process.arch, cpus: os.cpus().length },
    }),
    'app.doctor': (r) => doctor(r.verify),
    'models.register': async (r) => {
      try {
        const entry = await registerRecognizer(modelsDir, userModelsDir, r.file, r.entry);
        // A new model: the next inference starts a fresh worker that sees it.
        await inference?.close();
        inference = undefined;
        void saliency?.then((rt) => rt.close());
        saliency = undefined;
        return { id: entry.id, sha256: entry.sha256, file: path.join(userModelsDir, entry.file) };
      } catch (e) {
        if (e instanceof RegistrationError) throw new EngineError('invalid_request', e.message);
        throw e;
      }
    },
    'verify.pair': (r) => verifyPair(r),
    'diff.pair': (r) => diffPairHandler(r, { catalog, inference: getInference(), modelsDir }),
    'saliency.explain': (r) => explainHandler(r, saliencyContext()),
    'saliency.annotate': (r) => review(() => annotateHandler(r, saliencyContext())),
    'saliency.agreement': (r) => agreementHandler(r, saliencyContext()),
    'lookalikes.query': async (r) => {
      const inference = getInference();
      const entry = inference.registry.get(r.recognizer);
      if (entry.task !== 'recognizer') throw new EngineError('invalid_request', `${entry.id} is a ${entry.task}, not a recognizer`);
      let query;
      try {
        query = await sourceFace(r.face.path !== undefined ? { path: r.face.path } : { sha256: r.face.sha256 as string }, { catalog, inference }, [entry.id], r.face.face ?? 'primary');
      } catch (e) {
        throw new EngineError('invalid_request', `query image: ${(e as Error).message}`);
      }
      if (!query.face) throw new EngineError('invalid_request', 'query image: no face found');
      const t0 = performance.now();
      const index = lookalikeIndex(entry.id, entry.sha256);
      const subject = (catalog.db.prepare('SELECT s.name FROM portraits p JOIN subjects s ON s.id = p.subject_id WHERE p.sha256 = ?').get(query.sha256) as { name: string } | undefined)?.name ?? null;
      // Other people only: never the query's own portrait, nor its subject's other portraits.
      const skip = (f: { portrait: string; subject: string | null }): boolean => f.portrait === query.sha256 || (subject !== null && f.subject === subject);
      // Exact below the limit, else the HNSW index once built (persisted in the catalog's cache folder).
      const policy = { exactLimit: options.lookalikeExactLimit ?? defaultExactLimit(index.dim), persistDir: path.join(catalog.dir, 'cache', 'lookalikes') };
      const found = await index.lookalikes(query.face.embeddings[entry.id]!.vector, r.weighted ? Math.max(r.limit, WEIGHTED_POOL) : r.limit, skip, policy);
      const respond = (hits: { face: IndexedFace; score: number; metricDistance: number | null }[]) => ({
        recognizer: entry.id,
        weighted: r.weighted,
        modelSha256: entry.sha256,
        query: { sha256: query.sha256, face: query.face!.idx, subject },
        searched: index.size,
        search: found.search,
        millis: performance.now() - t0,
        results: hits.map((h, i) => ({ rank: i + 1, faceId: h.face.faceId, sha256: h.face.portrait, face: h.face.idx, subject: h.face.subject, score: h.score, metricDistance: h.metricDistance })),
      });
      if (r.weighted) {
        if (!subject) throw new EngineError('invalid_request', 'a weighted search needs a catalogued portrait of a named subject');
        const metric = storedMetric(catalog, subject, entry.sha256);
        if (!metric) throw new EngineError('invalid_request', `"${subject}" has no characterization with this ${entry.id} file; run \`facet characterize ${subject}\` first`);
        // The metric re-ranks the nearest faces by plain cosine (exact, or the index's re-ranked
        // candidates) by their distance to the person's centre under it.
        let centre = metric.centre;
        if (!centre) {
          // Stored before centres were: recomputed from the portraits it was learned on.
          try {
            centre = metricCentre(metric.model, (await featureMaps(catalog, inference, entry, metric.portraits)).maps);
          } catch (e) {
            throw new EngineError('invalid_request', `"${subject}"'s characterization cannot be used (${(e as Error).message}); run \`facet characterize ${subject}\` again`);
          }
        }
        const scored = [];
        for (const h of found.hits) {
          const { map } = await featureMap(catalog, inference, entry, h.face.portrait, h.face.idx);
          scored.push({ ...h, metricDistance: distanceToCentre(metric.model, centre, map) });
        }
        scored.sort((x, y) => x.metricDistance - y.metricDistance);
        return respond(scored.slice(0, r.limit));
      }
      return respond(found.hits.map((h) => ({ ...h, metricDistance: null })));
    },
    'calibrations.selected': () => selectedCalibration(catalog),
    'calibrations.select': (r) => {
      try {
        return selectCalibration(catalog, r.name, allCalibrations(), actor);
      } catch (e) {
        throw new EngineError('not_found', (e as Error).message);
      }
    },
    'eval.lists': () => findPairLists(modelsDir),
    'reports.export': async (r) => {
      const deps: ReportDeps = {
        catalog,
        verify: (q) => verifyPair({ ...q, recognizers: DEFAULT_RECOGNIZERS }),
        diff: (q) => diffPairHandler({ ...q, mode: 'pair', dense: false }, { catalog, inference: getInference(), modelsDir }),
        model: (id) => {
          try {
            const e = getInference().registry.get(id);
            return { id: e.id, sha256: e.sha256, source: `${e.source.package}@${e.source.version}` };
          } catch {
            return undefined;
          }
        },
      };
      try {
        return await exportReport(deps, r, actor);
      } catch (e) {
        if (e instanceof EngineError) throw e;
        throw new EngineError('invalid_request', `the report could not be made: ${(e as Error).message}`);
      }
    },
    'calibrations.list': () => {
      const registry = getInference().registry;
      const installed = (id: string, members?: string[]): string | undefined => {
        try {
          return members ? fusionSha(Object.fromEntries(members.map((m) => [m, registry.get(m).sha256]))) : registry.get(id).sha256;
        } catch {
          return undefined;
        }
      };
      const all = allCalibrations();
      const chosen = selectedCalibration(catalog).name ?? undefined;
      const used = new Set(
        all.flatMap((c) => {
          const sha = installed(c.modelId, c.members);
          return sha ? calibrationSetFor(all, c.modelId, sha, chosen) : [];
        }),
      );
      return all.map((cal) => {
        const { params: _p, bounds: _b, members, ...c } = cal;
        return { ...c, applicable: installed(c.modelId, members) === c.modelSha256, inUse: used.has(cal) };
      });
    },
    'subjects.list': () =>
      catalog.db
        .prepare(
          `SELECT s.id, s.name, count(p.sha256) AS portraits, coalesce(sum(p.state = 'analyzed'), 0) AS analyzed
           FROM subjects s LEFT JOIN portraits p ON p.subject_id = s.id GROUP BY s.id ORDER BY s.name`,
        )
        .all() as { id: number; name: string; portraits: number; analyzed: number }[],
    'subjects.maps': (r) => characterizationMaps(catalog, getInference(), r),
    'faces.list': (r) => {
      if (!catalog.getOriginal(r.sha256)) throw new EngineError('not_found', `no original ${r.sha256.slice(0, 12)}… in this catalog`);
      const row = catalog.db.prepare('SELECT primary_idx FROM portraits WHERE sha256 = ?').get(r.sha256) as { primary_idx: number | null } | undefined;
      const faces = facesOf(catalog, r.sha256);
      return {
        primary: faces.length ? (row?.primary_idx ?? 0) : null,
        faces: faces.map((f) => ({
          id: f.id,
          idx: f.idx,
          box: f.box,
          quality: { ...f.quality },
          models: f.embeddings.map((e) => ({ id: e.model, sha256: e.modelSha256, norm: e.norm })),
          ...(r.landmarks ? faceLandmarks(catalog, f.id) : {}),
        })),
      };
    },
    'faces.setPrimary': (r) => review(() => {
      setPrimaryFace(catalog, r.sha256, r.face, actor);
      return { primary: r.face };
    }),
    'annotations.add': (r) => review(() => addAnnotation(catalog, r, r.examiner ?? actor)),
    'annotations.list': (r) => listAnnotations(catalog, r.target),
    'decisions.record': (r) =>
      review(() => {
        // The evidence is recomputed from the stored embeddings, never taken from the client.
        const embeddingsOf = (id: number) => {
          const { portrait, idx } = faceRow(catalog, id);
          const face = facesOf(catalog, portrait).find((f) => f.idx === idx)!;
          return { portrait, idx, embeddings: Object.fromEntries(face.embeddings.map((e) => [e.model, { vector: e.vector, sha256: e.modelSha256 }])) };
        };
        const a = embeddingsOf(r.faceA);
        const b = embeddingsOf(r.faceB);
        const common = (x: typeof a, y: typeof b) => Object.fromEntries(Object.entries(x.embeddings).filter(([m, e]) => y.embeddings[m]?.sha256 === e.sha256));
        const { systems, calibrationSet } = scorePair(common(a, b), common(b, a), allCalibrations(), selectedCalibration(catalog).name ?? undefined);
        const evidence = {
          faces: [{ id: r.faceA, portrait: a.portrait, idx: a.idx }, { id: r.faceB, portrait: b.portrait, idx: b.idx }],
          calibrationSet,
          systems: systems.map((s) => ({ system: s.system, modelSha256: s.modelSha256, score: s.score, threshold: s.threshold, decision: s.decision, evidence: s.evidence.map((e) => ({ method: e.method, log10Lr: e.log10Lr, calibration: e.calibration.name, pairListSha256: e.calibration.provenance.pairListSha256 })) })),
        };
        const { examiner, ...decision } = r;
        return recordDecision(catalog, decision, evidence, examiner, actor);
      }),
    'decisions.list': (r) => visibleTo(listDecisions(catalog, r.face), r.examiner),
    'assessments.record': (r) => review(() => recordAssessment(catalog, r, actor)),
    'review.pair': (r) => review(() => pairReview(catalog, r.faceA, r.faceB, r.examiner)),
    'review.queue': (r) => verificationQueue(catalog, r.examiner),
    'catalog.stats': () => catalog.stats(),
    'audit.list': (r) => {
      const entries = catalog.audit.list(r.limit, r.beforeSeq);
      if (r.examiner === undefined) return entries;
      // Blind verification: the chain stays visible (sequence, time, actor, hashes), the withheld conclusions do not.
      const withheld = withheldFrom(catalog, r.examiner);
      if (!withheld.size) return entries;
      const keys = { shas: new Set<string>(), faceIds: new Set<number>(), subjects: new Set<string>(), decisionIds: withheld };
      return entries.map((e) => (auditMatches(e.action, e.details, keys) ? { ...e, details: null, withheld: true as const } : e));
    },
    'audit.verify': () => catalog.audit.verify(),
    'imports.runs': (r) => listRuns(catalog, r.limit).map(({ params: _params, ...run }) => run),
    'catalog.originals': (r) => browseCatalog(catalog, r),
    'jobs.start': (r) => jobs.start(r),
    'jobs.cancel': (r) => jobs.cancel(r.id),
    'jobs.get': (r) => jobs.get(r.id),
    'jobs.list': () => jobs.list(),
  };

  return {
    catalog,
    jobs,
    handlers,
    inference: getInference,
    doctor,
    subscribe: (listener) => jobs.onUpdate((job) => listener({ type: 'job', job })),
    resolveThumbnail(sha256) {
      const t = catalog.getThumbnail(sha256);
      return t && { data: t.data, format: t.format };
    },
    receiveUpload: (request, body) => receiveUpload(catalog.dir, request, body),
    resolveMedia(sha256) {
      const original = catalog.getOriginal(sha256);
      return original && { file: catalog.store.pathFor(sha256), format: original.format };
    },
    async close() {
      await Promise.all([...indexes.values()].map((c) => c.index.dispose()));
      await jobs.close();
      await inference?.close();
      await saliency?.then((rt) => rt.close()).catch(() => undefined);
      catalog.close();
    },
  };
}
