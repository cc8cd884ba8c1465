/**
 * TF.js graph model (model.json + weights) -> ONNX (opset 13).
 *
 * TF graphs are NHWC; ONNX convolutions are NCHW. Each converted tensor carries its layout:
 * convolution-family ops produce NCHW, ops whose meaning depends on axis order (Reshape,
 * StridedSlice, MatMul, ...) get NHWC ("plain") inputs, and elementwise ops keep whatever their
 * inputs have, adapting constant operands. Transposes are inserted only at layout changes and
 * cached, so a chain of convs runs without any.
 *
 * Unsupported ops fail loudly with the op's name and node.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphBuilder, type Dim } from '../../../src/main/engine/onnx/builder';
import { loadWeights, type Tensor, type WeightGroup } from './weights';

interface TfAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: string[]; s?: string[]; f?: number[] };
  shape?: { dim?: { size: string }[] };
  tensor?: { dtype: string; tensorShape?: { dim?: { size: string }[] } };
}

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: WeightGroup[];
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
}

type Layout = 'nchw' | 'plain';
interface Value {
  name: string;
  layout: Layout;
  /** Rank when known (activations of 4D convs are 4). */
  rank?: number;
  /** Set when the value is a TF constant (kept for ops that need it at conversion time). */
  constant?: Tensor;
}

export interface ConvertOptions {
  /** ONNX names for the graph's outputs, keyed by TF tensor name (e.g. 'global_pooling/Mean'). */
  outputs: { tf: string; onnx: string; layout?: Layout }[];
  /** ONNX name of the single input. */
  inputName?: string;
  graphName: string;
}

const decode = (s?: string): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
const ints = (a?: TfAttr): number[] => (a?.list?.i ?? []).map(Number);

export class UnsupportedOpError extends Error {
  constructor(op: string, node: string, why = '') {
    super(`Unsupported TF op ${op} (node ${node})${why ? `: ${why}` : ''}`);
    this.name = 'UnsupportedOpError';
  }
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** NHWC axis -> NCHW axis. */
const AXIS_TO_NCHW = [0, 2, 3, 1];

export function readTfjsModel(modelJsonPath: string): { json: TfjsModelJson; weights: Map<string, Tensor> } {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as TfjsModelJson;
  return { json, weights: loadWeights(json.weightsManifest, path.dirname(modelJsonPath)) };
}

export function convertTfjsGraph(json: TfjsModelJson, weights: Map<string, Tensor>, options: ConvertOptions): GraphBuilder {
  const g = new GraphBuilder(options.graphName);
  for (const o of options.outputs) g.reserve(o.onnx);
  const nodes = new Map(json.modelTopology.node.map((n) => [n.name, n]));
  const values = new Map<string, Value>();
  const layoutCache = new Map<string, string>();

  const placeholders = json.modelTopology.node.filter((n) => n.op === 'Placeholder');
  if (placeholders.length !== 1) throw new Error(`expected one input, found ${placeholders.length}`);
  const ph = placeholders[0] as TfNode;
  const phDims = (ph.attr?.['shape']?.shape?.dim ?? []).map((d) => Number(d.size));
  const inputName = options.inputName ?? 'image';
  g.input(inputName, 'float32', phDims.map((d, i): Dim => (d < 0 ? (i === 0 ? 'batch' : `d${i}`) : d)));
  values.set(ph.name, { name: inputName, layout: 'plain', rank: phDims.length });

  const tfName = (ref: string): string => ref.replace(/^\^/, '').replace(/:0$/, '');

  const constOf = (ref: string): Tensor | undefined => {
    const n = nodes.get(tfName(ref));
    if (n?.op !== 'Const') return undefined;
    const t = weights.get(n.name);
    if (!t) throw new Error(`no weights for constant ${n.name}`);
    return t;
  };

  const toLayout = (v: Value, want: Layout): string => {
    if (v.layout === want || v.rank !== 4) return v.name;
    const key = `${v.name}->${want}`;
    const hit = layoutCache.get(key);
    if (hit) return hit;
    const out = g.op('Transpose', [v.name], `${v.name}/${want}`, { perm: want === 'nchw' ? NHWC_TO_NCHW : NCHW_TO_NHWC });
    layoutCache.set(key, out);
    return out;
  };

  /** A constant as an initializer, rearranged to broadcast against a tensor in `layout`. */
  const constInit = (hint: string, t: Tensor, layout: Layout): string => {
    if (t.dtype === 'int32') return g.initializer(hint, BigInt64Array.from(Array.from(t.data), (v) => BigInt(v)), t.shape, 'int64');
    if (layout === 'plain' || t.shape.length === 0) return g.initializer(hint, t.data as Float32Array, t.shape);
    // Pad to rank 4 on the left (NHWC broadcasting), then transpose to NCHW.
    const shape = [...Array(4 - t.shape.length).fill(1), ...t.shape] as [number, number, number, number];
    const [n, h, w, c] = shape;
    const out = new Float32Array(t.data.length);
    for (let a = 0; a < n; a++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < c; k++) out[((a * c + k) * h + y) * w + x] = t.data[((a * h + y) * w + x) * c + k] as number;
    return g.initializer(hint, out, [n, c, h, w]);
  };

  const value = (ref: string, consumer: string): Value => {
    const name = tfName(ref);
    const v = values.get(name);
    if (v) return v;
    const t = constOf(name);
    if (t) return { name: '', layout: 'plain', rank: t.shape.length, constant: t };
    throw new Error(`input ${ref} of ${consumer} is not converted yet (graph order or unsupported producer)`);
  };

  /** Operand as an ONNX name in `layout`, materializing constants as needed. */
  const operand = (v: Value, layout: Layout, hint: string): string =>
    v.constant ? constInit(hint, v.constant, layout) : toLayout(v, layout);

  const hwioToOihw = (t: Tensor): Float32Array => {
    const [kh, kw, ci, co] = t.shape as [number, number, number, number];
    const out = new Float32Array(t.data.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = t.data[((y * kw + x) * ci + i) * co + o] as number;
    return out;
  };

  const convPads = (n: TfNode): Record<string, number[] | string> => {
    const padding = decode(n.attr?.['padding']?.s);
    if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
    if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
    if (padding === 'EXPLICIT') {
      const p = ints(n.attr?.['explicit_paddings']); // NHWC pairs
      return { pads: [p[2] ?? 0, p[4] ?? 0, p[3] ?? 0, p[5] ?? 0] };
    }
    throw new UnsupportedOpError(n.op, n.name, `padding ${padding}`);
  };

  const checkNhwc = (n: TfNode): void => {
    const fmt = decode(n.attr?.['data_format']?.s) || 'NHWC';
    if (fmt !== 'NHWC') throw new UnsupportedOpError(n.op, n.name, `data_format ${fmt}`);
  };

  const set = (n: TfNode, name: string, layout: Layout, rank?: number): void => {
    values.set(n.name, { name, layout, rank });
  };

  /** Applies TF fused ops (BiasAdd, Relu, Relu6, Prelu, ...) after a conv or matmul. */
  const applyFused = (n: TfNode, x: string, layout: Layout, extra: string[]): string => {
    const fused = (n.attr?.['fused_ops']?.list?.s ?? []).map(decode);
    let out = x;
    let k = 0;
    for (const f of fused) {
      if (f === 'BiasAdd') {
        const b = constOf(extra[k++] as string);
        if (!b) throw new UnsupportedOpError(n.op, n.name, 'non-constant bias');
        out = g.op('Add', [out, constInit(`${n.name}/bias`, b, layout)], `${n.name}/bias_add`);
      } else if (f === 'Relu') out = g.op('Relu', [out], `${n.name}/relu`);
      else if (f === 'Relu6') out = clip(out, 0, 6, `${n.name}/relu6`);
      else if (f === 'Prelu') {
        const a = constOf(extra[k++] as string);
        if (!a) throw new UnsupportedOpError(n.op, n.name, 'non-constant prelu alpha');
        out = g.op('PRelu', [out, constInit(`${n.name}/alpha`, a, layout)], `${n.name}/prelu`);
      } else if (f === 'Elu') out = g.op('Elu', [out], `${n.name}/elu`);
      else throw new UnsupportedOpError(n.op, n.name, `fused op ${f}`);
    }
    return out;
  };

  const clip = (x: string, lo: number, hi: number, hint: string): string =>
    g.op('Clip', [x, g.scalar(`${hint}/min`, lo), g.scalar(`${hint}/max`, hi)], hint);

  const binary = (n: TfNode, onnxOp: string): void => {
    const [a, b] = (n.input ?? []).map((r) => value(r, n.name)) as [Value, Value];
    // Activations decide the layout; a 4D NCHW activation wins over a plain one.
    const acts = [a, b].filter((v) => !v.constant);
    const layout: Layout = acts.some((v) => v.layout === 'nchw' && v.rank === 4) && acts.every((v) => v.rank === 4 || v.layout === 'nchw')
      ? 'nchw'
      : 'plain';
    const out = g.op(onnxOp, [operand(a, layout, `${n.name}/a`), operand(b, layout, `${n.name}/b`)], n.name);
    set(n, out, layout, Math.max(a.rank ?? 0, b.rank ?? 0) || undefined);
  };

  const unary = (n: TfNode, build: (x: string) => string): void => {
    const v = value((n.input ?? [])[0] as string, n.name);
    set(n, build(operand(v, v.layout, `${n.name}/x`)), v.layout, v.rank);
  };

  for (const n of json.modelTopology.node) {
    if (n.op === 'Const' || n.op === 'Placeholder' || n.op === 'NoOp') continue;
    const inputs = (n.input ?? []).filter((r) => !r.startsWith('^'));
    switch (n.op) {
      case 'Identity':
      case 'StopGradient': {
        const v = value(inputs[0] as string, n.name);
        values.set(n.name, v);
        break;
      }
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        checkNhwc(n);
        const x = value(inputs[0] as string, n.name);
        const w = constOf(inputs[1] as string);
        if (!w) throw new UnsupportedOpError(n.op, n.name, 'non-constant filter');
        const depthwise = n.op.includes('Depthwise');
        const strides = ints(n.attr?.['strides']);
        const dil = ints(n.attr?.['dilations']);
        const [kh, kw, ci, mult] = w.shape as [number, number, number, number];
        let weight: string;
        let group = 1;
        if (depthwise) {
          // TF depthwise [kh, kw, C, M] -> ONNX grouped conv [C*M, 1, kh, kw], group C.
          const out = new Float32Array(w.data.length);
          for (let y = 0; y < kh; y++)
            for (let xx = 0; xx < kw; xx++)
              for (let c = 0; c < ci; c++)
                for (let m = 0; m < mult; m++) out[((c * mult + m) * kh + y) * kw + xx] = w.data[((y * kw + xx) * ci + c) * mult + m] as number;
          weight = g.initializer(`${n.name}/weight`, out, [ci * mult, 1, kh, kw]);
          group = ci;
        } else {
          weight = g.initializer(`${n.name}/weight`, hwioToOihw(w), [mult, ci, kh, kw]);
        }
        const conv = g.op('Conv', [toLayout(x, 'nchw'), weight], n.name, {
          group,
          kernel_shape: [kh, kw],
          strides: [strides[1] ?? 1, strides[2] ?? 1],
          dilations: [dil[1] ?? 1, dil[2] ?? 1],
          ...convPads(n),
        });
        set(n, n.op.startsWith('_') || n.op.startsWith('Fused') ? applyFused(n, conv, 'nchw', inputs.slice(2)) : conv, 'nchw', 4);
        break;
      }
      case 'Conv2DBackpropInput': {
        checkNhwc(n);
        const outShape = constOf(inputs[0] as string);
        const w = constOf(inputs[1] as string);
        const x = value(inputs[2] as string, n.name);
        if (!outShape || !w) throw new UnsupportedOpError(n.op, n.name, 'non-constant output shape or filter');
        const [kh, kw, co, ci] = w.shape as [number, number, number, number];
        const [, oh, ow] = Array.from(outShape.data) as [number, number, number, number];
        const strides = ints(n.attr?.['strides']);
        const [sh, sw] = [strides[1] ?? 1, strides[2] ?? 1];
        const padding = decode(n.attr?.['padding']?.s);
        // ONNX ConvTranspose weight is [in, out, kh, kw]; TF's is [kh, kw, out, in].
        const weight = new Float32Array(w.data.length);
        for (let y = 0; y < kh; y++)
          for (let xx = 0; xx < kw; xx++)
            for (let o = 0; o < co; o++)
              for (let i = 0; i < ci; i++) weight[((i * co + o) * kh + y) * kw + xx] = w.data[((y * kw + xx) * co + o) * ci + i] as number;
        const pads = [0, 0, 0, 0];
        if (padding === 'SAME') {
          const ih = Math.ceil(oh / sh);
          const iw = Math.ceil(ow / sw);
          const th = Math.max((ih - 1) * sh + kh - oh, 0);
          const tw = Math.max((iw - 1) * sw + kw - ow, 0);
          pads.splice(0, 4, Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2));
        } else if (padding !== 'VALID') throw new UnsupportedOpError(n.op, n.name, `padding ${padding}`);
        const out = g.op('ConvTranspose', [toLayout(x, 'nchw'), g.initializer(`${n.name}/weight`, weight, [ci, co, kh, kw])], n.name, {
          kernel_shape: [kh, kw],
          strides: [sh, sw],
          pads,
          output_shape: [oh, ow],
        });
        set(n, out, 'nchw', 4);
        break;
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2':
        binary(n, 'Add');
        break;
      case 'Sub':
        binary(n, 'Sub');
        break;
      case 'Mul':
        binary(n, 'Mul');
        break;
      case 'RealDiv':
        binary(n, 'Div');
        break;
      case 'Minimum':
        binary(n, 'Min');
        break;
      case 'Maximum':
        binary(n, 'Max');
        break;
      case 'SquaredDifference': {
        binary(n, 'Sub');
        const v = values.get(n.name) as Value;
        set(n, g.op('Mul', [v.name, v.name], `${n.name}/sq`), v.layout, v.rank);
        break;
      }
      case 'AddN': {
      const vs = inputs.map((r) => value(r, n.name));
        const layout: Layout = vs.some((v) => v.layout === 'nchw') ? 'nchw' : 'plain';
        const out = g.op('Sum', vs.map((v, i) => operand(v, layout, `${n.name}/${i}`)), n.name);
        set(n, out, layout, vs[0]?.rank);
        break;
      }
      case 'Relu':
        unary(n, (x) => g.op('Relu', [x], n.name));
        break;
      case 'Relu6':
        unary(n, (x) => clip(x, 0, 6, n.name));
        break;
      case 'Sigmoid':
        unary(n, (x) => g.op('Sigmoid', [x], n.name));
        break;
      case 'Tanh':
        unary(n, (x) => g.op('Tanh', [x], n.name));
        break;
      case 'Abs':
        unary(n, (x) => g.op('Abs', [x], n.name));
        break;
      case 'Square':
        unary(n, (x) => g.op('Mul', [x, x], n.name));
        break;
      case 'Rsqrt':
        unary(n, (x) => g.op('Reciprocal', [g.op('Sqrt', [x], `${n.name}/sqrt`)], n.name));
        break;
      case 'Elu':
        unary(n, (x) => g.op('Elu', [x], n.name));
        break;
      case 'Prelu': {
        const x = value(inputs[0] as string, n.name);
        const a = constOf(inputs[1] as string);
        if (!a) throw new UnsupportedOpError(n.op, n.name, 'non-constant alpha');
        set(n, g.op('PRelu', [operand(x, x.layout, `${n.name}/x`), constInit(`${n.name}/alpha`, a, x.layout)], n.name), x.layout, x.rank);
        break;
      }
      case 'MaxPool':
      case 'AvgPool': {
        checkNhwc(n);
        const x = value(inputs[0] as string, n.name);
        const k = ints(n.attr?.['ksize']);
        const s = ints(n.attr?.['strides']);
        const out = g.op(n.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [toLayout(x, 'nchw')], n.name, {
          kernel_shape: [k[1] ?? 1, k[2] ?? 1],
          strides: [s[1] ?? 1, s[2] ?? 1],
          ...convPads(n),
        });
        set(n, out, 'nchw', 4);
        break;
      }
      case 'Pad':
      case 'PadV2': {
        const x = value(inputs[0] as string, n.name);
        const p = constOf(inputs[1] as string);
        if (!p) throw new UnsupportedOpError(n.op, n.name, 'non-constant paddings');
        const pairs = Array.from(p.data);
        const rank = pairs.length / 2;
        let layout: Layout = 'plain';
        let begin = pairs.filter((_, i) => i % 2 === 0);
        let end = pairs.filter((_, i) => i % 2 === 1);
        if (rank === 4 && x.layout === 'nchw') {
          layout = 'nchw';
          // NCHW axis i is NHWC axis NHWC_TO_NCHW[i].
          const b0 = begin;
          const e0 = end;
          begin = NHWC_TO_NCHW.map((a) => b0[a] as number);
          end = NHWC_TO_NCHW.map((a) => e0[a] as number);
        }
        const args = [operand(x, layout, `${n.name}/x`), g.int64s(`${n.name}/pads`, [...begin, ...end])];
        if (n.op === 'PadV2') {
          const c = constOf(inputs[2] as string);
          args.push(g.scalar(`${n.name}/value`, c ? (c.data[0] as number) : 0));
        }
        set(n, g.op('Pad', args, n.name, { mode: 'constant' }), layout, rank);
        break;
      }
      case 'Mean':
      case 'Sum':
      case 'Max': {
        const x = value(inputs[0] as string, n.name);
        const axesT = constOf(inputs[1] as string);
        if (!axesT) throw new UnsupportedOpError(n.op, n.name, 'non-constant axes');
        const rank = x.rank ?? 4;
        const axes = Array.from(axesT.data).map((a) => (a < 0 ? a + rank : a));
        const keep = n.attr?.['keep_dims']?.b ?? false;
        const onnxOp = n.op === 'Mean' ? 'ReduceMean' : n.op === 'Sum' ? 'ReduceSum' : 'ReduceMax';
        const spatial = axes.length === 2 && axes.includes(1) && axes.includes(2);
        // Opset 13: ReduceSum takes its axes as an input; ReduceMean and ReduceMax as an attribute.
        const reduce = (input: string, ax: number[]): string =>
          onnxOp === 'ReduceSum'
            ? g.op(onnxOp, [input, g.int64s(`${n.name}/axes`, ax)], n.name, { keepdims: keep ? 1 : 0 })
            : g.op(onnxOp, [input], n.name, { axes: ax, keepdims: keep ? 1 : 0 });
        if (x.layout === 'nchw' && rank === 4 && (keep || spatial)) {
          const out = reduce(x.name, axes.map((a) => AXIS_TO_NCHW[a] as number).sort());
          set(n, out, keep ? 'nchw' : 'plain', keep ? 4 : rank - axes.length);
        } else {
          const out = reduce(operand(x, 'plain', `${n.name}/x`), axes);
          set(n, out, 'plain', keep ? rank : rank - axes.length);
        }
        break;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const a = value(inputs[0] as string, n.name);
        const b = value(inputs[1] as string, n.name);
        if (n.attr?.['transpose_a']?.b || n.attr?.['transpose_b']?.b) throw new UnsupportedOpError(n.op, n.name, 'transposed operands');
        const mm = g.op('MatMul', [operand(a, 'plain', `${n.name}/a`), operand(b, 'plain', `${n.name}/b`)], n.name);
        set(n, n.op === '_FusedMatMul' ? applyFused(n, mm, 'plain', inputs.slice(2)) : mm, 'plain', 2);
        break;
      }
      case 'Reshape': {
        const x = value(inputs[0] as string, n.name);
        const shapeConst = constOf(inputs[1] as string);
        const shape = shapeConst ? g.int64s(`${n.name}/shape`, Array.from(shapeConst.data)) : value(inputs[1] as string, n.name).name;
        set(n, g.op('Reshape', [operand(x, 'plain', `${n.name}/x`), shape], n.name), 'plain', shapeConst?.data.length);
        break;
      }
      case 'Squeeze': {
        const x = value(inputs[0] as string, n.name);
        const dims = ints(n.attr?.['squeeze_dims'] ?? n.attr?.['axis']);
        const args = [operand(x, 'plain', `${n.name}/x`)];
        if (dims.length) args.push(g.int64s(`${n.name}/axes`, dims));
        set(n, g.op('Squeeze', args, n.name), 'plain', x.rank !== undefined ? x.rank - (dims.length || 0) : undefined);
        break;
      }
      case 'ConcatV2': {
        const parts = inputs.slice(0, -1).map((r) => value(r, n.name));
        const axisT = constOf(inputs[inputs.length - 1] as string);
        if (!axisT) throw new UnsupportedOpError(n.op, n.name, 'non-constant axis');
        const rank = parts.find((p) => p.rank)?.rank ?? 4;
        let axis = axisT.data[0] as number;
        if (axis < 0) axis += rank;
        const allFour = parts.every((p) => p.rank === 4 || p.constant?.shape.length === 4);
        const layout: Layout = allFour && parts.some((p) => p.layout === 'nchw') ? 'nchw' : 'plain';
        const out = g.op('Concat', parts.map((p, i) => operand(p, layout, `${n.name}/${i}`)), n.name, {
          axis: layout === 'nchw' ? (AXIS_TO_NCHW[axis] as number) : axis,
        });
        set(n, out, layout, rank);
        break;
      }
      case 'Softmax': {
        const x = value(inputs[0] as string, n.name);
        set(n, g.op('Softmax', [operand(x, 'plain', `${n.name}/x`)], n.name, { axis: -1 }), 'plain', x.rank);
        break;
      }
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor': {
        const x = value(inputs[0] as string, n.name);
        const size = constOf(inputs[1] as string);
        if (!size) throw new UnsupportedOpError(n.op, n.name, 'non-constant size');
        const align = n.attr?.['align_corners']?.b ?? false;
        const half = n.attr?.['half_pixel_centers']?.b ?? false;
        const xn = toLayout(x, 'nchw');
        const nc = g.op('Slice', [g.op('Shape', [xn], `${n.name}/shape`), g.int64s(`${n.name}/s0`, [0]), g.int64s(`${n.name}/s1`, [2])], `${n.name}/nc`);
        const sizes = g.op('Concat', [nc, g.int64s(`${n.name}/hw`, Array.from(size.data))], `${n.name}/sizes`, { axis: 0 });
        const nearest = n.op === 'ResizeNearestNeighbor';
        const out = g.op('Resize', [xn, '', '', sizes], n.name, {
          mode: nearest ? 'nearest' : 'linear',
          coordinate_transformation_mode: align ? 'align_corners' : half ? (nearest ? 'tf_half_pixel_for_nn' : 'half_pixel') : 'asymmetric',
          ...(nearest ? { nearest_mode: align ? 'round_prefer_ceil' : 'floor' } : {}),
        });
        set(n, out, 'nchw', 4);
        break;
      }
      case 'DepthToSpace': {
        checkNhwc(n);
        const x = value(inputs[0] as string, n.name);
        const bs = Number(n.attr?.['block_size']?.i ?? 2);
        // TF's NHWC depth_to_space orders channels as ONNX's DCR mode does in NCHW.
        set(n, g.op('DepthToSpace', [toLayout(x, 'nchw')], n.name, { blocksize: bs, mode: 'DCR' }), 'nchw', 4);
        break;
      }
      case 'Shape': {
        const x = value(inputs[0] as string, n.name);
        set(n, g.op('Shape', [operand(x, 'plain', `${n.name}/x`)], n.name), 'plain', 1);
        break;
      }
      case 'StridedSlice': {
        const x = value(inputs[0] as string, n.name);
        const [b, e, s] = [1, 2, 3].map((i) => constOf(inputs[i] as string));
        if (!b || !e || !s) throw new UnsupportedOpError(n.op, n.name, 'non-constant slice bounds');
        const bm = Number(n.attr?.['begin_mask']?.i ?? 0);
        const em = Number(n.attr?.['end_mask']?.i ?? 0);
        const sm = Number(n.attr?.['shrink_axis_mask']?.i ?? 0);
        if (Number(n.attr?.['ellipsis_mask']?.i ?? 0) || Number(n.attr?.['new_axis_mask']?.i ?? 0)) {
          throw new UnsupportedOpError(n.op, n.name, 'ellipsis/new-axis masks');
        }
        const big = 2 ** 31 - 1;
        const begins = Array.from(b.data).map((v, i) => (bm & (1 << i) ? 0 : v));
        const ends = Array.from(e.data).map((v, i) => (sm & (1 << i) ? (begins[i] as number) + 1 : em & (1 << i) ? big : v));
        const axes = begins.map((_, i) => i);
        let out = g.op('Slice', [
          operand(x, 'plain', `${n.name}/x`),
          g.int64s(`${n.name}/b`, begins),
          g.int64s(`${n.name}/e`, ends),
          g.int64s(`${n.name}/axes`, axes),
          g.int64s(`${n.name}/s`, Array.from(s.data)),
        ], `${n.name}/slice`);
        const shrink = axes.filter((i) => sm & (1 << i));
        if (shrink.length) out = g.op('Squeeze', [out, g.int64s(`${n.name}/sq`, shrink)], n.name);
        set(n, out, 'plain', x.rank !== undefined ? x.rank - shrink.length : undefined);
        break;
      }
      case 'Pack': {
        const parts = inputs.map((r) => value(r, n.name));
        const axis = Number(n.attr?.['axis']?.i ?? 0);
        const unsq = parts.map((p, i) =>
          g.op('Unsqueeze', [p.constant ? constInit(`${n.name}/c${i}`, p.constant, 'plain') : operand(p, 'plain', `${n.name}/${i}`), g.int64s(`${n.name}/ax${i}`, [axis])], `${n.name}/u${i}`),
        );
        set(n, g.op('Concat', unsq, n.name, { axis }), 'plain', (parts[0]?.rank ?? 0) + 1);
        break;
      }
      default:
        throw new UnsupportedOpError(n.op, n.name);
    }
  }

  for (const o of options.outputs) {
    const v = values.get(tfName(o.tf));
    if (!v) throw new Error(`output ${o.tf} is not in the graph`);
    const src = toLayout(v, o.layout ?? 'plain');
    g.node('Identity', [src], `${o.onnx}/out`, {}, [o.onnx]);
    g.output(o.onnx, 'float32');
  }
  return g;
}
