/**
 * Runs a recognizer forward and its generated backward graphs (backward.ts) on onnxruntime, in this
 * process, on the execution provider the engine chose. Backward graphs are built once per
 * (model file, rule, start tensor, report tensors) and kept for the life of the runtime: building
 * one probes the forward model's shapes, which costs about as much as a few dozen passes.
 */
import * as ort from 'onnxruntime-node';
import type { ModelEntry } from '../models/manifest';
import type { ModelRegistry } from '../models/registry';
import type { ProviderName } from '../models/providers';
import { buildBackwardModel, type BackwardRule } from './backward';

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface ForwardResult {
  embedding: Tensor;
  /** The last convolutional activation, NCHW, where the model exposes one. */
  featureMap?: Tensor;
}

export class SaliencyRuntime {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(
    readonly registry: ModelRegistry,
    readonly provider: ProviderName = 'cpu',
  ) {}

  entry(model: string): ModelEntry {
    const entry = this.registry.get(model);
    if (entry.task !== 'recognizer') throw new Error(`${model} is a ${entry.task}, not a recognizer: saliency explains recognizers`);
    return entry;
  }

  hasFeatureMap(model: string): boolean {
    return this.entry(model).outputs.some((o) => o.name === 'feature_map');
  }

  private session(key: string, build: () => Promise<Uint8Array> | Uint8Array): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = Promise.resolve(build()).then((bytes) => ort.InferenceSession.create(bytes, { executionProviders: [this.provider], logSeverityLevel: 3 }));
      // A failed build must not poison the cache: the next call tries again and reports afresh.
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  private imageTensor(entry: ModelEntry, images: Float32Array, n: number): ort.Tensor {
    const { height, width, channels } = entry.input;
    if (images.length !== n * height * width * channels) throw new Error(`${entry.id} takes ${n} x ${height}x${width}x${channels} values; got ${images.length}`);
    return new ort.Tensor('float32', images, [n, height, width, channels]);
  }

  async forward(model: string, images: Float32Array, n: number): Promise<ForwardResult> {
    const entry = this.entry(model);
    const session = await this.session(`forward|${model}`, () => this.registry.load(model));
    const out = await session.run({ [entry.input.name]: this.imageTensor(entry, images, n) });
    const t = (name: string): Tensor | undefined => {
      const v = out[name];
      return v ? { data: v.data as Float32Array, dims: v.dims.map(Number) } : undefined;
    };
    const embedding = t('embedding') ?? t(entry.outputs[0]!.name);
    if (!embedding) throw new Error(`${model} produced no embedding`);
    const featureMap = t('feature_map');
    return featureMap ? { embedding, featureMap } : { embedding };
  }

  /**
   * One backward pass: the signal at the input (NHWC, like the images) and at each `at` tensor,
   * for `seed` placed at `from` (same shape as that tensor for n images).
   */
  async backward(model: string, rule: BackwardRule, from: string, at: string[], images: Float32Array, n: number, seed: Float32Array, seedDims: number[]): Promise<Record<string, Tensor>> {
    const entry = this.entry(model);
    const key = `${rule}|${model}|${from}|${at.join(',')}`;
    const session = await this.session(key, () => buildBackwardModel(this.registry.load(model), { rule, from, at }));
    const out = await session.run({ [entry.input.name]: this.imageTensor(entry, images, n), seed: new ort.Tensor('float32', seed, seedDims) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims.map(Number) }]));
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release()).catch(() => undefined)));
  }
}
