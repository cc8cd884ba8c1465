/**
 * A tiny layer interpreter in plain TypeScript (float64, batch 1, no ONNX) with a direct
 * implementation of each backward rule (gradient, guided backprop, deconvnet, excitation
 * backprop), used as the independent reference for src/main/engine/saliency/backward.ts.
 * `toOnnx` writes the same network as an ONNX model, one node per layer.
 */
import { GraphBuilder } from '../../src/main/engine/onnx/builder';
import type { BackwardRule } from '../../src/main/engine/saliency/backward';

type Num = number[];
export type Layer = { name: string; in: string[] } & (
  | { op: 'transpose'; perm: Num }
  | { op: 'conv'; w: Num; wShape: [number, number, number, number]; b?: Num; strides?: Num; pads?: Num; same?: boolean; dil?: Num; group?: number }
  | { op: 'relu' | 'sigmoid' | 'add' | 'sub' | 'mul' | 'gap' | 'flatten' | 'concat' }
  | { op: 'maxc' | 'minc' | 'addc' | 'subc' | 'mulc' | 'divc'; c: number }
  | { op: 'clip'; lo: number; hi: number }
  | { op: 'prelu'; slope: Num }
  | { op: 'leaky'; alpha: number }
  | { op: 'bn'; gamma: Num; beta: Num; mean: Num; variance: Num; eps: number }
  | { op: 'chmul' | 'chadd'; c: Num; axis: 1 | -1 }
  | { op: 'maxpool' | 'avgpool'; k: Num; strides: Num; pads: Num; includePad?: boolean }
  | { op: 'reducemean' }
  | { op: 'pad'; pads: Num }
  | { op: 'reshape'; shape: Num }
  | { op: 'gemm'; w: Num; wShape: [number, number]; b: Num }
  | { op: 'matmul'; w: Num; wShape: [number, number] }
);

export interface Net {
  /** NHWC input, batch 1. */
  input: { name: string; shape: Num };
  layers: Layer[];
}

export interface T {
  shape: Num;
  data: Float64Array;
}

const size = (s: Num): number => s.reduce((a, b) => a * b, 1);
const zeros = (shape: Num): T => ({ shape: [...shape], data: new Float64Array(size(shape)) });
const strides = (s: Num): Num => {
  const out = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) out[i] = out[i + 1]! * s[i + 1]!;
  return out;
};

/** Calls fn(outIndex, aIndex, bIndex) for every element of the broadcast of shapes a and b. */
function broadcast(a: Num, b: Num, fn: (o: number, ia: number, ib: number) => void): Num {
  const rank = Math.max(a.length, b.length);
  const pa = [...new Array<number>(rank - a.length).fill(1), ...a];
  const pb = [...new Array<number>(rank - b.length).fill(1), ...b];
  const out = pa.map((d, i) => Math.max(d, pb[i]!));
  const sa = strides(pa);
  const sb = strides(pb);
  const so = strides(out);
  for (let o = 0; o < size(out); o++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      const idx = Math.floor(o / so[k]!) % out[k]!;
      if (pa[k] !== 1) ia += idx * sa[k]!;
      if (pb[k] !== 1) ib += idx * sb[k]!;
    }
    fn(o, ia, ib);
  }
  return out;
}

function binary(a: T, b: T, f: (x: number, y: number) => number): T {
  const tmp: number[] = [];
  const shape = broadcast(a.shape, b.shape, (o, ia, ib) => (tmp[o] = f(a.data[ia]!, b.data[ib]!)));
  return { shape, data: Float64Array.from(tmp) };
}

/** Sums a signal shaped like the broadcast output back onto operand shape `to`. */
function sumTo(g: T, other: Num, to: Num, first: boolean): T {
  const out = zeros(to);
  broadcast(first ? to : other, first ? other : to, (o, ia, ib) => (out.data[first ? ia : ib]! += g.data[o]!));
  return out;
}

const map = (t: T, f: (v: number, i: number) => number): T => ({ shape: t.shape, data: t.data.map(f) });

interface ConvGeom {
  C: number;
  H: number;
  W: number;
  M: number;
  Ho: number;
  Wo: number;
  kh: number;
  kw: number;
  s: Num;
  d: Num;
  p: Num;
  group: number;
}

function convGeom(l: Extract<Layer, { op: 'conv' }>, xs: Num): ConvGeom {
  const [, C, H, W] = xs as [number, number, number, number];
  const [M, , kh, kw] = l.wShape;
  const s = l.strides ?? [1, 1];
  const d = l.dil ?? [1, 1];
  let p = l.pads ?? [0, 0, 0, 0];
  if (l.same) {
    const ho = Math.ceil(H / s[0]!);
    const wo = Math.ceil(W / s[1]!);
    const th = Math.max((ho - 1) * s[0]! + d[0]! * (kh - 1) + 1 - H, 0);
    const tw = Math.max((wo - 1) * s[1]! + d[1]! * (kw - 1) + 1 - W, 0);
    p = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  const Ho = Math.floor((H + p[0]! + p[2]! - d[0]! * (kh - 1) - 1) / s[0]!) + 1;
  const Wo = Math.floor((W + p[1]! + p[3]! - d[1]! * (kw - 1) - 1) / s[1]!) + 1;
  return { C, H, W, M, Ho, Wo, kh, kw, s, d, p, group: l.group ?? 1 };
}

/** Every connection of a convolution: output (m, oh, ow) index, input index, weight index. */
function convLinks(g: ConvGeom, fn: (o: number, i: number, w: number) => void): void {
  const cg = g.C / g.group;
  const mg = g.M / g.group;
  for (let m = 0; m < g.M; m++) {
    const grp = Math.floor(m / mg);
    for (let oh = 0; oh < g.Ho; oh++)
      for (let ow = 0; ow < g.Wo; ow++)
        for (let c = 0; c < cg; c++)
          for (let a = 0; a < g.kh; a++)
            for (let b = 0; b < g.kw; b++) {
              const ih = oh * g.s[0]! - g.p[0]! + a * g.d[0]!;
              const iw = ow * g.s[1]! - g.p[1]! + b * g.d[1]!;
              if (ih < 0 || iw < 0 || ih >= g.H || iw >= g.W) continue;
              fn((m * g.Ho + oh) * g.Wo + ow, ((grp * cg + c) * g.H + ih) * g.W + iw, ((m * cg + c) * g.kh + a) * g.kw + b);
            }
  }
}

interface PoolGeom {
  C: number;
  H: number;
  W: number;
  Ho: number;
  Wo: number;
}
function poolGeom(l: Extract<Layer, { op: 'maxpool' | 'avgpool' }>, xs: Num): PoolGeom {
  const [, C, H, W] = xs as [number, number, number, number];
  const Ho = Math.floor((H + l.pads[0]! + l.pads[2]! - l.k[0]!) / l.strides[0]!) + 1;
  const Wo = Math.floor((W + l.pads[1]! + l.pads[3]! - l.k[1]!) / l.strides[1]!) + 1;
  return { C, H, W, Ho, Wo };
}
/** Each pooling window: output index and the input indices inside the image (row-major order), and the window's padded size. */
function poolWindows(l: Extract<Layer, { op: 'maxpool' | 'avgpool' }>, g: PoolGeom, fn: (o: number, ins: number[]) => void): void {
  for (let c = 0; c < g.C; c++)
    for (let oh = 0; oh < g.Ho; oh++)
      for (let ow = 0; ow < g.Wo; ow++) {
        const ins: number[] = [];
        for (let a = 0; a < l.k[0]!; a++)
          for (let b = 0; b < l.k[1]!; b++) {
            const ih = oh * l.strides[0]! - l.pads[0]! + a;
            const iw = ow * l.strides[1]! - l.pads[1]! + b;
            if (ih >= 0 && iw >= 0 && ih < g.H && iw < g.W) ins.push((c * g.H + ih) * g.W + iw);
          }
        fn((c * g.Ho + oh) * g.Wo + ow, ins);
      }
}

function transpose(t: T, perm: Num): T {
  const shape = perm.map((p) => t.shape[p]!);
  const si = strides(t.shape);
  const so = strides(shape);
  const out = zeros(shape);
  for (let o = 0; o < out.data.length; o++) {
    let i = 0;
    for (let k = 0; k < shape.length; k++) i += (Math.floor(o / so[k]!) % shape[k]!) * si[perm[k]!]!;
    out.data[o] = t.data[i]!;
  }
  return out;
}

/** Index map of a constant pad: input flat index -> output flat index. */
function padIndex(xs: Num, pads: Num): { shape: Num; at: (i: number) => number } {
  const r = xs.length;
  const shape = xs.map((d, k) => d + pads[k]! + pads[k + r]!);
  const si = strides(xs);
  const so = strides(shape);
  return {
    shape,
    at: (i) => {
      let o = 0;
      for (let k = 0; k < r; k++) o += ((Math.floor(i / si[k]!) % xs[k]!) + pads[k]!) * so[k]!;
      return o;
    },
  };
}

function channelVec(c: Num, axis: 1 | -1, rank: number): Num {
  return axis === 1 ? [1, c.length, ...new Array<number>(rank - 2).fill(1)] : [c.length];
}

function bnScale(l: Extract<Layer, { op: 'bn' }>): Num {
  return l.gamma.map((g, i) => g / Math.sqrt(l.variance[i]! + l.eps));
}

/** Forward pass: every tensor's value. */
export function forward(net: Net, x: T): Map<string, T> {
  const v = new Map<string, T>([[net.input.name, x]]);
  const get = (n: string): T => v.get(n)!;
  for (const l of net.layers) {
    const a = get(l.in[0]!);
    let y: T;
    switch (l.op) {
      case 'transpose':
        y = transpose(a, l.perm);
        break;
      case 'conv': {
        const g = convGeom(l, a.shape);
        y = zeros([1, g.M, g.Ho, g.Wo]);
        convLinks(g, (o, i, w) => (y.data[o]! += a.data[i]! * l.w[w]!));
        if (l.b) for (let o = 0; o < y.data.length; o++) y.data[o]! += l.b[Math.floor(o / (g.Ho * g.Wo))]!;
        break;
      }
      case 'relu':
        y = map(a, (q) => Math.max(q, 0));
        break;
      case 'sigmoid':
        y = map(a, (q) => 1 / (1 + Math.exp(-q)));
        break;
      case 'maxc':
        y = map(a, (q) => Math.max(q, l.c));
        break;
      case 'minc':
        y = map(a, (q) => Math.min(q, l.c));
        break;
      case 'clip':
        y = map(a, (q) => Math.min(Math.max(q, l.lo), l.hi));
        break;
      case 'addc':
        y = map(a, (q) => q + l.c);
        break;
      case 'subc':
        y = map(a, (q) => q - l.c);
        break;
      case 'mulc':
        y = map(a, (q) => q * l.c);
        break;
      case 'divc':
        y = map(a, (q) => q / l.c);
        break;
      case 'prelu': {
        const hw = size(a.shape.slice(2));
        y = map(a, (q, i) => (q > 0 ? q : q * l.slope[Math.floor(i / hw)]!));
        break;
      }
      case 'leaky':
        y = map(a, (q) => (q > 0 ? q : q * l.alpha));
        break;
      case 'bn': {
        const hw = size(a.shape.slice(2));
        const s = bnScale(l);
        y = map(a, (q, i) => {
          const c = Math.floor(i / hw) % s.length;
          return (q - l.mean[c]!) * s[c]! + l.beta[c]!;
        });
        break;
      }
      case 'chmul':
      case 'chadd': {
        const c: T = { shape: channelVec(l.c, l.axis, a.shape.length), data: Float64Array.from(l.c) };
        y = binary(a, c, l.op === 'chmul' ? (p, q) => p * q : (p, q) => p + q);
        break;
      }
      case 'add':
        y = binary(a, get(l.in[1]!), (p, q) => p + q);
        break;
      case 'sub':
        y = binary(a, get(l.in[1]!), (p, q) => p - q);
        break;
      case 'mul':
        y = binary(a, get(l.in[1]!), (p, q) => p * q);
        break;
      case 'maxpool':
      case 'avgpool': {
        const g = poolGeom(l, a.shape);
        y = zeros([1, g.C, g.Ho, g.Wo]);
        const kk = l.k[0]! * l.k[1]!;
        poolWindows(l, g, (o, ins) => {
          if (l.op === 'maxpool') y.data[o] = Math.max(...ins.map((i) => a.data[i]!));
          else y.data[o] = ins.reduce((s, i) => s + a.data[i]!, 0) / (l.includePad ? kk : ins.length);
        });
        break;
      }
      case 'gap':
      case 'reducemean': {
        const [, C] = a.shape as [number, number];
        const hw = size(a.shape.slice(2));
        y = zeros(l.op === 'gap' ? [1, C, 1, 1] : [1, C]);
        for (let i = 0; i < a.data.length; i++) y.data[Math.floor(i / hw)]! += a.data[i]! / hw;
        break;
      }
      case 'pad': {
        const pi = padIndex(a.shape, l.pads);
        y = zeros(pi.shape);
        for (let i = 0; i < a.data.length; i++) y.data[pi.at(i)] = a.data[i]!;
        break;
      }
      case 'reshape':
        y = { shape: [1, ...l.shape.slice(1)], data: a.data };
        break;
      case 'flatten':
        y = { shape: [1, size(a.shape.slice(1))], data: a.data };
        break;
      case 'concat': {
        const parts = l.in.map(get);
        const inner = size(a.shape.slice(2));
        y = { shape: [1, parts.reduce((s, p) => s + p.shape[1]!, 0), ...a.shape.slice(2)], data: new Float64Array(parts.reduce((s, p) => s + p.data.length, 0)) };
        let off = 0;
        for (const p of parts) {
          y.data.set(p.data, off);
          off += p.shape[1]! * inner;
        }
        break;
      }
      case 'gemm':
      case 'matmul': {
        const [K, N] = l.op === 'gemm' ? [l.wShape[1], l.wShape[0]] : l.wShape;
        const wt = (k: number, n: number): number => (l.op === 'gemm' ? l.w[n * K + k]! : l.w[k * N + n]!);
        y = zeros([1, N]);
        for (let n = 0; n < N; n++) {
          let s = l.op === 'gemm' ? l.b[n]! : 0;
          for (let k = 0; k < K; k++) s += a.data[k]! * wt(k, n);
          y.data[n] = s;
        }
        break;
      }
    }
    v.set(l.name, y);
  }
  return v;
}

const RELU_LIKE = new Set(['relu', 'maxc', 'minc', 'clip', 'prelu', 'leaky']);

/** The local derivative of a ReLU-like layer at each element. */
function reluDerivative(l: Layer, x: T): Float64Array {
  const hw = size(x.shape.slice(2));
  return x.data.map((q, i) => {
    switch (l.op) {
      case 'relu':
        return q > 0 ? 1 : 0;
      case 'maxc':
        return q > l.c ? 1 : 0;
      case 'minc':
        return q < l.c ? 1 : 0;
      case 'clip':
        return q > l.lo && q < l.hi ? 1 : 0;
      case 'prelu':
        return q > 0 ? 1 : l.slope[Math.floor(i / hw)]!;
      case 'leaky':
        return q > 0 ? 1 : l.alpha;
      default:
        throw new Error('not ReLU-like');
    }
  });
}

export interface RefOptions {
  eps?: number;
  signed?: boolean;
  /** Tensors whose single-consumer chains stop folding (graph outputs). */
  outputs: string[];
}

/** The signal at every tensor for `rule`, started from `seed` at tensor `from`. */
export function backward(net: Net, values: Map<string, T>, rule: BackwardRule, from: string, seed: T, opts: RefOptions): Map<string, T> {
  const eps = opts.eps ?? 1e-12;
  const signed = opts.signed ?? true;
  const layerOf = new Map(net.layers.map((l) => [l.name, l]));
  const consumers = (t: string): Layer[] => net.layers.filter((l) => l.in.includes(t));
  const sig = new Map<string, T>([[from, { shape: seed.shape, data: Float64Array.from(seed.data) }]]);
  const give = (t: string, g: T): void => {
    const cur = sig.get(t);
    if (!cur) sig.set(t, { shape: values.get(t)!.shape, data: Float64Array.from(g.data) });
    else for (let i = 0; i < g.data.length; i++) cur.data[i]! += g.data[i]!;
  };
  const val = (t: string): T => values.get(t)!;

  // Excitation: per-channel constant layers folded into the linear layer before them.
  const folded = new Set<string>();
  const effW = new Map<string, Num>();
  if (rule === 'excitation') {
    for (const l of net.layers) {
      if (l.op !== 'conv' && l.op !== 'gemm' && l.op !== 'matmul') continue;
      const C = l.wShape[l.op === 'matmul' ? 1 : 0];
      const scale = new Array<number>(C).fill(1);
      let cur = l.name;
      for (;;) {
        const cons = consumers(cur);
        if (cons.length !== 1 || opts.outputs.includes(cur)) break;
        const c = cons[0]!;
        if (c.op === 'bn') bnScale(c).forEach((s, i) => (scale[i]! *= s));
        else if (c.op === 'chmul') c.c.forEach((s, i) => (scale[i]! *= s));
        else if (c.op === 'mulc') scale.forEach((_, i) => (scale[i]! *= c.c));
        else if (c.op === 'divc') scale.forEach((_, i) => (scale[i]! /= c.c));
        else if (c.op !== 'chadd' && c.op !== 'addc' && c.op !== 'subc') break;
        folded.add(c.name);
        cur = c.name;
      }
      if (l.op === 'conv') {
        const block = l.w.length / C;
        effW.set(l.name, l.w.map((w, i) => w * scale[Math.floor(i / block)]!));
      } else if (l.op === 'gemm') {
        const K = l.wShape[1];
        effW.set(l.name, l.w.map((w, i) => w * scale[Math.floor(i / K)]!));
      } else effW.set(l.name, l.w.map((w, i) => w * scale[i % C]!));
    }
  }

  /** Excitation's input activation: raw input through layout steps after input normalization, else max(x,0) and (signed) min(x,0). */
  const act = (t: string): { pos: T; neg?: T } => {
    let cur = t;
    let affine = false;
    const chain: Layer[] = [];
    for (;;) {
      const p = layerOf.get(cur);
      if (!p) break;
      if (['transpose', 'reshape', 'flatten', 'pad'].includes(p.op)) chain.push(p);
      else if (['addc', 'subc', 'chadd'].includes(p.op) || (p.op === 'mulc' && p.c > 0) || (p.op === 'divc' && p.c > 0) || (p.op === 'chmul' && p.c.every((q) => q > 0))) affine = true;
      else break;
      cur = p.in[0]!;
    }
    if (affine && cur === net.input.name) {
      let a = map(val(cur), (q) => Math.max(q, 0));
      for (const p of chain.reverse()) a = forward({ input: { name: '_', shape: a.shape }, layers: [{ ...p, in: ['_'] }] }, a).get(p.name)!;
      return { pos: a };
    }
    const x = val(t);
    return { pos: map(x, (q) => Math.max(q, 0)), neg: signed ? map(x, (q) => Math.min(q, 0)) : undefined };
  };

  /** Excitation through a linear map given by its connections (out index, in index, weight). */
  const ebpLinear = (x: string, P: T, links: (fn: (o: number, i: number, w: number) => void) => void, outSize: number, signedW: boolean): void => {
    const a = act(x);
    const z = new Float64Array(outSize);
    links((o, i, w) => {
      z[o]! += w > 0 ? w * a.pos.data[i]! : signedW && a.neg ? w * a.neg.data[i]! : 0;
    });
    const out = zeros(val(x).shape);
    links((o, i, w) => {
      const r = P.data[o]! / (z[o]! + eps);
      out.data[i]! += w > 0 ? a.pos.data[i]! * w * r : signedW && a.neg ? a.neg.data[i]! * w * r : 0;
    });
    give(x, out);
  };

  const isGate = (t: string): boolean => {
    let cur = t;
    for (;;) {
      const p = layerOf.get(cur);
      if (!p) return false;
      if (p.op === 'sigmoid') return true;
      if (!['reshape', 'flatten', 'transpose'].includes(p.op)) return false;
      cur = p.in[0]!;
    }
  };

  for (let k = net.layers.length - 1; k >= 0; k--) {
    const l = net.layers[k]!;
    const gy = sig.get(l.name);
    if (!gy) continue;
    const x = l.in[0]!;
    const xv = val(x);
    if (rule === 'excitation' && folded.has(l.name)) {
      give(x, gy);
      continue;
    }
    if (RELU_LIKE.has(l.op)) {
      const d = reluDerivative(l, xv);
      if (rule === 'gradient') give(x, map(gy, (q, i) => q * d[i]!));
      else if (rule === 'guided') give(x, map(gy, (q, i) => Math.max(q, 0) * d[i]!));
      else if (rule === 'deconvnet') give(x, map(gy, (q) => Math.max(q, 0)));
      else give(x, gy);
      continue;
    }
    switch (l.op) {
      case 'transpose': {
        const inv = new Array<number>(l.perm.length);
        l.perm.forEach((p, i) => (inv[p] = i));
        give(x, transpose(gy, inv));
        break;
      }
      case 'reshape':
      case 'flatten':
        give(x, { shape: xv.shape, data: gy.data });
        break;
      case 'pad': {
        const pi = padIndex(xv.shape, l.pads);
        give(x, map(xv, (_, i) => gy.data[pi.at(i)]!));
        break;
      }
      case 'concat': {
        const inner = size(xv.shape.slice(2));
        let off = 0;
        for (const t of l.in) {
          const n = val(t).data.length;
          give(t, { shape: val(t).shape, data: gy.data.slice(off, off + n) });
          off += n;
          void inner;
        }
        break;
      }
      case 'sigmoid': {
        const y = val(l.name);
        give(x, rule === 'excitation' ? gy : map(gy, (q, i) => q * y.data[i]! * (1 - y.data[i]!)));
        break;
      }
      case 'addc':
      case 'subc':
      case 'chadd':
        give(x, gy);
        break;
      case 'mulc':
      case 'divc':
        give(x, rule === 'excitation' ? gy : map(gy, (q) => (l.op === 'mulc' ? q * l.c : q / l.c)));
        break;
      case 'chmul': {
        if (rule === 'excitation') give(x, gy);
        else give(x, binary(gy, { shape: channelVec(l.c, l.axis, xv.shape.length), data: Float64Array.from(l.c) }, (p, q) => p * q));
        break;
      }
      case 'bn': {
        if (rule === 'excitation') give(x, gy);
        else {
          const s = bnScale(l);
          const hw = size(xv.shape.slice(2));
          give(x, map(gy, (q, i) => q * s[Math.floor(i / hw) % s.length]!));
        }
        break;
      }
      case 'add':
      case 'sub': {
        const [a, b] = [val(l.in[0]!), val(l.in[1]!)];
        if (rule !== 'excitation') {
          give(l.in[0]!, sumTo(gy, b.shape, a.shape, true));
          give(l.in[1]!, sumTo(map(gy, (q) => (l.op === 'sub' ? -q : q)), a.shape, b.shape, false));
        } else {
          const toA: number[] = [];
          const toB: number[] = [];
          broadcast(a.shape, b.shape, (o, ia, ib) => {
            const pa = Math.max(a.data[ia]!, 0);
            const pb = Math.max(l.op === 'sub' ? -b.data[ib]! : b.data[ib]!, 0);
            const share = pa + pb > 0 ? pa / (pa + pb) : 0.5;
            toA[o] = gy.data[o]! * share;
            toB[o] = gy.data[o]! - toA[o]!;
          });
          give(l.in[0]!, sumTo({ shape: gy.shape, data: Float64Array.from(toA) }, b.shape, a.shape, true));
          give(l.in[1]!, sumTo({ shape: gy.shape, data: Float64Array.from(toB) }, a.shape, b.shape, false));
        }
        break;
      }
      case 'mul': {
        const [a, b] = [val(l.in[0]!), val(l.in[1]!)];
        if (rule !== 'excitation') {
          give(l.in[0]!, sumTo(binary(gy, b, (p, q) => p * q), b.shape, a.shape, true));
          give(l.in[1]!, sumTo(binary(gy, a, (p, q) => p * q), a.shape, b.shape, false));
        } else {
          const [ga, gb] = [isGate(l.in[0]!), isGate(l.in[1]!)];
          let target: number;
          if (ga !== gb) target = ga ? 1 : 0;
          else if (a.data.length !== b.data.length) target = a.data.length > b.data.length ? 0 : 1;
          else throw new Error('reference: same-size activation products are not modelled');
          const other = target === 0 ? b : a;
          const t = target === 0 ? a : b;
          give(l.in[target]!, sumTo(gy, other.shape, t.shape, target === 0));
        }
        break;
      }
      case 'conv': {
        const g = convGeom(l, xv.shape);
        if (rule === 'excitation') ebpLinear(x, gy, (fn) => convLinks(g, (o, i, w) => fn(o, i, effW.get(l.name)![w]!)), gy.data.length, true);
        else {
          const out = zeros(xv.shape);
          convLinks(g, (o, i, w) => (out.data[i]! += gy.data[o]! * l.w[w]!));
          give(x, out);
        }
        break;
      }
      case 'gemm':
      case 'matmul': {
        const [K, N] = l.op === 'gemm' ? [l.wShape[1], l.wShape[0]] : l.wShape;
        const w = rule === 'excitation' ? effW.get(l.name)! : l.w;
        const links = (fn: (o: number, i: number, wt: number) => void): void => {
          for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) fn(n, kk, l.op === 'gemm' ? w[n * K + kk]! : w[kk * N + n]!);
        };
        if (rule === 'excitation') ebpLinear(x, gy, links, N, true);
        else {
          const out = zeros(xv.shape);
          links((o, i, wt) => (out.data[i]! += gy.data[o]! * wt));
          give(x, out);
        }
        break;
      }
      case 'maxpool': {
        const out = zeros(xv.shape);
        poolWindows(l, poolGeom(l, xv.shape), (o, ins) => {
          let best = ins[0]!;
          for (const i of ins) if (xv.data[i]! > xv.data[best]!) best = i;
          out.data[best]! += gy.data[o]!;
        });
        give(x, out);
        break;
      }
      case 'avgpool': {
        const kk = l.k[0]! * l.k[1]!;
        const links = (fn: (o: number, i: number, w: number) => void): void =>
          poolWindows(l, poolGeom(l, xv.shape), (o, ins) => ins.forEach((i) => fn(o, i, 1 / (l.includePad ? kk : ins.length))));
        if (rule === 'excitation') ebpLinear(x, gy, links, gy.data.length, false);
        else {
          const out = zeros(xv.shape);
          links((o, i, w) => (out.data[i]! += gy.data[o]! * w));
          give(x, out);
        }
        break;
      }
      case 'gap':
      case 'reducemean': {
        const hw = size(xv.shape.slice(2));
        const links = (fn: (o: number, i: number, w: number) => void): void => {
          for (let i = 0; i < xv.data.length; i++) fn(Math.floor(i / hw), i, 1 / hw);
        };
        if (rule === 'excitation') ebpLinear(x, gy, links, gy.data.length, false);
        else {
          const out = zeros(xv.shape);
          links((o, i, w) => (out.data[i]! += gy.data[o]! * w));
          give(x, out);
        }
        break;
      }
      default:
        throw new Error(`reference: no backward for ${l.op}`);
    }
  }
  return sig;
}

/** The same network as an ONNX model (batch dynamic), one node per layer; `outputs` become graph outputs. */
export function toOnnx(net: Net, outputs: string[], opset = 13): Uint8Array {
  const g = new GraphBuilder('reference_net');
  const [, H, W, C] = net.input.shape as [number, number, number, number];
  g.input(net.input.name, 'float32', ['batch', H, W, C]);
  for (const o of outputs) g.reserve(o);
  const f32 = (hint: string, v: Num, dims: Num): string => g.initializer(hint, Float32Array.from(v), dims, 'float32');
  for (const l of net.layers) {
    const x = l.in[0]!;
    const n = l.name;
    const one = (op: string, ins: string[], attrs = {}): void => void g.node(op, ins, n, attrs, [n]);
    switch (l.op) {
      case 'transpose':
        one('Transpose', [x], { perm: l.perm });
        break;
      case 'conv': {
        const ins = [x, f32(`${n}/w`, l.w, l.wShape)];
        if (l.b) ins.push(f32(`${n}/b`, l.b, [l.b.length]));
        one('Conv', ins, {
          group: l.group ?? 1,
          kernel_shape: [l.wShape[2], l.wShape[3]],
          strides: { ints: l.strides ?? [1, 1] },
          dilations: { ints: l.dil ?? [1, 1] },
          ...(l.same ? { auto_pad: 'SAME_UPPER' } : { pads: { ints: l.pads ?? [0, 0, 0, 0] } }),
        });
        break;
      }
      case 'relu':
        one('Relu', [x]);
        break;
      case 'sigmoid':
        one('Sigmoid', [x]);
        break;
      case 'maxc':
        one('Max', [x, f32(`${n}/c`, [l.c], [])]);
        break;
      case 'minc':
        one('Min', [f32(`${n}/c`, [l.c], []), x]);
        break;
      case 'clip':
        one('Clip', [x, f32(`${n}/lo`, [l.lo], []), f32(`${n}/hi`, [l.hi], [])]);
        break;
      case 'addc':
      case 'subc':
      case 'mulc':
      case 'divc':
        one({ addc: 'Add', subc: 'Sub', mulc: 'Mul', divc: 'Div' }[l.op], [x, f32(`${n}/c`, [l.c], [1])]);
        break;
      case 'prelu':
        one('PRelu', [x, f32(`${n}/slope`, l.slope, [l.slope.length, 1, 1])]);
        break;
      case 'leaky':
        one('LeakyRelu', [x], { alpha: { float: l.alpha } });
        break;
      case 'bn': {
        const C2 = l.gamma.length;
        one('BatchNormalization', [x, f32(`${n}/gamma`, l.gamma, [C2]), f32(`${n}/beta`, l.beta, [C2]), f32(`${n}/mean`, l.mean, [C2]), f32(`${n}/var`, l.variance, [C2])], {
          epsilon: { float: l.eps },
        });
        break;
      }
      case 'chmul':
      case 'chadd': {
        const dims = l.axis === 1 ? [1, l.c.length, 1, 1] : [l.c.length];
        one(l.op === 'chmul' ? 'Mul' : 'Add', [x, f32(`${n}/c`, l.c, dims)]);
        break;
      }
      case 'add':
        one('Add', l.in);
        break;
      case 'sub':
        one('Sub', l.in);
        break;
      case 'mul':
        one('Mul', l.in);
        break;
      case 'maxpool':
        one('MaxPool', [x], { kernel_shape: l.k, strides: { ints: l.strides }, pads: { ints: l.pads } });
        break;
      case 'avgpool':
        one('AveragePool', [x], { kernel_shape: l.k, strides: { ints: l.strides }, pads: { ints: l.pads }, count_include_pad: l.includePad ? 1 : 0 });
        break;
      case 'gap':
        one('GlobalAveragePool', [x]);
        break;
      case 'reducemean':
        one('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
        break;
      case 'pad':
        one('Pad', [x, g.int64s(`${n}/pads`, l.pads)]);
        break;
      case 'reshape':
        one('Reshape', [x, g.int64s(`${n}/shape`, [0, ...l.shape.slice(1)])]);
        break;
      case 'flatten':
        one('Flatten', [x], { axis: 1 });
        break;
      case 'concat':
        one('Concat', l.in, { axis: 1 });
        break;
      case 'gemm':
        one('Gemm', [x, f32(`${n}/w`, l.w, l.wShape), f32(`${n}/b`, l.b, [l.b.length])], { transB: 1 });
        break;
      case 'matmul':
        one('MatMul', [x, f32(`${n}/w`, l.w, l.wShape)]);
        break;
    }
  }
  for (const o of outputs) g.output(o, 'float32');
  return g.toBytes({ producer: 'facet-test', version: '1', opset });
}

/** Seeded uniform numbers in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0 || 1;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s + 0.5) / 2 ** 32) * (hi - lo);
  };
}
