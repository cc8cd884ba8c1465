import type { JobKind } from '../../../../shared/contract';
import type { JobDefinition } from '../types';
import { characterizeJob, hybridJob } from './characterize';
import { evalPairsJob } from './evaluate';
import { hidingGameJob } from './hiding-game';
import { ingestJob } from './ingest';
import { verifyStoreJob } from './verify';

/** Every job kind the workers can run; the contract's JobKind enum and this table must agree. */
export const jobKinds: { [K in JobKind]: JobDefinition<K, unknown> } = {
  'store.ingest': ingestJob,
  'store.verify': verifyStoreJob,
  'eval.pairs': evalPairsJob,
  'subject.characterize': characterizeJob,
  'subject.hybrid': hybridJob,
  'saliency.hiding-game': hidingGameJob,
};
