/**
 * Backward graphs (src/main/engine/saliency/backward.ts) against an independent TypeScript
 * interpreter of the same small seeded networks (test/helpers/backward-reference.ts), for every
 * rule, at the input and at an intermediate tensor, with batch 1 and batch 2.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/main/engine/onnx/builder';
import { buildBackwardModel, type BackwardRule } from '../../src/main/engine/saliency/backward';
import { backward, forward, rng, toOnnx, type Layer, type Net, type T } from '../helpers/backward-reference';

const RULES: BackwardRule[] = ['gradient', 'guided', 'deconvnet', 'excitation'];

function weights(r: () => number, n: number, fanIn: number): number[] {
  return Array.from({ length: n }, () => (r() * 1.7) / Math.sqrt(fanIn));
}

function conv(r: (lo?: number, hi?: number) => number, name: string, x: string, cin: number, cout: number, k: number, extra: Partial<Extract<Layer, { op: 'conv' }>> = {}): Layer {
  const group = extra.group ?? 1;
  return {
    name,
    in: [x],
    op: 'conv',
    w: weights(r, cout * (cin / group) * k * k, (cin / group) * k * k),
    wShape: [cout, cin / group, k, k],
    b: Array.from({ length: cout }, () => r(-0.2, 0.3)),
    ...extra,
  };
}

const vec = (r: (lo?: number, hi?: number) => number, n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => r(lo, hi));

/** Many layer kinds in one network: plain, strided+padded, grouped, depthwise dilated convs; BN, PReLU, LeakyRelu, clip, MaxPool, residual, SE gate, Concat, AveragePool, Gemm, MatMul. */
function convNet(): Net {
  const r = rng(7);
  const layers: Layer[] = [
    { name: 'nchw', in: ['image'], op: 'transpose', perm: [0, 3, 1, 2] },
    { name: 'centred', in: ['nchw'], op: 'subc', c: 100 },
    { name: 'scaled', in: ['centred'], op: 'mulc', c: 0.02 },
    { name: 'padded', in: ['scaled'], op: 'pad', pads: [0, 0, 1, 1, 0, 0, 1, 1] },
    conv(r, 'c1', 'padded', 3, 6, 3),
    { name: 'c1s', in: ['c1'], op: 'chmul', c: vec(r, 6, -1.5, 1.5), axis: 1 },
    { name: 'c1b', in: ['c1s'], op: 'chadd', c: vec(r, 6, -0.2, 0.3), axis: 1 },
    { name: 'r1', in: ['c1b'], op: 'relu' },
    conv(r, 'c2', 'r1', 6, 8, 3, { strides: [2, 2], pads: [1, 1, 1, 1] }),
    { name: 'b2', in: ['c2'], op: 'bn', gamma: vec(r, 8, -1.5, 1.5), beta: vec(r, 8, -0.2, 0.3), mean: vec(r, 8, -0.3, 0.3), variance: vec(r, 8, 0.5, 1.5), eps: 1e-3 },
    { name: 'pr2', in: ['b2'], op: 'prelu', slope: vec(r, 8, 0.05, 0.4) },
    conv(r, 'c3', 'pr2', 8, 8, 3, { group: 2, same: true }),
    { name: 'l3', in: ['c3'], op: 'leaky', alpha: 0.1 },
    conv(r, 'c4', 'l3', 8, 8, 3, { group: 8, dil: [2, 2], pads: [2, 2, 2, 2] }),
    { name: 'c4r', in: ['c4'], op: 'relu' },
    { name: 'c4min', in: ['c4r'], op: 'minc', c: 0.8 },
    { name: 'c4max', in: ['c4min'], op: 'maxc', c: 0 },
    { name: 'mp', in: ['c4max'], op: 'maxpool', k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    conv(r, 'feature_map', 'mp', 8, 8, 1),
    { name: 'clip5', in: ['feature_map'], op: 'clip', lo: 0, hi: 1.2 },
    { name: 'res', in: ['clip5', 'mp'], op: 'add' },
    { name: 'squeeze', in: ['res'], op: 'gap' },
    conv(r, 'se1', 'squeeze', 8, 4, 1),
    { name: 'se1r', in: ['se1'], op: 'relu' },
    conv(r, 'se2', 'se1r', 4, 8, 1),
    { name: 'gate', in: ['se2'], op: 'sigmoid' },
    { name: 'excited', in: ['res', 'gate'], op: 'mul' },
    { name: 'both', in: ['excited', 'res'], op: 'concat' },
    { name: 'ap', in: ['both'], op: 'avgpool', k: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], includePad: false },
    { name: 'flat', in: ['ap'], op: 'flatten' },
    { name: 'g1', in: ['flat'], op: 'gemm', w: weights(r, 10 * 144, 144), wShape: [10, 144], b: vec(r, 10, -0.1, 0.1) },
    { name: 'g1r', in: ['g1'], op: 'relu' },
    { name: 'embedding', in: ['g1r'], op: 'matmul', w: weights(r, 10 * 6, 10), wShape: [10, 6] },
  ];
  return { input: { name: 'image', shape: [1, 12, 12, 3] }, layers };
}

/** Mobileface's pattern: normalization, NHWC pad, PReLU as Max(x,0) + alpha * Min(x,0), residual, Transpose + Reshape + MatMul + BN-style head. */
function mobileNet(): Net {
  const r = rng(11);
  const prelu = (p: string, x: string): Layer[] => [
    { name: `${p}_max`, in: [x], op: 'maxc', c: 0 },
    { name: `${p}_min`, in: [x], op: 'minc', c: 0 },
    { name: `${p}_neg`, in: [`${p}_min`], op: 'chmul', c: vec(r, 6, 0.05, 0.5), axis: 1 },
    { name: p, in: [`${p}_max`, `${p}_neg`], op: 'add' },
  ];
  const layers: Layer[] = [
    { name: 'sub', in: ['image'], op: 'subc', c: 127.5 },
    { name: 'mul', in: ['sub'], op: 'mulc', c: 0.0078125 },
    { name: 'pad', in: ['mul'], op: 'pad', pads: [0, 1, 1, 0, 0, 1, 1, 0] },
    { name: 'nchw', in: ['pad'], op: 'transpose', perm: [0, 3, 1, 2] },
    conv(r, 'c1', 'nchw', 3, 6, 3, { strides: [2, 2], b: undefined }),
    ...prelu('a1', 'c1'),
    conv(r, 'pw', 'a1', 6, 6, 1, { b: undefined }),
    { name: 'pw_pad', in: ['pw'], op: 'pad', pads: [0, 0, 1, 1, 0, 0, 1, 1] },
    conv(r, 'dw', 'pw_pad', 6, 6, 3, { group: 6, b: undefined }),
    ...prelu('a2', 'dw'),
    { name: 'feature_map', in: ['a2', 'a1'], op: 'add' },
    { name: 'nhwc', in: ['feature_map'], op: 'transpose', perm: [0, 2, 3, 1] },
    { name: 'flat', in: ['nhwc'], op: 'reshape', shape: [1, 150] },
    { name: 'dense', in: ['flat'], op: 'matmul', w: weights(r, 150 * 8, 150), wShape: [150, 8] },
    { name: 'bn_mul', in: ['dense'], op: 'chmul', c: vec(r, 8, -1.2, 1.5), axis: -1 },
    { name: 'embedding', in: ['bn_mul'], op: 'chadd', c: vec(r, 8, -0.3, 0.3), axis: -1 },
  ];
  return { input: { name: 'image', shape: [1, 10, 10, 3] }, layers };
}

/** Every activation positive (raw pixels, sigmoids) and every weight row has a positive entry: excitation backprop must conserve mass. */
function positiveNet(): Net {
  const r = rng(5);
  const gw = weights(r, 3 * 4, 4).map((w, i) => (i % 4 === Math.floor(i / 4) ? Math.abs(w) + 0.1 : w));
  const layers: Layer[] = [
    { name: 'nchw', in: ['image'], op: 'transpose', perm: [0, 3, 1, 2] },
    // Small pre-activations: a float32 sigmoid of a large negative value is exactly 0 (no mass).
    { name: 'scaled', in: ['nchw'], op: 'divc', c: 255 },
    conv(r, 'c1', 'scaled', 3, 4, 3, { pads: [1, 1, 1, 1] }),
    { name: 's1', in: ['c1'], op: 'sigmoid' },
    conv(r, 'c2', 's1', 4, 4, 3, { same: true }),
    { name: 's2', in: ['c2'], op: 'sigmoid' },
    { name: 'sum', in: ['s1', 's2'], op: 'add' },
    { name: 'feature_map', in: ['sum'], op: 'avgpool', k: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] },
    { name: 'pooled', in: ['feature_map'], op: 'reducemean' },
    { name: 'embedding', in: ['pooled'], op: 'gemm', w: gw, wShape: [3, 4], b: [0.1, -0.2, 0.3] },
  ];
  return { input: { name: 'image', shape: [1, 8, 8, 3] }, layers };
}

/** An ArcFace-style residual net (BatchNormalization, PRelu, Flatten, Gemm, feature batch norm) written at opset 11, as many lab exports are. */
function arcfaceNet(): Net {
  const r = rng(13);
  const bn = (name: string, x: string, c: number): Layer => ({
    name,
    in: [x],
    op: 'bn',
    gamma: vec(r, c, -1.2, 1.5),
    beta: vec(r, c, -0.2, 0.3),
    mean: vec(r, c, -0.3, 0.3),
    variance: vec(r, c, 0.5, 1.5),
    eps: 1e-5,
  });
  const layers: Layer[] = [
    { name: 'nchw', in: ['image'], op: 'transpose', perm: [0, 3, 1, 2] },
    { name: 'centred', in: ['nchw'], op: 'subc', c: 127.5 },
    { name: 'scaled', in: ['centred'], op: 'mulc', c: 0.0078125 },
    conv(r, 'c1', 'scaled', 3, 6, 3, { pads: [1, 1, 1, 1], b: undefined }),
    bn('b1', 'c1', 6),
    { name: 'p1', in: ['b1'], op: 'prelu', slope: vec(r, 6, 0.1, 0.3) },
    conv(r, 'c2', 'p1', 6, 6, 3, { pads: [1, 1, 1, 1], b: undefined }),
    bn('b2', 'c2', 6),
    { name: 'p2', in: ['b2'], op: 'prelu', slope: vec(r, 6, 0.1, 0.3) },
    conv(r, 'c3', 'p2', 6, 6, 3, { strides: [2, 2], pads: [1, 1, 1, 1], b: undefined }),
    bn('b3', 'c3', 6),
    conv(r, 'short', 'p1', 6, 6, 1, { strides: [2, 2], b: undefined }),
    bn('bs', 'short', 6),
    { name: 'feature_map', in: ['b3', 'bs'], op: 'add' },
    { name: 'flat', in: ['feature_map'], op: 'flatten' },
    { name: 'fc', in: ['flat'], op: 'gemm', w: weights(r, 5 * 96, 96), wShape: [5, 96], b: vec(r, 5, -0.1, 0.1) },
    bn('embedding', 'fc', 5),
  ];
  return { input: { name: 'image', shape: [1, 8, 8, 3] }, layers };
}

function image(net: Net, seed: number, lo = 0, hi = 255): T {
  const r = rng(seed);
  const n = net.input.shape.reduce((a, b) => a * b, 1);
  return { shape: net.input.shape, data: Float64Array.from({ length: n }, () => r(lo, hi)) };
}

function seedFor(rule: BackwardRule, n: number, s: number): T {
  const r = rng(s);
  if (rule !== 'excitation') return { shape: [1, n], data: Float64Array.from({ length: n }, () => r()) };
  const v = Array.from({ length: n }, () => r(0.1, 1));
  const sum = v.reduce((a, b) => a + b, 0);
  return { shape: [1, n], data: Float64Array.from(v, (q) => q / sum) };
}

function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    m = Math.max(m, Math.abs(got[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return m / scale;
}

async function runBackward(model: Uint8Array, net: Net, images: T[], seeds: T[]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const cat = (ts: T[]): Float32Array => Float32Array.from(ts.flatMap((t) => Array.from(t.data)));
  try {
    return await session.run({
      image: new ort.Tensor('float32', cat(images), [images.length, ...net.input.shape.slice(1)]),
      seed: new ort.Tensor('float32', cat(seeds), [seeds.length, seeds[0]!.shape[1]!]),
    });
  } finally {
    await session.release();
  }
}

describe.each([
  ['many layer kinds', convNet, 13],
  ['mobileface pattern', mobileNet, 13],
  ['positive net', positiveNet, 13],
  ['ArcFace pattern, opset 11', arcfaceNet, 11],
])('backward graphs match the TypeScript reference: %s', (_label, makeNet, opset) => {
  const net = makeNet();
  const onnxModel = toOnnx(net, ['embedding', 'feature_map'], opset);
  it.each(RULES)('%s', async (rule) => {
    const model = await buildBackwardModel(onnxModel, { rule, from: 'embedding', at: ['feature_map'] });
    const xs = [image(net, 1), image(net, 2)];
    const values = xs.map((x) => forward(net, x));
    const D = values[0]!.get('embedding')!.data.length;
    const seeds = [seedFor(rule, D, 3), seedFor(rule, D, 4)];
    const refs = xs.map((_, b) => backward(net, values[b]!, rule, 'embedding', seeds[b]!, { outputs: ['embedding', 'feature_map'] }));
    for (const batch of [[0], [0, 1]]) {
      const out = await runBackward(model, net, batch.map((b) => xs[b]!), batch.map((b) => seeds[b]!));
      expect(out['signal']!.dims).toEqual([batch.length, ...net.input.shape.slice(1)]);
      const fm = values[0]!.get('feature_map')!;
      expect(out['signal:feature_map']!.dims).toEqual([batch.length, ...fm.shape.slice(1)]);
      for (const b of batch) {
        const n = xs[0]!.data.length;
        const m = fm.data.length;
        const signal = (out['signal']!.data as Float32Array).subarray(b * n, (b + 1) * n);
        const atFm = (out['signal:feature_map']!.data as Float32Array).subarray(b * m, (b + 1) * m);
        const emb = (out['embedding']!.data as Float32Array).subarray(b * D, (b + 1) * D);
        expect(relError(emb, values[b]!.get('embedding')!.data), 'forward embedding').toBeLessThan(1e-4);
        expect(Math.max(...Array.from(refs[b]!.get('image')!.data, Math.abs)), 'reference is not all zero').toBeGreaterThan(0);
        expect(relError(signal, refs[b]!.get('image')!.data), `signal, image ${b} of ${batch.length}`).toBeLessThan(1e-4);
        expect(relError(atFm, refs[b]!.get('feature_map')!.data), `signal:feature_map, image ${b} of ${batch.length}`).toBeLessThan(1e-4);
      }
    }
  });
});

describe('excitation backprop', () => {
  it('conserves mass where no activation is zero', async () => {
    const net = positiveNet();
    const model = await buildBackwardModel(toOnnx(net, ['embedding', 'feature_map']), { rule: 'excitation', from: 'embedding', at: ['feature_map'] });
    const x = image(net, 9, 1, 255);
    const seed = seedFor('excitation', 3, 10);
    const out = await runBackward(model, net, [x], [seed]);
    const sum = (t: ort.Tensor): number => Array.from(t.data as Float32Array).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum(out['signal']!) - 1)).toBeLessThan(1e-4);
    expect(Math.abs(sum(out['signal:feature_map']!) - 1)).toBeLessThan(1e-4);
    expect(Math.min(...Array.from(out['signal']!.data as Float32Array))).toBeGreaterThanOrEqual(0);
  });

  it("without 'signed', negative activations carry no mass (Eq. 1 as written)", async () => {
    const net = mobileNet();
    const onnxModel = toOnnx(net, ['embedding', 'feature_map']);
    const x = image(net, 1);
    const seed = seedFor('excitation', 8, 3);
    const values = forward(net, x);
    const ref = backward(net, values, 'excitation', 'embedding', seed, { outputs: ['embedding', 'feature_map'], signed: false });
    const model = await buildBackwardModel(onnxModel, { rule: 'excitation', from: 'embedding', at: ['feature_map'], signed: false });
    const out = await runBackward(model, net, [x], [seed]);
    expect(relError(out['signal']!.data as Float32Array, ref.get('image')!.data)).toBeLessThan(1e-4);
    const signed = backward(net, values, 'excitation', 'embedding', seed, { outputs: ['embedding', 'feature_map'] });
    const total = (t: Float64Array): number => t.reduce((a, b) => a + b, 0);
    expect(total(ref.get('image')!.data)).toBeLessThan(total(signed.get('image')!.data));
  });
});

describe('errors', () => {
  function sinNet(): Uint8Array {
    const g = new GraphBuilder('bad');
    g.input('image', 'float32', ['batch', 4, 4, 3]);
    const t = g.op('Transpose', ['image'], 'nchw', { perm: [0, 3, 1, 2] });
    const s = g.node('Sin', [t], 'wavy', {}, ['wavy'])[0]!;
    g.node('ReduceMean', [s], 'embedding', { axes: [2, 3], keepdims: 0 }, ['embedding']);
    g.output('embedding', 'float32');
    return g.toBytes({ producer: 'test', version: '1' });
  }

  it('an unsupported op on the path is named with its node', async () => {
    await expect(buildBackwardModel(sinNet(), { rule: 'gradient', from: 'embedding' })).rejects.toThrow(/op Sin \(node 'wavy\/Sin'\)/);
    await expect(buildBackwardModel(sinNet(), { rule: 'excitation', from: 'embedding' })).rejects.toThrow(/op Sin/);
  });

  it('unknown tensors are refused', async () => {
    const bytes = toOnnx(positiveNet(), ['embedding', 'feature_map']);
    await expect(buildBackwardModel(bytes, { rule: 'gradient', from: 'nope' })).rejects.toThrow(/'nope' is not produced/);
    await expect(buildBackwardModel(bytes, { rule: 'gradient', from: 'embedding', at: ['missing'] })).rejects.toThrow(/'missing'/);
  });
});
