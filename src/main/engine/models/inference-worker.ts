/**
 * Inference worker thread: owns every onnxruntime session (created once, reused), so inference
 * never runs on the thread that serves the UI.
 */
import * as ort from 'onnxruntime-node';
import { parentPort, workerData } from 'node:worker_threads';
import { chooseProvider, type ProviderChoice, type ProviderName } from './providers';
import { ModelRegistry } from './registry';
import type { InferenceInit, InferenceReply, InferenceRequest, TensorData } from './protocol';

const init = workerData as InferenceInit;
const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');

const registry = new ModelRegistry(init.modelsDir, init.userModelsDir);
let choice: Promise<ProviderChoice> | undefined;
const sessions = new Map<string, Promise<{ session: ort.InferenceSession; provider: ProviderName; note?: string }>>();

const provider = (): Promise<ProviderChoice> => (choice ??= chooseProvider(init.preference));

function sessionFor(model: string) {
  let s = sessions.get(model);
  if (!s) {
    s = (async () => {
      const bytes = registry.load(model);
      const { provider: p } = await provider();
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [p],
        graphOptimizationLevel: 'all',
        ...(init.intraOpThreads ? { intraOpNumThreads: init.intraOpThreads } : {}),
      };
      try {
        return { session: await ort.InferenceSession.create(bytes, options), provider: p };
      } catch (e) {
        if (p === 'cpu') throw e;
        // A GPU provider may lack a kernel this model needs: run this model on CPU and say so.
        const note = `${p} could not run ${model} (${(e as Error).message.split('\n')[0]}); using CPU for it`;
        return { session: await ort.InferenceSession.create(bytes, { ...options, executionProviders: ['cpu'] }), provider: 'cpu' as const, note };
      }
    })();
    sessions.set(model, s);
    s.catch(() => sessions.delete(model));
  }
  return s;
}

async function handle(req: InferenceRequest): Promise<InferenceReply> {
  switch (req.type) {
    case 'info': {
      const c = await provider();
      const models = await Promise.all(
        [...sessions.entries()].map(async ([id, s]) => {
          const { provider: p, note } = await s;
          return { id, provider: p, ...(note ? { note } : {}) };
        }),
      );
      return { type: 'info', id: req.id, choice: c, sessions: models };
    }
    case 'run': {
      const { session } = await sessionFor(req.model);
      const entry = registry.get(req.model);
      const feeds = { [entry.input.name]: new ort.Tensor('float32', req.input.data, req.input.dims) };
      const result = await session.run(feeds);
      const outputs: Record<string, TensorData> = {};
      for (const name of session.outputNames) {
        const t = result[name];
        if (!t) continue;
        outputs[name] = { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims] };
      }
      return { type: 'run', id: req.id, outputs };
    }
  }
}

port.on('message', (req: InferenceRequest) => {
  handle(req).then(
    (reply) => {
      const transfer = reply.type === 'run' ? Object.values(reply.outputs).map((o) => o.data.buffer as ArrayBuffer) : [];
      port.postMessage(reply, transfer);
    },
    (e: unknown) => port.postMessage({ type: 'error', id: req.id, message: e instanceof Error ? e.message : String(e) } satisfies InferenceReply),
  );
});
