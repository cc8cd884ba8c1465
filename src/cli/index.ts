/**
 * `facet`: the command line door. It calls the engine in-process through the same router and
 * typed client as the window, so its input is validated the same way and its errors read the same.
 */
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, FacetApiError, type FacetApi } from '../shared/client';
import { TERMINAL_STATES, type JobRequest, type JobSnapshot } from '../shared/contract';
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
      `${r.files} image files: ${r.added} added, ${r.duplicates.length} already in the catalog, ` +
        `${r.errors.length} errors${r.skipped ? `, ${r.skipped} not reached` : ''}` +
        `${r.analyzed ? `; ${r.analyzed} analysed, ${r.faces} faces` : ''}\n`,
    );
    for (const e of r.errors) process.stdout.write(`  error  ${e.path}: ${e.message}\n`);
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
        if (json) printJson(report);
        else {
          const rt = report.runtime;
          process.stdout.write(`execution provider: ${rt ? rt.provider : 'unavailable'}\n`);
          for (const a of rt?.attempts ?? []) process.stdout.write(`  ${a.ok ? 'ok  ' : 'no  '} ${a.provider.padEnd(7)} ${a.reason}\n`);
          process.stdout.write(`models (${report.modelsDir}):\n`);
          for (const m of report.models) {
            const state = !m.present ? 'MISSING' : m.verified === false ? 'HASH MISMATCH' : m.verified ? 'verified' : 'present';
            process.stdout.write(`  ${m.id.padEnd(16)} ${m.task.padEnd(12)} ${(m.bytes / 2 ** 20).toFixed(1).padStart(5)} MiB  ${m.sha256.slice(0, 16)}  ${state}  (${m.source})\n`);
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
    .command('ingest')
    .description('store image files and folders in the catalog (content-addressed, never modified)')
    .argument('<paths...>', 'image files or folders')
    .option('--no-recursive', 'do not descend into sub-folders')
    .option('--subject <name>', 'the person every imported portrait shows')
    .option('--subject-from-folder', "each file's folder name is its subject (LFW layout)")
    .option('--analyze', 'detect, landmark, align and embed every face')
    .option('--recognizers <ids>', 'recognizers to embed with, comma-separated', 'faceres')
    .action(async (paths: string[], o: { recursive: boolean; subject?: string; subjectFromFolder?: boolean; analyze?: boolean; recognizers: string }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const params = {
          paths: paths.map((p) => path.resolve(p)),
          recursive: o.recursive,
          subjectFromFolder: Boolean(o.subjectFromFolder),
          analyze: Boolean(o.analyze),
          recognizers: o.recognizers.split(',').map((r) => r.trim()).filter(Boolean),
          ...(o.subject ? { subject: o.subject } : {}),
        };
        const job = await runJob(api, { kind: 'store.ingest', params }, json);
        reportJob(job, json);
        process.exitCode = exitCodeFor(job);
      });
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
    .action(async (o: { limit: number }, cmd: Command) => {
      await withEngine(cmd, async (api, _engine, json) => {
        const entries = await api.call('audit.list', { limit: o.limit });
        if (json) return printJson(entries);
        for (const e of entries) process.stdout.write(`${String(e.seq).padStart(6)}  ${e.at}  ${e.actor.padEnd(10)} ${e.action.padEnd(14)} ${JSON.stringify(e.details)}\n`);
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
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
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
