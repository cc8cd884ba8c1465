import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HidingGameResult } from '../../../../shared/contract';
import { alignedFace } from '../../analysis/aligned-face';
import { fillFor, loadThetas } from '../../analysis/pair-diff-service';
import { loadBuiltinCalibrations } from '../../analysis/verification';
import { epsilonFor } from '../../saliency/handler';
import { playHidingGame, type GameSubject } from '../../saliency/hiding-game';
import { EXPLAINERS, type MethodId } from '../../saliency/index';
import { writeHidingGamePlots } from '../../saliency/plots';
import { SaliencyRuntime } from '../../saliency/runtime';
import type { JobContext, JobDefinition, ParamsOf } from '../types';

/**
 * The hiding game (paper 001) over the catalog's people, in a job worker: minutes of backward and
 * forward passes, with progress and cancel. Each person with 1 + gallery analysed portraits gives
 * one probe (the last) and a gallery (the first `gallery`) that forms their template.
 */
export const hidingGameJob: JobDefinition<'saliency.hiding-game', HidingGameResult> = {
  kind: 'saliency.hiding-game',
  async run(params: ParamsOf<'saliency.hiding-game'>, ctx: JobContext): Promise<HidingGameResult> {
    const inference = ctx.inference();
    const entry = inference.registry.get(params.recognizer);
    if (entry.task !== 'recognizer') throw new Error(`${entry.id} is a ${entry.task}, not a recognizer`);
    const modelsDir = inference.registry.dir;
    const epsilon = epsilonFor(modelsDir, entry);
    const methods = (params.methods ?? EXPLAINERS.map((e) => e.id as MethodId)).filter((m) => m !== 'tcebp' || epsilon !== undefined || params.methods?.includes('tcebp'));
    if (methods.includes('tcebp') && epsilon === undefined) throw new Error(`truncated cEBP has no epsilon for ${entry.id}: run \`npx tsx tools/calibrate-saliency.ts\``);
    const calibration = loadBuiltinCalibrations(modelsDir).find((c) => c.modelId === entry.id && c.modelSha256 === entry.sha256);
    if (!calibration) throw new Error(`no calibrated threshold for ${entry.id} (${entry.sha256.slice(0, 12)})`);
    const threshold = calibration.threshold;

    const need = params.gallery + 1;
    const rows = ctx.catalog.db
      .prepare(
        `SELECT s.name AS subject, f.portrait AS sha256, f.idx
         FROM faces f JOIN portraits p ON p.sha256 = f.portrait JOIN subjects s ON s.id = p.subject_id
         WHERE p.state = 'analyzed' AND f.idx = COALESCE(p.primary_idx, 0) ORDER BY s.name, f.portrait`,
      )
      .all() as { subject: string; sha256: string; idx: number }[];
    const by = new Map<string, { sha256: string; idx: number }[]>();
    for (const r of rows) if (!params.subjects || params.subjects.includes(r.subject)) by.set(r.subject, [...(by.get(r.subject) ?? []), r]);
    const chosen = [...by.entries()].filter(([, faces]) => faces.length >= need).slice(0, params.maxSubjects);
    if (chosen.length < 2) {
      throw new Error(`the hiding game needs at least two people with ${need} analysed portraits each (gallery ${params.gallery} + probe); this catalog has ${chosen.length}`);
    }
    const subjects: GameSubject[] = [];
    for (const [identity, faces] of chosen) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      ctx.progress(subjects.length, chosen.length, `aligning ${identity}`);
      const crops = [];
      for (const f of faces.slice(0, need)) crops.push((await alignedFace({ sha256: f.sha256 }, { catalog: ctx.catalog, inference }, entry, f.idx)).crop255);
      subjects.push({ identity, probe: { identity, crop255: crops[need - 1]! }, gallery: crops.slice(0, need - 1).map((crop255) => ({ identity, crop255 })) });
    }
    const rt = new SaliencyRuntime(inference.registry, (await inference.info()).choice.provider);
    try {
      const result = await playHidingGame(rt, subjects, {
        model: entry.id,
        methods,
        levels: params.levels,
        replacements: params.replacements,
        fill: fillFor(loadThetas(modelsDir), entry.id),
        threshold,
        contrastive: params.contrastive,
        ...(epsilon !== undefined ? { epsilon } : {}),
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress(done, total, `maps and hidden faces: ${done} of ${total}`),
      });
      const files: string[] = [];
      if (params.outDir) {
        await mkdir(params.outDir, { recursive: true });
        const csv = ['method,replacement,hidden,rank1,verified,n', ...result.cells.map((c) => `${c.method},${c.replacement},${c.level},${c.rank1.toFixed(4)},${c.verified.toFixed(4)},${c.n}`)].join('\n');
        const file = path.join(params.outDir, params.contrastive ? 'contrastive-hiding-game.csv' : 'hiding-game.csv');
        await writeFile(file, `${csv}\n`);
        files.push(file, ...(await writeHidingGamePlots(params.outDir, result, entry.id)));
      }
      ctx.catalog.audit.append(ctx.actor, 'saliency.hiding-game', { recognizer: entry.id, model: entry.sha256, identities: result.identities, contrastive: params.contrastive });
      return { recognizer: entry.id, modelSha256: entry.sha256, contrastive: result.contrastive, identities: result.identities, threshold, epsilon: epsilon ?? null, cells: result.cells, millis: result.millis, files };
    } finally {
      await rt.close();
    }
  },
};
