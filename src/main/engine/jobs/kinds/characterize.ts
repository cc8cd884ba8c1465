import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { CharacterizeResult } from '../../../../shared/contract';
import { characterizeSubject } from '../../analysis/characterize';
import { makeHybrids } from '../../analysis/hybrid';
import { putAnalysis } from '../../catalog/analyses';
import type { JobContext, JobDefinition, ParamsOf, ResultOf } from '../types';

/**
 * PCAM characterization of one subject, in a job worker (training takes seconds to minutes), with
 * progress and cancel; the result is cached with the portraits, parameters and model hash.
 */
export const characterizeJob: JobDefinition<'subject.characterize', CharacterizeResult> = {
  kind: 'subject.characterize',
  async run(params: ParamsOf<'subject.characterize'>, ctx: JobContext): Promise<CharacterizeResult> {
    const inference = ctx.inference();
    const entry = inference.registry.get(params.recognizer);
    const { model, cam, centre, ...result } = await characterizeSubject(ctx.catalog, inference, params.subject, {
      recognizer: params.recognizer,
      arbitrary: params.arbitrary,
      maxPortraits: params.maxPortraits,
      seed: params.seed,
      epochs: params.epochs,
      trainer: params.trainer,
      signal: ctx.signal,
      onProgress: (done, total, message) => ctx.progress(done, total, message),
      // Every epoch's loss goes out with the progress, so the window can draw the curve as it learns.
      onLoss: (losses, epochs) =>
        ctx.progress(losses.length, epochs, `training: epoch ${losses.length} of ${epochs}, hinge loss ${losses.at(-1)!.toFixed(4)}`, { label: 'hinge loss', values: losses.slice() }),
    });
    const spec = {
      kind: 'characterization',
      inputs: { subject: params.subject, portraits: result.portraits.map((p) => p.sha256), arbitrary: result.arbitrary },
      params: { seed: params.seed, epochs: params.epochs },
      models: { [entry.id]: entry.sha256 },
    };
    // The metric and the person's centre under it travel with the result: the weighted look-alike search needs them.
    putAnalysis(ctx.catalog, spec, { ...result, metric: { shape: model.shape, b: model.b, rho: model.rho, centre }, cam: Array.from(cam) }, new Uint8Array(model.m.buffer, model.m.byteOffset, model.m.byteLength));
    ctx.catalog.audit.append(ctx.actor, 'subject.characterize', { subject: params.subject, model: entry.sha256, most: result.mostRepresentative, least: result.leastRepresentative });
    return result;
  },
};

/** Facial hybrids of two subjects: both characterized, then each one's characteristic parts fused into the other. */
export const hybridJob: JobDefinition<'subject.hybrid', ResultOf<'subject.hybrid'>> = {
  kind: 'subject.hybrid',
  async run(params: ParamsOf<'subject.hybrid'>, ctx: JobContext) {
    if (params.a === params.b) throw new Error('a hybrid needs two different people');
    const inference = ctx.inference();
    const options = { recognizer: params.recognizer, seed: params.seed, signal: ctx.signal };
    ctx.progress(0, 3, `characterizing ${params.a}`);
    const a = await characterizeSubject(ctx.catalog, inference, params.a, options);
    ctx.progress(1, 3, `characterizing ${params.b}`);
    const b = await characterizeSubject(ctx.catalog, inference, params.b, options);
    ctx.progress(2, 3, 'fusing');
    const { baseline, hybrids, sources } = await makeHybrids(ctx.catalog, inference, a, b, params.parts);
    if (params.outDir) await mkdir(params.outDir, { recursive: true });
    // Previews travel in the result for the window to show, as JPEG (a tenth of the PNG's size at 224 px);
    // the files written stay PNG.
    const dataUrl = async (png: Buffer): Promise<string> => `data:image/jpeg;base64,${(await sharp(png).jpeg({ quality: 90 }).toBuffer()).toString('base64')}`;
    const out = [];
    for (const h of hybrids) {
      const file = params.outDir ? path.join(params.outDir, `hybrid-${h.from}-into-${h.into}.png`) : null;
      if (file) await writeFile(file, h.png);
      out.push({
        from: h.from,
        into: h.into,
        parts: h.parts,
        fromPortrait: h.fromPortrait,
        intoPortrait: h.intoPortrait,
        similarityToFrom: h.similarityToFrom,
        similarityToInto: h.similarityToInto,
        file,
        image: await dataUrl(h.png),
      });
    }
    ctx.progress(3, 3, 'done');
    return { recognizer: params.recognizer, baseline, hybrids: out, sources: await Promise.all(sources.map(async (x) => ({ subject: x.subject, sha256: x.sha256, image: await dataUrl(x.png) }))) };
  },
};
