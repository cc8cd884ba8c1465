import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalResult } from '../../../../shared/contract';
import { evaluatePairs, type FoldedPair } from '../../analysis/evaluate';
import { sourceFace, type SourcedFace } from '../../analysis/face-source';
import { parsePairList } from '../../analysis/pairs';
import { detSpec, rocSpec, tippettSpec, writeEvaluationPlots } from '../../analysis/plots';
import { cosine, fitCalibrationSet, saveCatalogCalibrations } from '../../analysis/verification';
import { sha256Hex } from '../../catalog/store';
import { FACET_VERSION } from '../../version';
import type { JobContext, JobDefinition, ParamsOf } from '../types';

/**
 * `facet eval pairs`: scores a labelled pair list with each recognizer and their fusion, reports
 * cross-validated figures, writes JSON and plots, and optionally stores calibrations fitted on the
 * whole list (with its provenance) for later verifications.
 */
export const evalPairsJob: JobDefinition<'eval.pairs', EvalResult> = {
  kind: 'eval.pairs',
  async run(params: ParamsOf<'eval.pairs'>, ctx: JobContext): Promise<EvalResult> {
    let text: Buffer;
    try {
      text = await readFile(params.list);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`there is no file ${params.list}; check the pair list's path`);
      if (code === 'EISDIR') throw new Error(`${params.list} is a folder; name the pair list file inside it`);
      throw new Error(`cannot read the pair list ${params.list}: ${(e as Error).message}`);
    }
    const baseDir = path.dirname(params.list);
    const list = parsePairList(text.toString('utf8'), { imagesDir: params.images ?? path.join(baseDir, 'images'), baseDir, defaultFolds: params.folds });
    const choice = params.face === 'auto' ? (list.format === 'lfw' ? 'centre' : 'primary') : params.face;
    const inference = ctx.inference();
    const models = Object.fromEntries(params.recognizers.map((id) => [id, inference.registry.get(id).sha256]));

    const images = [...new Set(list.pairs.flatMap((p) => [p.a, p.b]))];
    const faces = new Map<string, SourcedFace | Error>();
    let reused = 0;
    for (const [i, file] of images.entries()) {
      if (ctx.signal.aborted) throw new Error('cancelled before every image was analysed; nothing was written');
      ctx.progress(i, images.length, path.basename(file));
      try {
        const f = await sourceFace({ path: file }, { catalog: ctx.catalog, inference }, params.recognizers, choice);
        if (f.source === 'catalog') reused++;
        faces.set(file, f);
      } catch (e) {
        faces.set(file, e as Error);
      }
    }

    // A pair with an unreadable or faceless image keeps its place with the least similar score.
    const unscorable: EvalResult['unscorable'] = [];
    const why = (file: string): string | null => {
      const f = faces.get(file);
      if (f instanceof Error) return `${path.basename(file)}: ${f.message}`;
      return f?.face ? null : `${path.basename(file)}: no face found`;
    };
    const pairs: FoldedPair[] = list.pairs.map((p) => {
      const reason = why(p.a) ?? why(p.b);
      if (reason) unscorable.push({ line: p.line, reason });
      const fa = faces.get(p.a) as SourcedFace;
      const fb = faces.get(p.b) as SourcedFace;
      const scores = Object.fromEntries(
        params.recognizers.map((m) => [m, reason ? null : cosine(fa.face!.embeddings[m]!.vector, fb.face!.embeddings[m]!.vector)]),
      );
      return { same: p.same, fold: p.fold, scores };
    });

    if (unscorable.length === pairs.length) {
      const first = unscorable[0]?.reason ?? '';
      throw new Error(`no pair could be scored: no image of the list gave an analysed face (first problem: ${first}). Check that the list's names resolve to images${list.format === 'lfw' ? ' (the images folder beside the list, or the one given)' : ''}.`);
    }
    ctx.progress(images.length, images.length, 'Evaluating…');
    const systems = evaluatePairs(pairs, list.folds, params.recognizers);
    const listSha256 = sha256Hex(text);
    const result: EvalResult = {
      list: params.list,
      listSha256,
      format: list.format,
      folds: list.folds,
      foldSource: list.foldSource,
      faceChoice: choice,
      pairs: pairs.length,
      targets: pairs.filter((p) => p.same).length,
      nonTargets: pairs.filter((p) => !p.same).length,
      images: images.length,
      imagesFromCatalog: reused,
      unscorable,
      models,
      systems: systems.map(({ log10Lrs: _l, scores: _s, ...s }) => s),
      files: [],
      savedCalibration: null,
      plots: [
        { name: 'roc', title: 'ROC', spec: rocSpec(systems, path.basename(params.list)) },
        { name: 'det', title: 'DET', spec: detSpec(systems, path.basename(params.list)) },
        ...systems.map((s) => ({ name: `tippett-${s.system}`, title: `Tippett: ${s.system}`, spec: tippettSpec(s, path.basename(params.list)) })),
      ],
    };
    if (params.outDir) {
      await mkdir(params.outDir, { recursive: true });
      const title = path.basename(params.list);
      result.files.push(...(await writeEvaluationPlots(params.outDir, systems, title)));
      const json = path.join(params.outDir, 'evaluation.json');
      result.files.push(json);
      // The JSON keeps every score and cross-validated LR, so any figure can be recomputed.
      await writeFile(json, `${JSON.stringify({ ...result, plots: undefined, facetVersion: FACET_VERSION, systems }, null, 2)}\n`);
    }
    if (params.saveCalibration) {
      const set = fitCalibrationSet(params.saveCalibration, pairs, models, {
        source: 'catalog',
        pairList: params.list,
        pairListSha256: listSha256,
        targets: result.targets,
        nonTargets: result.nonTargets,
        fittedAt: new Date().toISOString(),
        facetVersion: FACET_VERSION,
      });
      saveCatalogCalibrations(ctx.catalog, set, ctx.actor);
      result.savedCalibration = params.saveCalibration;
    }
    return result;
  },
};
