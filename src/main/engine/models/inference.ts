/**
 * The engine's one door to model inference. Requests for the same model that arrive together are
 * batched (up to `maxBatch`) into one run in the inference worker, then split back per caller.
 */
import { Worker } from 'node:worker_threads';
import { workerEntryBeside, type WorkerEntry } from '../workers';
import type { InferenceInit, InferenceReply, InferenceRequest, SessionInfo, TensorData } from './protocol';
import type { ProviderChoice, ProviderPreference } from './providers';
import { ModelRegistry } from './registry';

export function defaultInferenceWorkerEntry(): WorkerEntry {
  return workerEntryBeside(import.meta.url, 'inference-worker');
}

export interface InferenceOptions {
  modelsDir: string;
  /** The lab's registered models (see byo.ts). */
  userModelsDir?: string;
  workerEntry?: WorkerEntry;
  preference?: ProviderPreference;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per core). */
  threads?: number;
  maxBatch?: number;
}

export interface RuntimeInfo {
  choice: ProviderChoice;
  sessions: SessionInfo[];
  threads: number | null;
  maxBatch: number;
}

type Outputs = Record<string, TensorData>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  data: Float32Array;
  resolve: (o: Outputs) => void;
  reject: (e: Error) => void;
}

export class InferenceService {
  readonly registry: ModelRegistry;
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: InferenceReply) => void; reject: (e: Error) => void }>();
  private readonly queues = new Map<string, Pending[]>();
  private readonly maxBatch: number;

  constructor(private readonly options: InferenceOptions) {
    this.registry = new ModelRegistry(options.modelsDir, options.userModelsDir);
    this.maxBatch = Math.max(1, options.maxBatch ?? 16);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const entry = this.options.workerEntry ?? defaultInferenceWorkerEntry();
    const init: InferenceInit = {
      modelsDir: this.options.modelsDir,
      ...(this.options.userModelsDir ? { userModelsDir: this.options.userModelsDir } : {}),
      preference: this.options.preference ?? 'auto',
      ...(this.options.threads ? { intraOpThreads: this.options.threads } : {}),
    };
    const worker = new Worker(entry.file, { workerData: init, execArgv: entry.execArgv ?? [] });
    worker.on('message', (reply: InferenceReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.type === 'error') w.reject(new Error(reply.message));
      else w.resolve(reply);
    });
    const fail = (e: Error): void => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The inference worker stopped (exit code ${code}).`)));
    // Held only while requests are in flight: an idle runtime must not keep a CLI process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private request(req: WithoutId<InferenceRequest>, transfer: ArrayBuffer[] = []): Promise<InferenceReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...req, id }, transfer);
    });
  }

  async info(): Promise<RuntimeInfo> {
    const reply = await this.request({ type: 'info' });
    if (reply.type !== 'info') throw new Error('unexpected reply');
    return { choice: reply.choice, sessions: reply.sessions, threads: this.options.threads ?? null, maxBatch: this.maxBatch };
  }

  /** Runs a whole batch as given: `data` holds `n` images of the model's input size (NHWC). */
  async runBatch(model: string, data: Float32Array, n: number): Promise<Outputs> {
    const entry = this.registry.get(model);
    const { height, width, channels } = entry.input;
    if (data.length !== n * height * width * channels) {
      throw new Error(`${model} takes ${n} x ${height}x${width}x${channels} values; got ${data.length}`);
    }
    if (n > 1 && this.batchLimit(model) === 1) throw new Error(`${model} runs one image at a time; got a batch of ${n}`);
    const reply = await this.request({ type: 'run', model, input: { data, dims: [n, height, width, channels] } }, [data.buffer as ArrayBuffer]);
    if (reply.type !== 'run') throw new Error('unexpected reply');
    return reply.outputs;
  }

  /**
   * Images one run may take: graphs converted with a fixed batch of 1 (their reshapes hard-code
   * it; the manifest gives their outputs a leading 1) take one, the others up to maxBatch.
   * Outputs that are constants (a head's weights) do not count.
   */
  private batchLimit(model: string): number {
    return this.registry.get(model).outputs.some((o) => o.shape[0] === 1) ? 1 : this.maxBatch;
  }

  /** One image; batched with concurrent calls for the same model. */
  run(model: string, image: Float32Array): Promise<Outputs> {
    const entry = this.registry.get(model);
    const size = entry.input.height * entry.input.width * entry.input.channels;
    if (image.length !== size) {
      return Promise.reject(new Error(`${model} takes ${entry.input.height}x${entry.input.width}x3 values; got ${image.length}`));
    }
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(model) ?? [];
      queue.push({ data: image, resolve, reject });
      this.queues.set(model, queue);
      if (queue.length >= this.batchLimit(model)) this.flush(model);
      else if (queue.length === 1) setImmediate(() => this.flush(model));
    });
  }

  private flush(model: string): void {
    const queue = this.queues.get(model);
    if (!queue?.length) return;
    const batch = queue.splice(0, this.batchLimit(model));
    const size = batch[0]!.data.length;
    const data = new Float32Array(batch.length * size);
    batch.forEach((p, i) => data.set(p.data, i * size));
    const batched = new Set(this.registry.get(model).outputs.filter((o) => o.shape[0] === 'batch').map((o) => o.name));
    this.runBatch(model, data, batch.length).then(
      (outputs) => {
        batch.forEach((p, i) => {
          const mine: Outputs = {};
          for (const [name, t] of Object.entries(outputs)) {
            if (!batched.has(name)) {
              mine[name] = t;
              continue;
            }
            const per = t.data.length / batch.length;
            mine[name] = { data: t.data.slice(i * per, (i + 1) * per), dims: [1, ...t.dims.slice(1)] };
          }
          p.resolve(mine);
        });
      },
      (e: Error) => batch.forEach((p) => p.reject(e)),
    );
    if (queue.length) setImmediate(() => this.flush(model));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
