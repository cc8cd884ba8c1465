import type { VerifyResult } from '../../../../shared/contract';
import type { JobContext, JobDefinition } from '../types';

/** Re-hashes every stored original and reports the missing and the altered: the store's tamper check. */
export const verifyStoreJob: JobDefinition<'store.verify', VerifyResult> = {
  kind: 'store.verify',
  async run(_params, ctx: JobContext): Promise<VerifyResult> {
    const total = ctx.catalog.stats().originals;
    const result: VerifyResult = { checked: 0, intact: 0, missing: [], corrupted: [], skipped: 0 };
    ctx.progress(0, total, 'Checking stored originals…');
    for (const sha of ctx.catalog.iterateHashes()) {
      if (ctx.signal.aborted) break;
      const actual = await ctx.catalog.store.hashOnDisk(sha);
      result.checked += 1;
      if (actual === undefined) result.missing.push(sha);
      else if (actual !== sha) result.corrupted.push({ sha256: sha, actual });
      else result.intact += 1;
      ctx.progress(result.checked, total, sha.slice(0, 12));
    }
    result.skipped = Math.max(0, total - result.checked);
    return result;
  },
};
