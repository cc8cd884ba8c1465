import type { CharacterizeResult } from '../../../../shared/contract';
import { characterizeSubject } from '../../analysis/characterize';
import { getAnalysis, putAnalysis } from '../../catalog/analyses';
import type { JobContext, JobDefinition, ParamsOf } from '../types';

/**
 * PCAM characterization of one subject, in a job worker (training takes seconds to minutes), with
 * progress and cancel; the result is cached with the portraits, parameters and model hash.
 */
export const characterizeJob: JobDefinition<'subject.characterize', CharacterizeResult> = {
  kind: 'subject.characterize',
  async run(params: ParamsOf<'subject.characterize'>, ctx: JobContext): Promise<CharacterizeResult> {
    const inference = ctx.inference();
    const entry = inference.registry.get(params.recognizer);
    const result = await characterizeSubject(ctx.catalog, inference, params.subject, {
      recognizer: params.recognizer,
      arbitrary: params.arbitrary,
      maxPortraits: params.maxPortraits,
      seed: params.seed,
      epochs: params.epochs,
      signal: ctx.signal,
      onProgress: (done, total, message) => ctx.progress(done, total, message),
    });
    const spec = {
      kind: 'characterization',
      inputs: { subject: params.subject, portraits: result.portraits.map((p) => p.sha256), arbitrary: result.arbitrary },
      params: { seed: params.seed, epochs: params.epochs },
      models: { [entry.id]: entry.sha256 },
    };
    if (!getAnalysis(ctx.catalog, spec)) putAnalysis(ctx.catalog, spec, result);
    ctx.catalog.audit.append(ctx.actor, 'subject.characterize', { subject: params.subject, model: entry.sha256, most: result.mostRepresentative, least: result.leastRepresentative });
    return result;
  },
};
