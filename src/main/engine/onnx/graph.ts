/**
 * Reading an existing ONNX model: decoding, attributes, constant tensors, and a probe run that
 * gives every tensor's batch-1 shape (and the values of those that do not depend on the inputs).
 */
import * as ort from 'onnxruntime-node';
import { onnx } from './builder';
import type { onnx as OnnxNs } from 'onnx-proto';

export type NodeProto = OnnxNs.INodeProto;
export type ModelProto = OnnxNs.IModelProto;

/** A decoded tensor: float data as Float32Array, integer data as plain numbers. */
export interface Tensor {
  dims: number[];
  data: Float32Array | number[];
}

const DT = onnx.TensorProto.DataType;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** protobufjs hands 64-bit integers back as Long objects (or numbers when small). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function tensorOf(t: OnnxNs.ITensorProto): Tensor {
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (t.dataType) {
    case DT.FLOAT: {
      let out = new Float32Array(count);
      // Little-endian hosts can copy aligned raw bytes as they are (what every x86/ARM host is).
      if (raw && raw.byteOffset % 4 === 0 && LITTLE_ENDIAN) out = new Float32Array(raw.buffer, raw.byteOffset, count).slice();
      else if (view) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      else out.set(t.floatData ?? []);
      return { dims, data: out };
    }
    case DT.DOUBLE: {
      const out = new Float32Array(count);
      if (view) for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      else out.set(t.doubleData ?? []);
      return { dims, data: out };
    }
    case DT.INT64: {
      const out: number[] = [];
      if (view) for (let i = 0; i < count; i++) out.push(Number(view.getBigInt64(i * 8, true)));
      else for (const v of t.int64Data ?? []) out.push(num(v));
      return { dims, data: out };
    }
    case DT.INT32: {
      const out: number[] = [];
      if (view) for (let i = 0; i < count; i++) out.push(view.getInt32(i * 4, true));
      else for (const v of t.int32Data ?? []) out.push(v);
      return { dims, data: out };
    }
    default:
      throw new Error(`tensor ${t.name}: data type ${t.dataType} is not supported here`);
  }
}

export function attr(node: NodeProto, name: string): OnnxNs.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? num(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

/** Default-domain opset of a model. */
export function opsetOf(model: ModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return o ? num(o.version) : 1;
}

export interface Probe {
  shapes: Map<string, number[]>;
  /** Values of every float/int tensor the probe returned (batch 1, zero inputs). */
  values: Map<string, Tensor>;
}

/**
 * Runs `model` once on CPU with zero inputs of batch 1 (symbolic dimensions set to 1). Every
 * intermediate tensor's shape comes back through an added Shape node (copying every activation
 * out of onnxruntime would cost seconds for a 224x224 recognizer); the values come back only for
 * tensors computed from constants alone.
 */
export async function probeModel(model: ModelProto): Promise<Probe> {
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const realInputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model as OnnxNs.ModelProto).finish());
  const g = copy.graph!;
  const constant = new Set<string>([...inits].filter((n): n is string => !!n));
  const names = new Set<string>();
  for (const t of realInputs) names.add(t.name!);
  for (const n of graph.node ?? []) {
    const isConst = (n.input ?? []).filter(Boolean).every((i) => constant.has(i)) && !n.opType!.startsWith('Random');
    for (const o of n.output ?? []) {
      if (!o) continue;
      names.add(o);
      if (isConst) constant.add(o);
    }
  }
  const shapeOf = new Map<string, string>();
  const outputs: string[] = [];
  let k = 0;
  for (const name of names) {
    const s = `__probe_shape_${k++}`;
    shapeOf.set(name, s);
    (g.node ??= []).push(onnx.NodeProto.create({ opType: 'Shape', input: [name], output: [s], name: s }));
    outputs.push(s);
    if (constant.has(name)) outputs.push(name);
  }
  // Outputs without a type: onnxruntime infers them.
  g.output = outputs.map((name) => onnx.ValueInfoProto.create({ name }));
  // One run: optimizing the graph would cost more than it saves.
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(copy).finish(), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const i of realInputs) {
      const tt = i.type?.tensorType;
      const dims = (tt?.shape?.dim ?? []).map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : 1));
      const count = dims.reduce((a, b) => a * b, 1);
      if (tt?.elemType !== DT.FLOAT) throw new Error(`input ${i.name}: only float inputs are supported`);
      feeds[i.name!] = new ort.Tensor('float32', new Float32Array(count), dims);
    }
    const out = await session.run(feeds);
    const shapes = new Map<string, number[]>();
    const values = new Map<string, Tensor>();
    for (const [name, s] of shapeOf) shapes.set(name, Array.from(out[s]!.data as BigInt64Array, Number));
    for (const name of constant) {
      const t = out[name];
      if (!t) continue;
      const dims = t.dims.map(Number);
      if (t.type === 'float32') values.set(name, { dims, data: t.data as Float32Array });
      else if (t.type === 'int64') values.set(name, { dims, data: Array.from(t.data as BigInt64Array, Number) });
      else if (t.type === 'int32') values.set(name, { dims, data: Array.from(t.data as Int32Array) });
    }
    for (const t of graph.initializer ?? []) shapes.set(t.name!, (t.dims ?? []).map(num));
    return { shapes, values };
  } finally {
    await session.release();
  }
}
