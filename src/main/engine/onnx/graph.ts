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
      const out = new Float32Array(count);
      if (view) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
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
 * Runs `model` once on CPU with zero inputs of batch 1 (symbolic dimensions set to 1), with every
 * node output added as a graph output, so every intermediate tensor's shape is known.
 */
export async function probeModel(model: ModelProto): Promise<Probe> {
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const realInputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  const outputs = new Set<string>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) outputs.add(o);
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model as OnnxNs.ModelProto).finish());
  // Outputs without a type: onnxruntime infers them.
  copy.graph!.output = [...outputs].map((name) => onnx.ValueInfoProto.create({ name }));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(copy).finish(), { executionProviders: ['cpu'] });
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
    for (const [name, t] of Object.entries(out)) {
      const dims = t.dims.map(Number);
      shapes.set(name, dims);
      if (t.type === 'float32') values.set(name, { dims, data: t.data as Float32Array });
      else if (t.type === 'int64') values.set(name, { dims, data: Array.from(t.data as BigInt64Array, Number) });
      else if (t.type === 'int32') values.set(name, { dims, data: Array.from(t.data as Int32Array) });
    }
    for (const [name, f] of Object.entries(feeds)) shapes.set(name, f.dims.map(Number));
    for (const t of graph.initializer ?? []) {
      const dims = (t.dims ?? []).map(num);
      shapes.set(t.name!, dims);
    }
    return { shapes, values };
  } finally {
    await session.release();
  }
}
