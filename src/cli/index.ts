/**
 * `facet`: the command line door. It calls the engine in-process through the same router and
 * typed client as the window, so its input is validated the same way and its errors read the same.
 */
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, FacetApiError, type FacetApi } from '../shared/client';
import { SALIENCY_METHODS, TERMINAL_STATES, type JobRequest, type JobSnapshot, type Req } from '../shared/contract';

type SaliencyTargetReq = NonNullable<Req<'saliency.explain'>['target']>;
import { createEngine, type Engine } from '../main/engine';
import { resolveCatalogDir } from '../main/engine/config';
import { FACET_VERSION } from '../main/engine/version';
import { assertBuilt, builtLayout } from '../main/layout';
import { serve } from '../main/serve';
import { createRouter } from '../main/transport/router';
import type { ProviderPreference } from '../main/engine/models/providers';

const layout = builtLayout(import.meta.url);

interface GlobalOptions {
  catalog?: string;
  json?: boolean;
  provider?: ProviderPreference;
  threads?: number;
}

function withEngine<T>(cmd: Command, body: (api: FacetApi, engine: Engine, json: boolean) => Promise<T>): Promise<T> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const engine = createEngine({
    catalogDir: resolveCatalogDir(opts.catalog),
    workerEntry: layout.workerEntry,
    inferenceWorkerEntry: layout.inferenceWorkerEntry,
    modelsDir: layout.modelsDir,
    provider: opts.provider,
    threads: opts.threads,
  });
  const router = createRouter(engine.handlers);
  const api = createClient({
    send: (method, payload) => router.handle(method, payload),
    onEvent: (listener) => engine.subscribe(listener),
    mediaUrl: (sha) => engine.catalog.store.pathFor(sha),
    thumbUrl: (sha) => engine.catalog.store.pathFor(sha),
  });
  return body(api, engine, Boolean(opts.json)).finally(() => engine.close());
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a job with a progress bar on stderr; Ctrl-C cancels it and keeps what was done. */
async function runJob(api: FacetApi, request: JobRequest, json: boolean): Promise<JobSnapshot> {
  const interactive = process.stderr.isTTY && !json;
  const bar = interactive
    ? new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} | {message}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastLine = 0;
  const job = await api.call('jobs.start', request);
  const isFinal = (j: JobSnapshot): boolean => TERMINAL_STATES.includes(j.state);
  const finished = new Promise<JobSnapshot>((resolve) => {
    const stop = api.subscribe((event) => {
      const update = event.job;
      if (update.id !== job.id) return;
      const { done, total, message } = update.progress;
      if (bar) {
        if (!started && total !== null) {
          bar.start(total, done, { message });
          started = true;
        } else if (started) bar.update(done, { message });
      } else if (!json && Date.now() - lastLine > 1000) {
        lastLine = Date.now();
        process.stderr.write(`${done}/${total ?? '?'} ${message}\n`);
      }
      if (isFinal(update)) {
        stop();
        resolve(update);
      }
    });
    // The job may have ended before the subscription existed.
    void api.call('jobs.get', { id: job.id }).then((now) => {
      if (isFinal(now)) {
        stop();
        resolve(now);
      }
    });
  });
  const onSigint = (): void => {
    process.stderr.write('\nCancelling… (work already done is kept)\n');
    void api.call('jobs.cancel', { id: job.id });
  };
  process.once('SIGINT', onSigint);
  try {
    return await finished;
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
  }
}

function reportJob(job: JobSnapshot, json: boolean): void {
  if (json) return printJson(job);
  if (job.state === 'failed') {
    process.stderr.write(`Failed: ${job.error?.message ?? 'unknown error'}\n`);
    return;
  }
  if (job.state === 'cancelled') process.stderr.write('Cancelled; the partial result follows.\n');
  if (job.kind === 'store.ingest' && job.result) {
    const r = job.result;
    process.stdout.write(
      `import run ${r.runId}${r.resumed ? ' (resumed)' : ''}: ${r.files} image files: ${r.added} added, ${r.duplicates.length} already in the catalog, ` +
        `${r.errors.length} errors${r.skipped ? `, ${r.skipped} not reached` : ''}` +
        `${r.analyzed ? `; ${r.analyzed} analysed, ${r.faces} faces` : ''}\n`,
    );
    for (const e of r.errors) process.stdout.write(`  error  ${e.path}: ${e.message}\n`);
    if (r.skipped) process.stdout.write(`Continue it with: facet import --resume ${r.runId}\n`);
  } else if (job.kind === 'eval.pairs' && job.result) {
    const r = job.result;
    process.stdout.write(
      `${path.basename(r.list)}: ${r.pairs} pairs (${r.targets} same, ${r.nonTargets} different), ${r.folds} folds (${r.foldSource}), ` +
        `${r.images} images (${r.imagesFromCatalog} from the catalog), ${r.unscorable.length} unscorable\n\n` +
        `system                accuracy         AUC     EER     TAR@FAR=1e-2  TAR@FAR=1e-3  Cllr   Cllr(PAV)  Cllr_min\n`,
    );
    const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '   n/a' : `${(x * 100).toFixed(1)}%`);
    for (const s of r.systems) {
      process.stdout.write(
        `${s.system.padEnd(20)} ${pct(s.accuracy.mean).padStart(6)} ± ${(s.accuracy.sd * 100).toFixed(1).padStart(3)}   ${s.auc.toFixed(4)}  ${pct(s.eer).padStart(5)}   ` +
          `${pct(s.tarAtFar[0]?.tar).padStart(10)}    ${pct(s.tarAtFar[1]?.tar).padStart(10)}    ${s.cllr.toFixed(3)}  ${s.cllrPav.toFixed(3)}      ${s.cllrMin.toFixed(3)}\n`,
      );
    }
    for (const u of r.unscorable.slice(0, 20)) process.stdout.write(`  unscorable  line ${u.line}: ${u.reason}\n`);
    if (r.files.length) process.stdout.write(`\nwrote ${r.files.length} files: ${[...new Set(r.files.map((f) => path.dirname(f)))].join(', ')}\n`);
    if (r.savedCalibration) process.stdout.write(`calibration "${r.savedCalibration}" saved in the catalog\n`);
  } else if (job.kind === 'subject.characterize' && job.result) {
    const r = job.result;
    process.stdout.write(
      `${r.subject}: ${r.portraits.length} portraits against ${r.arbitrary.length} of other people; ${r.recognizer} (${r.modelSha256.slice(0, 12)}), seed ${r.seed}; ` +
        `hinge loss ${r.losses[0]?.toFixed(3)} -> ${r.losses.at(-1)?.toFixed(3)}\n` +
        `most representative portrait  ${r.mostRepresentative}\nleast representative portrait ${r.leastRepresentative}\nparts, most characteristic first:\n`,
    );
    for (const p of r.parts) process.stdout.write(`  ${String(p.rank).padStart(2)}. ${p.part.padEnd(10)} ${(p.score * 100).toFixed(1).padStart(6)} pts  (${(p.individual * 100).toFixed(1)} % of the PCAM vs ${(p.arbitrary * 100).toFixed(1)} % for others)\n`);
  } else if (job.kind === 'subject.hybrid' && job.result) {
    const r = job.result;
    process.stdout.write(`${r.recognizer}: the two source portraits have cosine similarity ${r.baseline.toFixed(3)}\n`);
    for (const h of r.hybrids) {
      process.stdout.write(
        `  ${h.from}'s ${h.parts.join(' + ')} into ${h.into}: similarity to ${h.from} ${h.similarityToFrom.toFixed(3)}, to ${h.into} ${h.similarityToInto.toFixed(3)}${h.file ? `  ${h.file}` : ''}\n`,
      );
    }
  } else if (job.kind === 'saliency.hiding-game' && job.result) {
    const r = job.result;
    process.stdout.write(
      `${r.contrastive ? 'contrastive ' : ''}hiding game, ${r.recognizer} (${r.modelSha256.slice(0, 12)}): ${r.identities} people; verification threshold ${r.threshold.toFixed(3)}` +
        `${r.epsilon !== null ? `; truncated cEBP epsilon ${r.epsilon.toExponential(3)}` : ''}\n`,
    );
    const levels = [...new Set(r.cells.map((c) => c.level))].sort((a, b) => a - b);
    for (const replacement of [...new Set(r.cells.map((c) => c.replacement))]) {
      process.stdout.write(`\n${replacement}: % identified at rank 1 (% verified) with this share hidden\n${'method'.padEnd(22)}${levels.map((l) => `${Math.round(l * 100)} %`.padStart(14)).join('')}   ms/map\n`);
      for (const method of [...new Set(r.cells.map((c) => c.method))]) {
        const row = levels.map((l) => {
          const c = r.cells.find((x) => x.method === method && x.replacement === replacement && x.level === l);
          return c ? `${(100 * c.rank1).toFixed(0)} (${(100 * c.verified).toFixed(0)})`.padStart(14) : ''.padStart(14);
        });
        process.stdout.write(`${method.padEnd(22)}${row.join('')}   ${(r.millis[method] ?? 0).toFixed(0).padStart(6)}\n`);
      }
    }
    if (r.files.length) process.stdout.write(`\nwrote ${r.files.join(', ')}\n`);
  } else if (job.kind === 'store.verify' && job.result) {
    const r = job.result;
    process.stdout.write(
      `${r.checked} originals checked: ${r.intact} intact, ${r.missing.length} missing, ${r.corrupted.length} altered\n`,
    );
    for (const s of r.missing) process.stdout.write(`  missing  ${s}\n`);
    for (const c of r.corrupted) process.stdout.write(`  altered  ${c.sha256} (now ${c.actual})\n`);
  }
}

function exitCodeFor(job: JobSnapshot): number {
  if (job.state === 'failed') return 1;
  if (job.state === 'cancelled') return 130;
  if (job.kind === 'store.verify' && job.result && (job.result.missing.length || job.result.corrupted.length)) return 3;
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('facet')
    .description('Facet: offline workstation for forensic face review')
    .version(FACET_VERSION)
    .option('--catalog <path>', 'catalog folder (default: $FACET_CATALOG or the user-data folder)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(
      new Option('--provider <name>', 'execution provider for models (auto tries cuda, webgpu, cpu)')
        .choices(['auto', 'cuda', 'webgpu', 'cpu'])
        .default('auto'),
    )
    .option('--threads <n>', 'onnxruntime threads per inference', (v) => Number.parseInt(v, 10))
    .showHelpAfterError()
    .exitOverride();

  program
    .command('info')
    .description('show the catalog, its schema version and the runtime')
    .action(async (_o, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const [info, stats] = await Promise.all([api.call('app.info', {}), api.call('catalog.stats', {})]);
        if (json) return printJson({ ...info, stats });
        process.stdout.write(
          `Facet ${info.version}\ncatalog   ${info.catalogDir} (schema ${info.schemaVersion})\n` +
            `originals ${stats.originals} (${(stats.bytes / 2 ** 20).toFixed(1)} MiB)\n` +
            `runtime   node ${info.runtime.node}, ${info.runtime.platform}/${info.runtime.arch}, ${info.runtime.cpus} cpus\n`,
        );
      });
    });

  program
    .command('doctor')
    .description('models, their hashes, and the execution provider in use (with why faster ones were not)')
    .option('--no-verify', 'skip re-hashing the model files')
    .action(async (o: { verify: boolean }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const report = await api.call('app.doctor', { verify: o.verify });
        const [info, selected] = await Promise.all([api.call('app.info', {}), api.call('calibrations.selected', {})]);
        if (json) printJson({ ...report, catalogDir: info.catalogDir, calibration: selected });
        else {
          const rt = report.runtime;
          process.stdout.write(`catalog: ${info.catalogDir}\ncalibration in use: ${selected.name ?? 'the default (newest catalog set per model file, else the built-in one)'}\n`);
          process.stdout.write(`execution provider: ${rt ? rt.provider : 'unavailable'}\n`);
          for (const a of rt?.attempts ?? []) process.stdout.write(`  ${a.ok ? 'ok  ' : 'no  '} ${a.provider.padEnd(7)} ${a.reason}\n`);
          process.stdout.write(`models (${report.modelsDir}):\n`);
          for (const m of report.models) {
            const state = !m.present ? 'MISSING' : m.verified === false ? 'HASH MISMATCH' : m.verified ? 'verified' : 'present';
            process.stdout.write(`  ${m.id.padEnd(20)} ${m.task.padEnd(12)} ${(m.bytes / 2 ** 20).toFixed(1).padStart(5)} MiB  ${m.sha256.slice(0, 16)}  ${state}  (${m.source})\n`);
          }
          for (const p of report.problems) process.stdout.write(`problem: ${p}\n`);
        }
        if (report.problems.length) process.exitCode = 1;
      });
    });

  const models = program.command('models').description('the recognizers and other models Facet runs');
  models
    .command('add')
    .description("register a lab's own ONNX recognizer; ENTRY is a JSON file describing it (see README)")
    .argument('<file>', 'the .onnx file')
    .argument('<entry>', 'JSON manifest entry: id, description, input, outputs, embeddingDim, alignment')
    .action(async (file: string, entryFile: string, _o, cmd: Command) => {
      let entry: unknown;
      try {
        entry = JSON.parse(readFileSync(entryFile, 'utf8'));
      } catch (e) {
        throw new Error(`Cannot read the entry ${entryFile}: ${(e as Error).message}`);
      }
      await withEngine(cmd, async (api, _engine, json) => {
        const added = await api.call('models.register', { file: path.resolve(file), entry });
        if (json) printJson(added);
        else process.stdout.write(`Registered ${added.id} (${added.sha256.slice(0, 16)}) at ${added.file}\n`);
      });
    });

  program
    .command('import')
    .alias('ingest')
    .description('store image files, folders or a CSV mapping in the catalog (content-addressed, never modified)')
    .argument('[paths...]', 'image files or folders')
    .option('--csv <file>', 'a CSV mapping with a header row: path (relative to the CSV) and subject columns')
    .option('--resume [run]', 'continue an import stopped by a crash or a cancel (default: the latest unfinished)')
    .option('--no-recursive', 'do not descend into sub-folders')
    .option('--subject <name>', 'the person every imported portrait shows')
    .option('--subject-from-folder', "each file's folder name is its subject (LFW layout)")
    .option('--analyze', 'detect, landmark, align and embed every face')
    .option('--recognizers <ids>', 'recognizers to embed with, comma-separated', 'faceres')
    .action(
      async (
        paths: string[],
        o: { csv?: string; resume?: string | true; recursive: boolean; subject?: string; subjectFromFolder?: boolean; analyze?: boolean; recognizers: string },
        cmd: Command,
      ) => {
        await withEngine(cmd, async (api, _engine, json) => {
          let params;
          if (o.resume !== undefined) {
            let run: number;
            if (o.resume === true) {
              const open = (await api.call('imports.runs', {})).find((r) => r.state !== 'done');
              if (!open) throw new Error('there is no unfinished import to resume');
              run = open.id;
            } else {
              run = Number(o.resume);
              if (!Number.isInteger(run) || run < 1) throw new Error(`--resume takes a run number, not ${JSON.stringify(o.resume)}`);
            }
            params = { resume: run };
          } else {
            params = {
              paths: paths.map((p) => path.resolve(p)),
              ...(o.csv ? { csv: path.resolve(o.csv) } : {}),
              recursive: o.recursive,
              subjectFromFolder: Boolean(o.subjectFromFolder),
              analyze: Boolean(o.analyze),
              recognizers: o.recognizers.split(',').map((r) => r.trim()).filter(Boolean),
              ...(o.subject ? { subject: o.subject } : {}),
            };
          }
          const job = await runJob(api, { kind: 'store.ingest', params }, json);
          reportJob(job, json);
          process.exitCode = exitCodeFor(job);
        });
      },
    );

  program
    .command('imports')
    .description('import runs, newest first, with how far each got')
    .action(async (_o, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const runs = await api.call('imports.runs', {});
        if (json) return printJson(runs);
        for (const r of runs) {
          const c = r.counts;
          process.stdout.write(
            `run ${String(r.id).padStart(4)}  ${r.state.padEnd(9)} ${r.startedAt}  ${r.total} files: ${c.added} added, ${c.duplicate} duplicates, ${c.error} errors, ${c.pending} pending\n`,
          );
        }
      });
    });

  program
    .command('verify')
    .description('compare the faces in two images: scores per recognizer and their fusion, with calibrated likelihood ratios')
    .argument('<a>', 'first image file, or the SHA-256 of a catalogued original')
    .argument('<b>', 'second image file, or the SHA-256 of a catalogued original')
    .option('--face-a <n>', 'which face of the first image (0 = largest; default: its primary face)', (v) => Number.parseInt(v, 10))
    .option('--face-b <n>', 'which face of the second image', (v) => Number.parseInt(v, 10))
    .option('--recognizers <ids>', 'recognizers, comma-separated (default: all bundled, fused)')
    .option('--calibration <name>', 'calibration set (default: the newest in the catalog, else the built-in LFW one)')
    .action(async (a: string, b: string, o: { faceA?: number; faceB?: number; recognizers?: string; calibration?: string }, cmd: Command) => {
      const ref = (arg: string, face?: number) => ({
        ...(/^[0-9a-f]{64}$/.test(arg) ? { sha256: arg } : { path: path.resolve(arg) }),
        ...(face !== undefined ? { face } : {}),
      });
      await withEngine(cmd, async (api, _engine, json) => {
        const r = await api.call('verify.pair', {
          a: ref(a, o.faceA),
          b: ref(b, o.faceB),
          ...(o.recognizers ? { recognizers: o.recognizers.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
          ...(o.calibration ? { calibration: o.calibration } : {}),
        });
        if (json) return printJson(r);
        for (const [label, arg, f] of [['first ', a, r.a], ['second', b, r.b]] as const) {
          process.stdout.write(
            `${label} ${arg}\n         ${f.sha256.slice(0, 16)}  ${f.source === 'catalog' ? 'from the catalog' : 'analysed now'}; ` +
              `face ${f.face} of ${f.facesFound}; box ${f.box.width.toFixed(0)}x${f.box.height.toFixed(0)} px, detector ${(f.quality.detectorScore ?? 0).toFixed(2)}, ` +
              `yaw ${(f.quality.yaw ?? 0).toFixed(0)}°, sharpness ${(f.quality.sharpness ?? 0).toFixed(0)}\n`,
          );
        }
        process.stdout.write(`\nsystem           score  threshold  decision   LR (logistic / PAV)       model file\n`);
        for (const s of r.systems) {
          const lr = (m: string): string => {
            const e = s.evidence.find((x) => x.method === m);
            return e ? e.lr.toPrecision(3) : '-';
          };
          process.stdout.write(
            `${s.system.padEnd(15)} ${s.score.toFixed(4).padStart(7)}  ${s.threshold === null ? '       -' : s.threshold.toFixed(4).padStart(9)}  ${(s.decision ?? '-').padEnd(9)}  ${`${lr('logistic')} / ${lr('pav')}`.padEnd(24)}  ${s.modelSha256.slice(0, 12)}\n`,
          );
        }
        const best = r.systems.find((s) => s.system === 'fusion' && s.evidence.length) ?? r.systems.find((s) => s.evidence.length);
        const ev = best?.evidence.find((e) => e.method === 'logistic');
        if (best && ev) {
          const p = ev.calibration.provenance;
          process.stdout.write(
            `\n${best.system}: LR ${ev.lr.toPrecision(3)}: ${ev.verbal}.\n` +
              `calibration "${ev.calibration.name}" (${p.source}): fitted on ${p.pairList} (sha256 ${p.pairListSha256.slice(0, 16)}; ` +
              `${p.targets} same-person and ${p.nonTargets} different-people pairs) on ${p.fittedAt.slice(0, 10)}; LR bounded to 10^${ev.calibration.bounds[0].toFixed(1)}..10^${ev.calibration.bounds[1].toFixed(1)}\n`,
          );
        }
        for (const s of r.systems) if (s.note) process.stdout.write(`note: ${s.note}\n`);
      });
    });

  program
    .command('diff')
    .description('where two faces differ for the network: pairwise-occlusion map (paper 003), Theta-normalized, with the facial parts ranked')
    .argument('<a>', 'first image file, or the SHA-256 of a catalogued original')
    .argument('<b>', 'second image file, or the SHA-256 of a catalogued original')
    .option('--out <dir>', 'write overlay-a.png, overlay-b.png, heatmap.png and diff.json here')
    .option('--face-a <n>', 'which face of the first image (0 = largest)', (v) => Number.parseInt(v, 10))
    .option('--face-b <n>', 'which face of the second image', (v) => Number.parseInt(v, 10))
    .option('--recognizer <id>', 'recognizer whose view is explained (default mobileface)')
    .addOption(new Option('--mode <which>', 'occlude both faces (pair) or only one').choices(['pair', 'a', 'b']).default('pair'))
    .option('--dense', 'stride 2 over the whole face, as in the paper (slower)')
    .option('--patch <px>', 'patch side in crop pixels', (v) => Number.parseInt(v, 10))
    .option('--stride <px>', 'patch step in crop pixels', (v) => Number.parseInt(v, 10))
    .action(
      async (
        a: string,
        b: string,
        o: { out?: string; faceA?: number; faceB?: number; recognizer?: string; mode: 'pair' | 'a' | 'b'; dense?: boolean; patch?: number; stride?: number },
        cmd: Command,
      ) => {
        const ref = (arg: string, face?: number) => ({
          ...(/^[0-9a-f]{64}$/.test(arg) ? { sha256: arg } : { path: path.resolve(arg) }),
          ...(face !== undefined ? { face } : {}),
        });
        await withEngine(cmd, async (api, _engine, json) => {
          const r = await api.call('diff.pair', {
            a: ref(a, o.faceA),
            b: ref(b, o.faceB),
            mode: o.mode,
            dense: Boolean(o.dense),
            ...(o.recognizer ? { recognizer: o.recognizer } : {}),
            ...(o.patch !== undefined ? { patch: o.patch } : {}),
            ...(o.stride !== undefined ? { stride: o.stride } : {}),
            ...(o.out ? { outDir: path.resolve(o.out) } : {}),
          });
          if (json) return printJson({ ...r, map: undefined });
          process.stdout.write(
            `${r.recognizer} (${r.modelSha256.slice(0, 12)}): cosine distance ${r.distance.toFixed(4)}; ${r.settings.patch} px patches, stride ${r.settings.stride}` +
              `${r.settings.refined ? ', coarse-to-fine' : ''}, ${r.settings.mode} occlusion; ${r.forwardPasses} forward passes, ${r.millis.toFixed(0)} ms${r.cached ? ' (from the catalog)' : ''}\n` +
              (r.theta
                ? `Theta ${r.theta.theta.toPrecision(3)} (${r.theta.pairList}, ${r.theta.negatives}+${r.theta.positives} pairs, AUC ${r.theta.auc.toFixed(3)}); max delta ${r.maxDelta.toPrecision(3)} = ${(r.maxDelta / r.theta.theta).toFixed(2)} Theta\n`
                : `no calibrated Theta for this grid: the map is scaled to its own maximum (${r.maxDelta.toPrecision(3)})\n`) +
              `parts, most different first:\n`,
          );
          for (const p of r.parts) {
            process.stdout.write(`  ${String(p.rank).padStart(2)}. ${p.part.padEnd(10)} total effect ${p.total.toExponential(2)}  per pixel ${p.effect.toExponential(2)}  share of the map ${(p.share * 100).toFixed(0).padStart(3)} %\n`);
          }
          if (r.files.length) process.stdout.write(`wrote ${r.files.map((f) => path.basename(f)).join(', ')} in ${path.dirname(r.files[0]!)}\n`);
        });
      },
    );

  program
    .command('characterize')
    .description("which facial parts make a person distinctive, and their most and least representative portraits (PCAM, paper 000)")
    .argument('<subject>', 'subject name in the catalog (e.g. Colin_Powell after an LFW import with --subject-from-folder)')
    .option('--recognizer <id>', 'recognizer whose feature maps are analysed', 'faceres')
    .option('--arbitrary <n>', 'portraits of other subjects to contrast with', (v) => Number.parseInt(v, 10), 40)
    .option('--max-portraits <n>', "most of the person's portraits used", (v) => Number.parseInt(v, 10), 40)
    .option('--seed <n>', 'random seed (the arbitrary set and the initial metric)', (v) => Number.parseInt(v, 10), 1)
    .addOption(new Option('--trainer <where>', 'learn the metric in TypeScript or as an ONNX graph on the execution provider').choices(['typescript', 'runtime']).default('runtime'))
    .action(async (subject: string, o: { recognizer: string; arbitrary: number; maxPortraits: number; seed: number; trainer: 'typescript' | 'runtime' }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const params = { subject, recognizer: o.recognizer, arbitrary: o.arbitrary, maxPortraits: o.maxPortraits, seed: o.seed, trainer: o.trainer };
        const job = await runJob(api, { kind: 'subject.characterize', params }, json);
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
    });

  program
    .command('lookalikes')
    .description('the catalog faces of other people most similar to a face (exact cosine search; an HNSW index above a size limit)')
    .argument('<face>', 'image file, or the SHA-256 of a catalogued original')
    .option('--face <n>', 'which face of the image (0 = largest)', (v) => Number.parseInt(v, 10))
    .option('--recognizer <id>', 'recognizer whose embeddings are searched', 'faceres')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .option('--weighted', "re-rank the 100 nearest by likeness to the person's characterization (run `facet characterize` first)")
    .action(async (face: string, o: { face?: number; recognizer: string; limit: number; weighted?: boolean }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const ref = { ...(/^[0-9a-f]{64}$/.test(face) ? { sha256: face } : { path: path.resolve(face) }), ...(o.face !== undefined ? { face: o.face } : {}) };
        const r = await api.call('lookalikes.query', { face: ref, recognizer: o.recognizer, limit: o.limit, weighted: Boolean(o.weighted) });
        if (json) return printJson(r);
        process.stdout.write(
          `${r.recognizer} (${r.modelSha256.slice(0, 12)}): ${r.searched} faces searched in ${r.millis.toFixed(1)} ms (${r.search.method === 'hnsw' ? `HNSW index, ${r.search.candidates} candidates re-ranked exactly` : 'exact'})` +
            `${r.query.subject ? `; ${r.query.subject}'s own portraits left out` : ''}\n`,
        );
        for (const h of r.results) {
          const metric = h.metricDistance === null ? '' : `  metric ${h.metricDistance.toExponential(2)}`;
          process.stdout.write(`  ${String(h.rank).padStart(3)}. ${h.score.toFixed(4)}${metric}  ${(h.subject ?? '(no subject)').padEnd(28)} ${h.sha256.slice(0, 16)} face ${h.face}\n`);
        }
      });
    });

  program
    .command('saliency')
    .description('saliency maps of a face for a recognizer (papers 001, 002): what in the face drives its similarity to a target')
    .argument('<methods>', `one or more of ${SALIENCY_METHODS.join(', ')} (comma-separated)`)
    .argument('<face>', 'image file, or the SHA-256 of a catalogued original')
    .option('--face <n>', 'which face of the image (0 = largest)', (v) => Number.parseInt(v, 10))
    .option('--target <t>', "pair:<image or sha256> | class:<subject> | not-class:<subject> (default: class of the portrait's own subject)")
    .option('--contrast <t>', 'for contrastive methods, same forms (default: not-class of the target subject)')
    .option('--recognizer <id>', 'recognizer explained (default mobileface)')
    .option('--out <dir>', 'write <method>-overlay.png and <method>-map.png here')
    .action(async (methods: string, face: string, o: { face?: number; target?: string; contrast?: string; recognizer?: string; out?: string }, cmd: Command) => {
      const ref = (arg: string) => (/^[0-9a-f]{64}$/.test(arg) ? { sha256: arg } : { path: path.resolve(arg) });
      const target = (t: string): SaliencyTargetReq => {
        const m = /^(pair|class|not-class):(.+)$/.exec(t);
        if (!m) throw new Error(`--target/--contrast: expected pair:<image>, class:<subject> or not-class:<subject>, got "${t}"`);
        return m[1] === 'pair' ? { kind: 'pair', face: ref(m[2]!) } : { kind: m[1] as 'class' | 'not-class', subject: m[2]! };
      };
      await withEngine(cmd, async (api, _engine, json) => {
        const r = await api.call('saliency.explain', {
          face: { ...ref(face), ...(o.face !== undefined ? { face: o.face } : {}) },
          methods: methods.split(',').map((m) => m.trim()) as (typeof SALIENCY_METHODS)[number][],
          ...(o.recognizer ? { model: o.recognizer } : {}),
          ...(o.target ? { target: target(o.target) } : {}),
          ...(o.contrast ? { contrast: target(o.contrast) } : {}),
          ...(o.out ? { outDir: path.resolve(o.out) } : {}),
        });
        if (json) return printJson({ ...r, results: r.results.map((x) => ({ ...x, map: undefined })) });
        process.stdout.write(
          `${r.model} (${r.modelSha256.slice(0, 12)}), ${r.width}x${r.height} crop of ${r.face.sha256.slice(0, 12)} face ${r.face.face}; target ${r.target.kind} "${r.target.label}"` +
            `${r.contrast ? `, contrast ${r.contrast.kind} "${r.contrast.label}"` : ''}\n`,
        );
        for (const x of r.results) {
          const parts = x.parts.slice(0, 4).map((p) => `${p.part} ${(100 * p.share).toFixed(0)} %`).join(', ');
          process.stdout.write(`  ${x.label.padEnd(26)} ${x.millis.toFixed(0).padStart(5)} ms, ${x.passes} backward passes; densest parts: ${parts}\n`);
        }
        if (r.files.length) process.stdout.write(`wrote ${r.files.join(', ')}\n`);
      });
    });

  program
    .command('hiding-game')
    .description("paper 001's hiding game over the catalog's people: hide the least important pixels by each method's map and measure identification")
    .option('--recognizer <id>', 'recognizer (default mobileface)', 'mobileface')
    .option('--methods <list>', 'comma-separated methods (default: all)')
    .option('--subjects <n>', 'at most this many people', (v) => Number.parseInt(v, 10), 40)
    .option('--gallery <n>', 'portraits per person forming the template (the probe is one more)', (v) => Number.parseInt(v, 10), 3)
    .option('--contrastive', 'the contrastive game: each person against their 5 closest look-alike identities')
    .option('--out <dir>', 'write the table (CSV) and the curves (SVG, PNG) here')
    .action(async (o: { recognizer: string; methods?: string; subjects: number; gallery: number; contrastive?: boolean; out?: string }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const job = await runJob(
          api,
          {
            kind: 'saliency.hiding-game',
            params: {
              recognizer: o.recognizer,
              maxSubjects: o.subjects,
              gallery: o.gallery,
              contrastive: Boolean(o.contrastive),
              ...(o.methods ? { methods: o.methods.split(',').map((m) => m.trim()) as (typeof SALIENCY_METHODS)[number][] } : {}),
              ...(o.out ? { outDir: path.resolve(o.out) } : {}),
            },
          },
          json,
        );
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
    });

  program
    .command('hybrid')
    .description("facial hybrids: each person's most characteristic parts fused into the other's representative portrait (paper 000)")
    .argument('<a>', 'first subject')
    .argument('<b>', 'second subject')
    .option('--parts <n>', 'characteristic parts transplanted from each', (v) => Number.parseInt(v, 10), 2)
    .option('--out <dir>', 'write the hybrids as PNG here')
    .action(async (a: string, b: string, o: { parts: number; out?: string }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const job = await runJob(api, { kind: 'subject.hybrid', params: { a, b, parts: o.parts, ...(o.out ? { outDir: path.resolve(o.out) } : {}) } }, json);
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
    });

  const evaluation = program.command('eval').description('evaluate recognizers on labelled data');
  evaluation
    .command('pairs')
    .description('accuracy (per-fold thresholds), ROC AUC, EER, TAR@FAR and Cllr on a pair list; JSON and ROC/DET/Tippett plots')
    .argument('<list>', 'LFW-format pair list (pairs.txt, pairsDevTrain.txt) or lines "fileA fileB same|different"')
    .option('--images <dir>', 'folder of LFW person folders (default: images/ beside the list)')
    .option('--recognizers <ids>', 'recognizers, comma-separated (default: all bundled, and their fusion)')
    .option('--out <dir>', 'write evaluation.json and the plots (SVG + PNG) here')
    .option('--save-calibration <name>', 'fit calibrations on the whole list and keep them in the catalog under this name')
    .addOption(new Option('--face <which>', 'face of multi-face images').choices(['auto', 'primary', 'centre']).default('auto'))
    .option('--folds <n>', 'folds when the list defines none', (v) => Number.parseInt(v, 10), 10)
    .action(async (list: string, o: { images?: string; recognizers?: string; out?: string; saveCalibration?: string; face: 'auto' | 'primary' | 'centre'; folds: number }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const params = {
          list: path.resolve(list),
          ...(o.images ? { images: path.resolve(o.images) } : {}),
          ...(o.recognizers ? { recognizers: o.recognizers.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
          ...(o.out ? { outDir: path.resolve(o.out) } : {}),
          ...(o.saveCalibration ? { saveCalibration: o.saveCalibration } : {}),
          face: o.face,
          folds: o.folds,
        };
        const job = await runJob(api, { kind: 'eval.pairs', params }, json);
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
    });

  program
    .command('calibrations')
    .description('stored score-to-LR calibrations, built-in and the catalog\'s, with their provenance; * marks those in use')
    .option('--use <name>', 'use this calibration set for verifications from now on (kept in the catalog, audited)')
    .option('--use-default', 'go back to the default: the newest catalog set for each model file, else the built-in one')
    .action(async (o: { use?: string; useDefault?: boolean }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        if (o.use !== undefined || o.useDefault) await api.call('calibrations.select', { name: o.useDefault ? null : (o.use as string) });
        const [list, selected] = await Promise.all([api.call('calibrations.list', {}), api.call('calibrations.selected', {})]);
        if (json) return printJson({ selected, calibrations: list });
        process.stdout.write(selected.name ? `in use: "${selected.name}" (chosen by ${selected.by} at ${selected.at})\n` : 'in use: the default (newest catalog set per model file, else the built-in one)\n');
        for (const c of list) {
          process.stdout.write(
            `${c.inUse ? '*' : ' '}${String(c.id ?? '-').padStart(4)}  ${c.name.padEnd(16)} ${c.modelId.padEnd(15)} ${c.method.padEnd(8)} thr ${c.threshold.toFixed(4)}  ` +
              `Cllr ${c.figures.cllr.toFixed(3)}  ${c.provenance.source}: ${path.basename(c.provenance.pairList)} (${c.provenance.targets}+${c.provenance.nonTargets})` +
              `${c.applicable ? '' : '  [other model file: not used]'}\n`,
          );
        }
      });
    });

  const report = program.command('report').description('case reports: images with their hashes, overlays, scores with LRs and provenance, decisions, audit excerpt');
  const writeReport = async (api: FacetApi, json: boolean, request: { pair?: { a: string; b: string }; subject?: string }, o: { format: 'html' | 'pdf'; out?: string; examiner?: string }): Promise<void> => {
    const r = await api.call('reports.export', { ...request, format: o.format, ...(o.examiner !== undefined ? { examiner: o.examiner } : {}), outFile: path.resolve(o.out ?? `${request.pair ? `facet-pair-${request.pair.a.slice(0, 8)}-${request.pair.b.slice(0, 8)}` : `facet-subject-${(request.subject ?? '').replace(/[^A-Za-z0-9._-]+/g, '_')}`}.${o.format}`) });
    if (json) return printJson({ ...r, content: undefined });
    process.stdout.write(`wrote ${r.file} (${r.bytes} bytes, sha256 ${r.sha256})\n`);
  };
  const formatOption = (): Option => new Option('--format <format>', 'html (one self-contained file) or pdf').choices(['html', 'pdf']).default('html');
  report
    .command('pair')
    .description('report on a pair of catalogued portraits (their primary faces)')
    .argument('<a>', 'SHA-256 of the first catalogued original')
    .argument('<b>', 'SHA-256 of the second catalogued original')
    .addOption(formatOption())
    .option('--out <file>', 'where to write it (default: facet-pair-<a>-<b>.<format> here)')
    .option('--examiner <name>', 'made for this examiner: decisions blind verification withholds from them stay out')
    .action(async (a: string, b: string, o: { format: 'html' | 'pdf'; out?: string; examiner?: string }, cmd: Command) => {
      await withEngine(cmd, (api, _engine, json) => writeReport(api, json, { pair: { a, b } }, o));
    });
  report
    .command('subject')
    .description("report on a subject: their portraits with hashes, decisions on their faces, audit excerpt")
    .argument('<name>', 'subject name in the catalog')
    .addOption(formatOption())
    .option('--out <file>', 'where to write it (default: facet-subject-<name>.<format> here)')
    .option('--examiner <name>', 'made for this examiner: decisions blind verification withholds from them stay out')
    .action(async (name: string, o: { format: 'html' | 'pdf'; out?: string; examiner?: string }, cmd: Command) => {
      await withEngine(cmd, (api, _engine, json) => writeReport(api, json, { subject: name }, o));
    });

  program
    .command('store')
    .description('the content-addressed store of originals')
    .command('verify')
    .description('re-hash every stored original; exit code 3 when any is missing or altered')
    .action(async (_o, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const job = await runJob(api, { kind: 'store.verify', params: {} }, json);
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
    });

  const audit = program.command('audit').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check the whole hash chain; exit code 3 when any entry was edited, removed or cut off')
    .action(async (_o, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const report = await api.call('audit.verify', {});
        if (json) printJson(report);
        else {
          process.stdout.write(`${report.entries} entries, head ${report.head.slice(0, 16)}: ${report.ok ? 'intact' : 'TAMPERED'}\n`);
          for (const p of report.problems) {
            const where = p.kind === 'gap' ? `between ${p.afterSeq} and ${p.nextSeq}` : p.kind === 'truncated' ? `last entry ${p.lastSeq}, recorded head ${p.recordedSeq}` : `entry ${p.seq}`;
            process.stdout.write(`  ${p.kind.padEnd(12)} ${where}\n`);
          }
        }
        if (!report.ok) process.exitCode = 3;
      });
    });
  audit
    .command('log')
    .description('the newest audit entries')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .option('--examiner <name>', "read as this examiner: entries about others' decisions blind verification withholds from them come without details")
    .action(async (o: { limit: number; examiner?: string }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const entries = await api.call('audit.list', { limit: o.limit, ...(o.examiner !== undefined ? { examiner: o.examiner } : {}) });
        if (json) return printJson(entries);
        for (const e of entries) {
          const details = e.withheld ? '(withheld: blind verification)' : JSON.stringify(e.details);
          process.stdout.write(`${String(e.seq).padStart(6)}  ${e.at}  ${e.actor.padEnd(10)} ${e.action.padEnd(14)} ${details}\n`);
        }
      });
    });

  program
    .command('originals')
    .description('list stored originals, newest first')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .option('--offset <n>', 'skip this many', (v) => Number.parseInt(v, 10), 0)
    .option('--query <text>', 'filter by file name', '')
    .action(async (o: { limit: number; offset: number; query: string }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const page = await api.call('catalog.originals', { limit: o.limit, offset: o.offset, query: o.query });
        if (json) return printJson(page);
        for (const it of page.items) {
          process.stdout.write(`${it.sha256.slice(0, 16)}  ${it.format.padEnd(4)} ${it.width}x${it.height}  ${it.originalName}\n`);
        }
        process.stdout.write(`${page.items.length} of ${page.total}\n`);
      });
    });

  program
    .command('serve')
    .description('serve the workstation UI and API on a loopback address (what `npm start` does without Electron)')
    .addOption(new Option('--host <host>', 'loopback address').choices(['127.0.0.1', '::1', 'localhost']).default('127.0.0.1'))
    .option('--port <n>', 'port (0 = any free port)', (v) => Number.parseInt(v, 10), 0)
    .action(async (o: { host: string; port: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      assertBuilt(layout.rendererDir);
      // Listen for Ctrl-C / SIGTERM from the start: a signal during start-up still stops cleanly
      // (the default action would kill the process with the catalog open).
      let stopRequested: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
      const onSignal = (): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        stopRequested();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const service = await serve({
        catalogDir: resolveCatalogDir(g.catalog),
        rendererDir: layout.rendererDir,
        workerEntry: layout.workerEntry,
        inferenceWorkerEntry: layout.inferenceWorkerEntry,
        modelsDir: layout.modelsDir,
        host: o.host,
        port: o.port,
      });
      const { server } = service;
      if (g.json) printJson({ url: server.url, loginUrl: server.loginUrl, port: server.port, catalogDir: service.engine.catalog.dir });
      else {
        process.stdout.write(
          `Facet is running. Open this URL in a browser on this machine (it carries this run's token):\n\n  ${server.loginUrl}\n\n` +
            `catalog: ${service.engine.catalog.dir}\nPress Ctrl-C to stop.\n`,
        );
      }
      await stopped;
      await service.stop();
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const message = e instanceof FacetApiError ? `${e.message} [${e.code}]` : (e as Error).message;
    process.stderr.write(`facet: ${message}\n`);
    return 1;
  }
}
