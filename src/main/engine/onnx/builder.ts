/**
 * A small, deterministic ONNX graph builder over onnx-proto's generated messages. Same calls in
 * the same order give the same bytes: no timestamps, no random names, no map iteration order.
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxNs } from 'onnx-proto';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNs };
export { onnx };

export const OPSET = 13;
export type ElemType = 'float32' | 'int32' | 'int64';
const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

export type AttrValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number };

/** Dimension: a number, or a name for a symbolic one (e.g. 'batch'). */
export type Dim = number | string;

export class GraphBuilder {
  private readonly nodes: OnnxNs.INodeProto[] = [];
  private readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly produced = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh tensor name derived from `hint`, unique in this graph. */
  fresh(hint: string): string {
    let n = hint.replace(/[^A-Za-z0-9_./:-]/g, '_');
    while (this.names.has(n)) n = `${hint}__${++this.counter}`;
    this.names.add(n);
    return n;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Keeps `name` out of fresh() so it can be given later as an explicit output name. */
  reserve(name: string): void {
    this.names.add(name);
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output; leave `dims` out when the shape is left to inference. */
  output(name: string, type: ElemType, dims?: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  initializer(hint: string, data: Float32Array | Int32Array | BigInt64Array | number[], dims: number[], type?: ElemType): string {
    const name = this.fresh(hint);
    const elem: ElemType =
      type ?? (data instanceof Int32Array ? 'int32' : data instanceof BigInt64Array ? 'int64' : 'float32');
    const count = dims.reduce((a, b) => a * b, 1);
    const length = data.length;
    if (length !== count) throw new Error(`initializer ${name}: ${length} values for dims [${dims}]`);
    const t: OnnxNs.ITensorProto = { name, dims, dataType: ELEM[elem] };
    if (elem === 'float32') {
      const f = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>, Number);
      t.rawData = new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
    } else if (elem === 'int32') {
      const i = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>, Number);
      t.rawData = new Uint8Array(i.buffer.slice(i.byteOffset, i.byteOffset + i.byteLength));
    } else {
      const l = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(v)));
      t.rawData = new Uint8Array(l.buffer.slice(l.byteOffset, l.byteOffset + l.byteLength));
    }
    this.initializers.push(t);
    return name;
  }

  int64s(hint: string, values: number[]): string {
    return this.initializer(hint, BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'int64');
  }

  scalar(hint: string, value: number): string {
    return this.initializer(hint, Float32Array.of(value), [], 'float32');
  }

  /** Adds a node; returns its output names (fresh ones named after `hint` unless given). */
  node(op: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}, outputs?: string[] | number): string[] {
    if (Array.isArray(outputs)) {
      for (const o of outputs) {
        if (this.produced.has(o)) throw new Error(`tensor ${o} is produced twice in graph ${this.name}`);
      }
    }
    const outs = Array.isArray(outputs)
      ? outputs.map((o) => (this.names.add(o), o))
      : Array.from({ length: outputs ?? 1 }, (_, i) => this.fresh(i ? `${hint}:${i}` : hint));
    for (const o of outs) this.produced.add(o);
    this.nodes.push({
      opType: op,
      name: this.fresh(`${hint}/${op}`),
      input: inputs,
      output: outs,
      attribute: Object.keys(attrs)
        .sort()
        .map((k) => attribute(k, attrs[k] as AttrValue)),
    });
    return outs;
  }

  /** Adds an existing node as is (attributes, tensors and all); its outputs must be new. */
  rawNode(node: OnnxNs.INodeProto): void {
    for (const o of node.output ?? []) {
      if (this.produced.has(o)) throw new Error(`tensor ${o} is produced twice in graph ${this.name}`);
      this.names.add(o);
      this.produced.add(o);
    }
    if (node.name) this.names.add(node.name);
    this.nodes.push(node);
  }

  /** Adds an existing initializer under its own name. */
  rawInitializer(t: OnnxNs.ITensorProto): void {
    this.names.add(t.name ?? '');
    this.initializers.push(t);
  }

  /** Declares a graph input from an existing ValueInfoProto. */
  rawInput(v: OnnxNs.IValueInfoProto): void {
    this.names.add(v.name ?? '');
    this.inputs.push(v);
  }

  /** Single-output convenience. */
  op(op: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, hint, attrs)[0] as string;
  }

  /** Serialized ModelProto bytes. */
  toBytes(meta: {
    producer: string;
    version: string;
    docString?: string;
    metadata?: Record<string, string>;
    /** Default-domain opset (OPSET unless given) and other domains' imports; irVersion must suit them. */
    opset?: number;
    extraOpsets?: { domain: string; version: number }[];
    irVersion?: number;
  }): Uint8Array {
    const model: OnnxNs.IModelProto = {
      irVersion: meta.irVersion ?? 7,
      producerName: meta.producer,
      producerVersion: meta.version,
      docString: meta.docString ?? '',
      opsetImport: [{ domain: '', version: meta.opset ?? OPSET }, ...(meta.extraOpsets ?? [])],
      metadataProps: Object.entries(meta.metadata ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims?: Dim[]): OnnxNs.IValueInfoProto {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType: { elemType: ELEM[type], ...(shape ? { shape } : {}) } } };
}

function attribute(name: string, v: AttrValue): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { name, type: T.FLOAT, f: v };
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.FLOAT, f: v.float };
}
