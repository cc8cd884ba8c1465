/**
 * Backward passes as ordinary ONNX graphs. onnxruntime cannot differentiate, so for a recognizer
 * (ONNX bytes) we write a second model that holds the needed part of the forward graph plus, node
 * by node in reverse order, the adjoint of each operation under one of four rules:
 *
 * - 'gradient': reverse-mode gradient of <seed, from> (Conv -> ConvTranspose with the same weights,
 *   MaxPool -> its argmax indices scattered back, MatMul/Gemm -> transposed MatMul, ReLU-like ->
 *   mask, broadcast Add/Mul -> ReduceSum over the broadcast axes, layout ops -> their inverse).
 * - 'guided' (guided backprop, paper 002 Alg. 1): at every ReLU-like op, relu(incoming) * mask.
 * - 'deconvnet': at every ReLU-like op, relu(incoming), no forward mask.
 * - 'excitation' (excitation backprop, paper 001 Eq. 1): top-down winning probabilities through
 *   positive weights, P_in = a * W+^T (P_out / (W+ a + eps)); see `Builder.excite`.
 *
 * ReLU-like: Relu, LeakyRelu, PRelu, Clip, and Max/Min with a constant operand (clip patterns and
 * PReLU written as Max(x,0) + alpha * Min(x,0)). Their "mask" is the local derivative (1/0, or the
 * negative slope for LeakyRelu/PRelu). Static shapes come from one batch-1 CPU probe run; anything
 * batch-dependent uses Shape ops, so the batch stays dynamic.
 */
import { GraphBuilder, type AttrValue } from '../onnx/builder';
import {
  attr,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  decodeModel,
  num,
  opsetOf,
  probeModel,
  tensorOf,
  type NodeProto,
  type Probe,
  type Tensor,
} from '../onnx/graph';
import { onnx } from '../onnx/builder';
import type { onnx as OnnxNs } from 'onnx-proto';

export type BackwardRule = 'gradient' | 'guided' | 'deconvnet' | 'excitation';
export interface BackwardSpec {
  rule: BackwardRule;
  /** Forward output the signal starts from, e.g. 'embedding'. Its seed is a new graph input named 'seed', same shape. */
  from: string;
  /** Intermediate tensors where the signal is also reported, e.g. 'feature_map' (a forward output name or any tensor name). */
  at?: string[];
  /** Excitation backprop's guard against 0/0 in P_out / (W+ a + eps); default 1e-12. */
  eps?: number;
  /**
   * Excitation backprop on activations that can be negative (PReLU networks): true (default) lets
   * their negative part excite through negative weights (max(w x, 0)); false uses max(x, 0) only,
   * Eq. 1 as written. Identical on ReLU networks. See `act` in backward.ts.
   */
  signed?: boolean;
}

/** Ops whose outputs carry no derivative (shapes, indices, comparisons). */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ArgMax', 'ArgMin', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'NonZero', 'Sign', 'Floor', 'Ceil', 'Round',
]);

/**
 * Builds the backward model for `forward` (ONNX bytes). Inputs: the forward model's inputs + 'seed'.
 * Outputs: 'signal' (input-space signal, same shape and layout as the forward model's first input),
 * 'signal:<t>' for each t in `at`, and the forward values of `from` and of each `at` tensor under their own names.
 */
export async function buildBackwardModel(forward: Uint8Array, spec: BackwardSpec): Promise<Uint8Array> {
  const model = decodeModel(forward);
  const probe = await probeModel(model);
  return new Builder(model, probe, spec).build();
}

type Model = ReturnType<typeof decodeModel>;

class Builder {
  private readonly g: GraphBuilder;
  private readonly nodes: NodeProto[];
  private readonly producer = new Map<string, NodeProto>();
  private readonly consumers = new Map<string, NodeProto[]>();
  private readonly inits = new Map<string, OnnxNs.ITensorProto>();
  private readonly dep = new Set<string>();
  private readonly stat = new Set<string>();
  private readonly contribs = new Map<string, string[]>();
  private readonly summed = new Map<string, string>();
  private readonly shapeCache = new Map<string, string>();
  private readonly actCache = new Map<string, { pos: string; neg?: string }>();
  private readonly maxpoolIndices = new Map<NodeProto, string>();
  /** Excitation: per-output-channel constant ops folded into the linear layer before them. */
  private readonly folded = new Set<NodeProto>();
  private readonly foldedWeights = new Map<NodeProto, Tensor>();
  private readonly input: string;
  private readonly opset: number;
  private readonly eps: number;
  private readonly keep: Set<string>;

  constructor(
    private readonly model: Model,
    private readonly probe: Probe,
    private readonly spec: BackwardSpec,
  ) {
    const graph = model.graph!;
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) this.inits.set(t.name!, t);
    const realInputs = (graph.input ?? []).filter((i) => !this.inits.has(i.name!));
    if (!realInputs.length) throw new Error('the model has no input');
    this.input = realInputs[0]!.name!;
    this.opset = opsetOf(model);
    this.eps = spec.eps ?? 1e-12;
    this.g = new GraphBuilder(`${graph.name ?? 'model'}_backward_${spec.rule}`);
    for (const n of this.nodes) {
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
    // Differentiable dependence on the first input, and tensors computable from constants alone.
    this.dep.add(this.input);
    for (const t of this.inits.keys()) this.stat.add(t);
    for (const n of this.nodes) {
      const ins = (n.input ?? []).filter(Boolean);
      const isDep = !NON_DIFFERENTIABLE.has(n.opType!) && ins.some((i) => this.dep.has(i));
      const isStat = ins.every((i) => this.stat.has(i)) && !n.opType!.startsWith('Random');
      for (const o of n.output ?? []) {
        if (isDep) this.dep.add(o);
        else if (isStat) this.stat.add(o);
      }
    }
    const at = spec.at ?? [];
    for (const t of [spec.from, ...at]) {
      if (!this.producer.has(t) && t !== this.input) throw new Error(`tensor '${t}' is not produced by any node of the model`);
    }
    if (!this.dep.has(spec.from)) throw new Error(`'${spec.from}' does not depend on the input '${this.input}'`);
    if (this.producer.has('seed') || this.input === 'seed') throw new Error("the model already has a tensor named 'seed'");
    this.keep = this.ancestors([spec.from, ...at]);
  }

  /** Nodes needed to compute `targets`, as the set of their output names. */
  private ancestors(targets: string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...targets];
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      const p = this.producer.get(t);
      if (p) for (const i of p.input ?? []) if (i) stack.push(i);
    }
    return seen;
  }

  build(): Uint8Array {
    const g = this.g;
    const graph = this.model.graph!;
    const { from } = this.spec;
    const at = [...new Set(this.spec.at ?? [])];
    for (const n of this.nodes) for (const o of n.output ?? []) if (o) g.reserve(o);
    for (const t of this.inits.keys()) g.reserve(t);
    for (const name of ['signal', ...at.map((t) => `signal:${t}`)]) g.reserve(name);
    for (const i of graph.input ?? []) if (!this.inits.has(i.name!)) g.rawInput(i);
    const seedShape: (number | string)[] = ['batch', ...this.shape(from).slice(1)];
    g.input('seed', 'float32', seedShape);

    const fromAncestors = this.ancestors([from]);
    const path = this.nodes.filter((n) => (n.output ?? []).some((o) => fromAncestors.has(o)) && (n.input ?? []).some((i) => this.dep.has(i)));
    const onPath = new Set(path);
    const usedInits = new Set<string>();
    for (const n of this.nodes) {
      if (!(n.output ?? []).some((o) => this.keep.has(o))) continue;
      for (const i of n.input ?? []) if (this.inits.has(i)) usedInits.add(i);
      g.rawNode(this.copyNode(n, onPath.has(n)));
    }
    for (const t of graph.initializer ?? []) if (usedInits.has(t.name!)) g.rawInitializer(t);

    if (this.spec.rule === 'excitation') this.fold(path, new Set([from, ...at]));
    this.contribs.set(from, ['seed']);
    for (let k = path.length - 1; k >= 0; k--) {
      const n = path[k]!;
      const y = n.output![0]!;
      const gy = this.total(y);
      if (!gy) continue;
      if (this.spec.rule === 'excitation') this.excite(n, gy);
      else this.backprop(n, gy);
    }

    const signal = this.total(this.input);
    if (!signal) throw new Error(`no signal reaches the input '${this.input}' from '${from}'`);
    g.node('Identity', [signal], 'signal', {}, ['signal']);
    const inputInfo = (graph.input ?? []).find((i) => i.name === this.input)!;
    g.output('signal', 'float32', (inputInfo.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))));
    for (const t of at) {
      let src = t;
      while (!this.total(src) && this.producer.get(src)?.opType === 'Identity' && this.dep.has(this.producer.get(src)!.input![0]!)) {
        src = this.producer.get(src)!.input![0]!;
      }
      const s = this.total(src);
      if (!s) throw new Error(`'${t}' does not lie on a path from the input to '${from}', so no signal reaches it`);
      g.node('Identity', [s], `signal:${t}`, {}, [`signal:${t}`]);
      g.output(`signal:${t}`, 'float32', ['batch', ...this.shape(t).slice(1)]);
    }
    for (const t of [from, ...at.filter((t) => t !== from)]) g.output(t, 'float32', ['batch', ...this.shape(t).slice(1)]);

    const opset = Math.max(this.opset, 17); // ScatterElements' reduction needs 16
    const extra = (this.model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx').map((o) => ({ domain: o.domain!, version: num(o.version) }));
    return g.toBytes({
      producer: 'facet',
      version: `backward-${this.spec.rule}-1`,
      opset,
      extraOpsets: extra,
      irVersion: Math.max(num(this.model.irVersion), opset >= 21 ? 10 : opset >= 19 ? 9 : 8),
    });
  }

  /** A forward node for the backward model: MaxPools on the path also give their argmax indices; pre-13 axes attributes become inputs. */
  private copyNode(n: NodeProto, onPath: boolean): NodeProto {
    const copy = onnx.NodeProto.create({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])], attribute: [...(n.attribute ?? [])] });
    if (onPath && n.opType === 'MaxPool' && copy.output.length < 2) {
      const idx = this.g.fresh(`${n.output![0]}/argmax`);
      copy.output.push(idx);
      this.maxpoolIndices.set(n, idx);
    } else if (n.opType === 'MaxPool' && copy.output.length > 1) {
      this.maxpoolIndices.set(n, copy.output[1]!);
    }
    if (this.opset < 13 && ['Squeeze', 'Unsqueeze', 'ReduceSum'].includes(n.opType!)) {
      const axes = attrInts(n, 'axes');
      if (axes) {
        copy.attribute = copy.attribute.filter((a) => a.name !== 'axes');
        copy.input.push(this.g.int64s(`${n.name}/axes`, axes));
      }
    }
    return copy;
  }

  // ---- small graph helpers -------------------------------------------------------------------

  private shape(t: string): number[] {
    const s = this.probe.shapes.get(t);
    if (!s) throw new Error(`no shape known for tensor '${t}'`);
    return s;
  }

  private value(t: string): Tensor {
    const init = this.inits.get(t);
    if (init) return tensorOf(init);
    const v = this.probe.values.get(t);
    if (!v || !this.stat.has(t)) throw new Error(`tensor '${t}' must be a constant here`);
    return v;
  }

  private floats(t: string): Float32Array {
    const v = this.value(t).data;
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  private shapeOf(t: string): string {
    let s = this.shapeCache.get(t);
    if (!s) {
      s = this.g.op('Shape', [t], `${t}/shape`);
      this.shapeCache.set(t, s);
    }
    return s;
  }

  private f(hint: string, data: Float32Array | number[], dims: number[]): string {
    return this.g.initializer(hint, data instanceof Float32Array ? data : Float32Array.from(data), dims, 'float32');
  }

  private op(op: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}): string {
    return this.g.op(op, inputs, hint, attrs);
  }

  private add(t: string, grad: string): void {
    this.contribs.set(t, [...(this.contribs.get(t) ?? []), grad]);
  }

  /** The summed signal at `t` (all its consumers are processed before its producer). */
  private total(t: string): string | undefined {
    const done = this.summed.get(t);
    if (done) return done;
    const list = this.contribs.get(t);
    if (!list?.length) return undefined;
    const s = list.length === 1 ? list[0]! : this.op('Sum', list, `${t}/signal_sum`);
    this.summed.set(t, s);
    this.contribs.set(t, [s]);
    return s;
  }

  /** `grad` (shaped like `outShape`) summed down to a broadcast operand of shape `inShape`. */
  private reduceTo(grad: string, outShape: number[], inShape: number[], hint: string): string {
    const lead = outShape.length - inShape.length;
    const axes: number[] = [];
    for (let i = 0; i < outShape.length; i++) {
      const d = i < lead ? 1 : inShape[i - lead]!;
      if (i < lead || (d === 1 && outShape[i] !== 1)) axes.push(i);
    }
    if (!axes.length) return grad;
    const r = this.op('ReduceSum', [grad, this.g.int64s(`${hint}/axes`, axes)], `${hint}/reduce`, { keepdims: 1 });
    return lead ? this.op('Reshape', [r, this.g.int64s(`${hint}/shape`, inShape)], `${hint}/reshape`) : r;
  }

  private attrsOf(n: NodeProto, skip: string[] = []): Record<string, AttrValue> {
    const T = onnx.AttributeProto.AttributeType;
    const out: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) {
      if (skip.includes(a.name!)) continue;
      if (a.type === T.INT) out[a.name!] = num(a.i);
      else if (a.type === T.INTS) out[a.name!] = { ints: (a.ints ?? []).map(num) };
      else if (a.type === T.FLOAT) out[a.name!] = { float: a.f ?? 0 };
      else if (a.type === T.FLOATS) out[a.name!] = { floats: a.floats ?? [] };
      else if (a.type === T.STRING) out[a.name!] = new TextDecoder().decode(a.s ?? new Uint8Array());
      else throw new Error(`node ${n.name}: attribute ${a.name} cannot be copied`);
    }
    return out;
  }

  private unsupported(n: NodeProto, why = ''): never {
    throw new Error(`backward rule '${this.spec.rule}': op ${n.opType} (node '${n.name || n.output?.[0]}') is not supported on the path from the input to '${this.spec.from}'${why ? `: ${why}` : ''}`);
  }

  /** The dependent inputs of `n` (those the signal flows to). */
  private depIn(n: NodeProto): number[] {
    return (n.input ?? []).map((t, i) => (t && this.dep.has(t) ? i : -1)).filter((i) => i >= 0);
  }

  // ---- layout ops: their adjoint is their inverse (used by every rule) -----------------------

  private layout(n: NodeProto, gy: string): boolean {
    const x = n.input![0]!;
    const y = n.output![0]!;
    switch (n.opType) {
      case 'Identity':
      case 'Dropout':
        this.add(x, gy);
        return true;
      case 'Transpose': {
        const rank = this.shape(x).length;
        const perm = attrInts(n, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
        const inv = new Array<number>(rank);
        perm.forEach((p, i) => (inv[p] = i));
        this.add(x, this.op('Transpose', [gy], `${x}/signal_t`, { perm: inv }));
        return true;
      }
      case 'Reshape':
      case 'Flatten':
      case 'Squeeze':
      case 'Unsqueeze':
        this.add(x, this.op('Reshape', [gy, this.shapeOf(x)], `${x}/signal_r`));
        return true;
      case 'Pad': {
        const mode = attrString(n, 'mode', 'constant');
        if (mode !== 'constant') this.unsupported(n, `pad mode '${mode}'`);
        const xs = this.shape(x);
        const ys = this.shape(y);
        let pads: number[] = n.input![1] ? Array.from(this.value(n.input![1]).data, Number) : (attrInts(n, 'pads') ?? []);
        const axesIn = n.input![3] ? Array.from(this.value(n.input![3]).data, Number) : undefined;
        if (axesIn) {
          const full = new Array<number>(2 * xs.length).fill(0);
          axesIn.forEach((a, i) => {
            const ax = a < 0 ? a + xs.length : a;
            full[ax] = pads[i]!;
            full[ax + xs.length] = pads[i + axesIn.length]!;
          });
          pads = full;
        }
        if (pads.some((p) => p < 0)) this.unsupported(n, 'negative pads');
        if (pads[0] || pads[xs.length]) this.unsupported(n, 'padding along the batch axis');
        const axes: number[] = [];
        const starts: number[] = [];
        const ends: number[] = [];
        for (let i = 1; i < xs.length; i++) {
          if (!pads[i] && !pads[i + xs.length]) continue;
          axes.push(i);
          starts.push(pads[i]!);
          ends.push(ys[i]! - pads[i + xs.length]!);
        }
        if (!axes.length) this.add(x, gy);
        else this.add(x, this.slice(gy, starts, ends, axes, `${x}/signal_unpad`));
        return true;
      }
      case 'Concat': {
        const rank = this.shape(y).length;
        let axis = attrInt(n, 'axis', 0);
        if (axis < 0) axis += rank;
        if (axis === 0) this.unsupported(n, 'concatenation along the batch axis');
        let offset = 0;
        for (const t of n.input ?? []) {
          const d = this.shape(t)[axis]!;
          if (this.dep.has(t)) this.add(t, this.slice(gy, [offset], [offset + d], [axis], `${t}/signal_split`));
          offset += d;
        }
        return true;
      }
    }
    return false;
  }

  private slice(t: string, starts: number[], ends: number[], axes: number[], hint: string): string {
    return this.op('Slice', [t, this.g.int64s(`${hint}/starts`, starts), this.g.int64s(`${hint}/ends`, ends), this.g.int64s(`${hint}/axes`, axes)], hint);
  }

  // ---- ReLU-like ops ---------------------------------------------------------------------------

  /**
   * For a ReLU-like node: its dependent input and `mask(g)`, which multiplies g by the local
   * derivative (Where on the forward condition for 0/1 masks; a slope tensor for LeakyRelu/PRelu).
   * Nothing is added to the graph until `mask` is called (deconvnet never calls it).
   */
  private reluLike(n: NodeProto): { x: string; mask: (g: string) => string } | undefined {
    const ins = n.input ?? [];
    const x = ins[0]!;
    const hint = `${n.output![0]}/mask`;
    const zero = (): string => this.f(`${hint}/zero`, [0], []);
    const where = (cond: () => string) => ({ x, mask: (g: string) => this.op('Where', [cond(), g, zero()], `${x}/signal_masked`) });
    const slope = (neg: () => string) => ({
      x,
      mask: (g: string) => this.op('Mul', [g, this.op('Where', [this.op('Greater', [x, zero()], hint), this.f(`${hint}/one`, [1], []), neg()], hint)], `${x}/signal_masked`),
    });
    switch (n.opType) {
      case 'Relu':
        return where(() => this.op('Greater', [x, zero()], hint));
      case 'LeakyRelu': {
        const alpha = attrFloat(n, 'alpha', 0.01);
        return slope(() => this.f(`${hint}/alpha`, [alpha], []));
      }
      case 'PRelu':
        if (this.dep.has(ins[1]!)) return undefined;
        return slope(() => ins[1]!);
      case 'Clip': {
        let lo: string | undefined = ins[1] || undefined;
        let hi: string | undefined = ins[2] || undefined;
        if (this.opset < 11) {
          const a = attr(n, 'min');
          const b = attr(n, 'max');
          lo = a ? this.f(`${hint}/lo`, [a.f ?? 0], []) : undefined;
          hi = b ? this.f(`${hint}/hi`, [b.f ?? 0], []) : undefined;
        }
        if ((lo && this.dep.has(lo)) || (hi && this.dep.has(hi))) return undefined;
        if (!lo && !hi) return { x, mask: (g) => g };
        return where(() => {
          const parts: string[] = [];
          if (lo) parts.push(this.op('Greater', [x, lo], hint));
          if (hi) parts.push(this.op('Less', [x, hi], hint));
          return parts.length === 2 ? this.op('And', parts, hint) : parts[0]!;
        });
      }
      case 'Max':
      case 'Min': {
        if (ins.length !== 2) return undefined;
        const d = this.depIn(n);
        if (d.length !== 1) return undefined;
        const xd = ins[d[0]!]!;
        const c = ins[1 - d[0]!]!;
        return { x: xd, mask: (g) => this.op('Where', [this.op(n.opType === 'Max' ? 'Greater' : 'Less', [xd, c], hint), g, zero()], `${xd}/signal_masked`) };
      }
    }
    return undefined;
  }

  // ---- gradient, guided backprop, deconvnet ----------------------------------------------------

  private backprop(n: NodeProto, gy: string): void {
    if (this.layout(n, gy)) return;
    const rule = this.spec.rule;
    const ins = n.input ?? [];
    const y = n.output![0]!;
    const ys = this.shape(y);
    const relu = this.reluLike(n);
    if (relu) {
      const { x, mask } = relu;
      let g: string;
      if (rule === 'gradient') g = mask(gy);
      else if (rule === 'guided') g = mask(this.op('Relu', [gy], `${x}/signal_pos`));
      else g = this.op('Relu', [gy], `${x}/signal`);
      this.add(x, this.reduceTo(g, ys, this.shape(x), `${x}/signal`));
      return;
    }
    const x = ins[0]!;
    switch (n.opType) {
      case 'Add':
      case 'Sub':
        for (const i of this.depIn(n)) {
          const t = ins[i]!;
          const g = n.opType === 'Sub' && i === 1 ? this.op('Neg', [gy], `${t}/signal_neg`) : gy;
          this.add(t, this.reduceTo(g, ys, this.shape(t), `${t}/signal`));
        }
        return;
      case 'Mul':
        for (const i of this.depIn(n)) {
          const t = ins[i]!;
          this.add(t, this.reduceTo(this.op('Mul', [gy, ins[1 - i]!], `${t}/signal`), ys, this.shape(t), `${t}/signal`));
        }
        return;
      case 'Div':
        for (const i of this.depIn(n)) {
          const t = ins[i]!;
          const g =
            i === 0
              ? this.op('Div', [gy, ins[1]!], `${t}/signal`)
              : this.op('Neg', [this.op('Div', [this.op('Mul', [gy, y], `${t}/signal`), ins[1]!], `${t}/signal`)], `${t}/signal`);
          this.add(t, this.reduceTo(g, ys, this.shape(t), `${t}/signal`));
        }
        return;
      case 'Neg':
        this.add(x, this.op('Neg', [gy], `${x}/signal`));
        return;
      case 'Max':
      case 'Min': {
        // Two activations: the signal goes to the winner.
        if (ins.length !== 2) this.unsupported(n, 'more than two operands');
        const [a, b] = [ins[0]!, ins[1]!];
        const m = this.op('Cast', [this.op(n.opType === 'Max' ? 'GreaterOrEqual' : 'LessOrEqual', [a, b], `${y}/winner`)], `${y}/winner`, { to: 1 });
        const ga = this.op('Mul', [gy, m], `${a}/signal`);
        this.add(a, this.reduceTo(ga, ys, this.shape(a), `${a}/signal`));
        this.add(b, this.reduceTo(this.op('Sub', [gy, ga], `${b}/signal`), ys, this.shape(b), `${b}/signal`));
        return;
      }
      case 'Sigmoid': {
        const one = this.f(`${y}/one`, [1], []);
        this.add(x, this.op('Mul', [gy, this.op('Mul', [y, this.op('Sub', [one, y], `${y}/1-y`)], `${y}/dsig`)], `${x}/signal`));
        return;
      }
      case 'Tanh': {
        const one = this.f(`${y}/one`, [1], []);
        this.add(x, this.op('Mul', [gy, this.op('Sub', [one, this.op('Mul', [y, y], `${y}/y2`)], `${y}/dtanh`)], `${x}/signal`));
        return;
      }
      case 'BatchNormalization': {
        if (this.depIn(n).some((i) => i > 0)) this.unsupported(n, 'batch-norm parameters depend on the input');
        const s = this.bnScale(n);
        this.add(x, this.op('Mul', [gy, this.f(`${y}/bn_scale`, s, [s.length, ...new Array<number>(ys.length - 2).fill(1)])], `${x}/signal`));
        return;
      }
      case 'Conv': {
        if (this.depIn(n).some((i) => i > 0)) this.unsupported(n, 'the weights depend on the input');
        this.add(x, this.convT(n, gy, ins[1]!, `${x}/signal`));
        return;
      }
      case 'MaxPool':
        this.add(x, this.unpool(n, gy));
        return;
      case 'AveragePool':
        this.add(x, this.avgPoolT(n, gy, `${x}/signal`));
        return;
      case 'GlobalAveragePool':
      case 'ReduceMean':
      case 'ReduceSum': {
        const { axes, count } = this.reduction(n);
        this.add(x, this.op('Mul', [this.expandBack(n, gy, axes), this.f(`${y}/inv_count`, [1 / count], [])], `${x}/signal`));
        return;
      }
      case 'MatMul': {
        const d = this.depIn(n);
        if (d.length !== 1) this.unsupported(n, 'both operands depend on the input');
        if (d[0] === 0) this.add(x, this.op('MatMul', [gy, this.transposed(ins[1]!, n)], `${x}/signal`));
        else this.add(ins[1]!, this.op('MatMul', [this.transposed(x, n), gy], `${ins[1]}/signal`));
        return;
      }
      case 'Gemm': {
        const d = this.depIn(n);
        if (d.length !== 1 || d[0] !== 0) this.unsupported(n, 'only the first operand may depend on the input');
        const { bt, alpha } = this.gemmB(n);
        let g = this.op('MatMul', [gy, this.f(`${x}/gemm_bt`, bt.data as Float32Array, bt.dims)], `${x}/signal`);
        if (alpha !== 1) g = this.op('Mul', [g, this.f(`${x}/alpha`, [alpha], [])], `${x}/signal`);
        if (attrInt(n, 'transA', 0)) g = this.op('Transpose', [g], `${x}/signal`, { perm: [1, 0] });
        this.add(x, g);
        return;
      }
    }
    this.unsupported(n);
  }

  private bnScale(n: NodeProto): Float32Array {
    const [gamma, , , variance] = [1, 2, 3, 4].map((i) => this.floats(n.input![i]!));
    const eps = attrFloat(n, 'epsilon', 1e-5);
    return gamma!.map((gm, c) => gm / Math.sqrt(variance![c]! + eps));
  }

  /** Gemm's B as used (after transB), transposed: [N, K]; and alpha. */
  private gemmB(n: NodeProto): { bt: Tensor; alpha: number } {
    const b = this.value(n.input![1]!);
    const data = b.data instanceof Float32Array ? b.data : Float32Array.from(b.data);
    const alpha = attrFloat(n, 'alpha', 1);
    if (attrInt(n, 'transB', 0)) return { bt: { dims: b.dims, data }, alpha };
    return { bt: { dims: [b.dims[1]!, b.dims[0]!], data: transpose2(data, b.dims[0]!, b.dims[1]!) }, alpha };
  }

  /** A constant 2-D matrix transposed (computed here), or a Transpose of its last two axes. */
  private transposed(t: string, n: NodeProto): string {
    const s = this.shape(t);
    if (this.stat.has(t) && s.length === 2) return this.f(`${t}/T`, transpose2(this.floats(t), s[0]!, s[1]!), [s[1]!, s[0]!]);
    if (this.dep.has(t)) this.unsupported(n, 'both operands depend on the input');
    if (s.length < 2) this.unsupported(n, 'a 1-D operand');
    const perm = Array.from({ length: s.length }, (_, i) => i);
    [perm[s.length - 2], perm[s.length - 1]] = [perm[s.length - 1]!, perm[s.length - 2]!];
    return this.op('Transpose', [t], `${t}/T`, { perm });
  }

  /** Explicit pads of a Conv/pool node from its attributes and the probed shapes. */
  private explicitPads(n: NodeProto, x: string, kernel: number[], strides: number[], dil: number[]): number[] {
    const xs = this.shape(x).slice(2);
    const ys = this.shape(n.output![0]!).slice(2);
    const autoPad = attrString(n, 'auto_pad', 'NOTSET');
    const k = xs.length;
    if (autoPad === 'NOTSET') return attrInts(n, 'pads') ?? new Array<number>(2 * k).fill(0);
    if (autoPad === 'VALID') return new Array<number>(2 * k).fill(0);
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < k; i++) {
      const total = Math.max((ys[i]! - 1) * strides[i]! + dil[i]! * (kernel[i]! - 1) + 1 - xs[i]!, 0);
      const small = Math.floor(total / 2);
      begin.push(autoPad === 'SAME_LOWER' ? total - small : small);
      end.push(autoPad === 'SAME_LOWER' ? small : total - small);
    }
    return [...begin, ...end];
  }

  private convGeometry(n: NodeProto, x: string, kernel: number[]): { strides: number[]; dil: number[]; pads: number[]; outPad: number[]; extra: number[] } {
    const k = kernel.length;
    const strides = attrInts(n, 'strides') ?? new Array<number>(k).fill(1);
    const dil = attrInts(n, 'dilations') ?? new Array<number>(k).fill(1);
    const pads = this.explicitPads(n, x, kernel, strides, dil);
    const xs = this.shape(x).slice(2);
    const ys = this.shape(n.output![0]!).slice(2);
    const outPad: number[] = [];
    const extra: number[] = [];
    for (let i = 0; i < k; i++) {
      const natural = (ys[i]! - 1) * strides[i]! - pads[i]! - pads[i + k]! + dil[i]! * (kernel[i]! - 1) + 1;
      const op = xs[i]! - natural;
      if (op < 0) this.unsupported(n, 'output larger than its transposed convolution');
      // ConvTranspose takes output_padding < stride; trailing rows no window touches get zeros.
      const use = Math.min(op, Math.max(strides[i]!, dil[i]!) - 1);
      outPad.push(use);
      extra.push(op - use);
    }
    return { strides, dil, pads, outPad, extra };
  }

  /** The transpose of Conv node `n` applied to `gy`, with weights `w` (same layout as the forward weights). */
  private convT(n: NodeProto, gy: string, w: string, hint: string): string {
    const x = n.input![0]!;
    const kernel = this.shape(n.input![1]!).slice(2);
    const { strides, dil, pads, outPad, extra } = this.convGeometry(n, x, kernel);
    const out = this.op('ConvTranspose', [gy, w], hint, {
      dilations: { ints: dil },
      group: attrInt(n, 'group', 1),
      kernel_shape: { ints: kernel },
      output_padding: { ints: outPad },
      pads: { ints: pads },
      strides: { ints: strides },
    });
    return this.padEnd(out, extra, hint);
  }

  private padEnd(t: string, extra: number[], hint: string): string {
    if (!extra.some((e) => e > 0)) return t;
    const rank = extra.length + 2;
    const pads = new Array<number>(2 * rank).fill(0);
    extra.forEach((e, i) => (pads[rank + 2 + i] = e));
    return this.op('Pad', [t, this.g.int64s(`${hint}/pads`, pads)], `${hint}/pad_end`);
  }

  /** MaxPool's adjoint: each output's signal added at its argmax (ScatterElements with reduction 'add': overlapping windows may share a winner, which MaxUnpool would overwrite). */
  private unpool(n: NodeProto, gy: string): string {
    const x = n.input![0]!;
    if (attrInt(n, 'storage_order', 0)) this.unsupported(n, 'storage_order 1');
    const idx = this.maxpoolIndices.get(n)!;
    const flat = this.g.int64s(`${x}/flat`, [-1]);
    const zeros = this.op('Reshape', [this.op('ConstantOfShape', [this.shapeOf(x)], `${x}/zeros`), flat], `${x}/zeros_flat`);
    const scattered = this.op(
      'ScatterElements',
      [zeros, this.op('Reshape', [idx, flat], `${x}/argmax_flat`), this.op('Reshape', [gy, flat], `${x}/signal_flat`)],
      `${x}/signal_unpool`,
      { axis: 0, reduction: 'add' },
    );
    return this.op('Reshape', [scattered, this.shapeOf(x)], `${x}/signal`);
  }

  /** AveragePool's adjoint: each output spreads signal / (its window count) over its window. */
  private avgPoolT(n: NodeProto, gy: string, hint: string): string {
    const x = n.input![0]!;
    const xs = this.shape(x);
    const ys = this.shape(n.output![0]!);
    if (xs.length !== 4) this.unsupported(n, 'only 2-D pooling');
    const kernel = attrInts(n, 'kernel_shape')!;
    const strides = attrInts(n, 'strides') ?? [1, 1];
    const dil = attrInts(n, 'dilations') ?? [1, 1];
    if (dil.some((d) => d !== 1)) this.unsupported(n, 'dilated average pooling');
    const pads = this.explicitPads(n, x, kernel, strides, dil);
    const [H, W] = [xs[2]!, xs[3]!];
    const [Ho, Wo] = [ys[2]!, ys[3]!];
    const floorH = Math.floor((H + pads[0]! + pads[2]! - kernel[0]!) / strides[0]!) + 1;
    const floorW = Math.floor((W + pads[1]! + pads[3]! - kernel[1]!) / strides[1]!) + 1;
    if (floorH !== Ho || floorW !== Wo) this.unsupported(n, 'ceil_mode that adds windows');
    const include = attrInt(n, 'count_include_pad', 0) === 1;
    const inv = new Float32Array(Ho * Wo);
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const h0 = i * strides[0]! - pads[0]!;
        const w0 = j * strides[1]! - pads[1]!;
        const ch = include ? kernel[0]! : Math.min(h0 + kernel[0]!, H) - Math.max(h0, 0);
        const cw = include ? kernel[1]! : Math.min(w0 + kernel[1]!, W) - Math.max(w0, 0);
        inv[i * Wo + j] = 1 / (ch * cw);
      }
    }
    const C = xs[1]!;
    const ones = this.f(`${hint}/ones`, new Float32Array(C * kernel[0]! * kernel[1]!).fill(1), [C, 1, kernel[0]!, kernel[1]!]);
    const scaled = this.op('Mul', [gy, this.f(`${hint}/inv_count`, inv, [1, 1, Ho, Wo])], `${hint}/scaled`);
    const outPad: number[] = [];
    const extra: number[] = [];
    for (let i = 0; i < 2; i++) {
      const natural = (ys[i + 2]! - 1) * strides[i]! - pads[i]! - pads[i + 2]! + kernel[i]!;
      const op = xs[i + 2]! - natural;
      const use = Math.min(op, strides[i]! - 1);
      outPad.push(use);
      extra.push(op - use);
    }
    const out = this.op('ConvTranspose', [scaled, ones], hint, {
      group: C,
      kernel_shape: { ints: kernel },
      output_padding: { ints: outPad },
      pads: { ints: pads },
      strides: { ints: strides },
    });
    return this.padEnd(out, extra, hint);
  }

  /** Axes and element count of a mean/sum reduction. */
  private reduction(n: NodeProto): { axes: number[]; count: number } {
    const xs = this.shape(n.input![0]!);
    let axes: number[] | undefined;
    if (n.opType === 'GlobalAveragePool') axes = Array.from({ length: xs.length - 2 }, (_, i) => i + 2);
    else axes = n.input![1] ? Array.from(this.value(n.input![1]).data, Number) : attrInts(n, 'axes');
    if (!axes?.length) {
      if (n.opType !== 'GlobalAveragePool' && attrInt(n, 'noop_with_empty_axes', 0)) this.unsupported(n, 'noop_with_empty_axes');
      axes = xs.map((_, i) => i);
    }
    axes = axes.map((a) => (a < 0 ? a + xs.length : a)).sort((a, b) => a - b);
    if (axes.includes(0)) this.unsupported(n, 'reduction over the batch axis');
    const count = n.opType === 'ReduceSum' ? 1 : axes.reduce((p, a) => p * xs[a]!, 1);
    return { axes, count };
  }

  /** `gy` of a reduction, broadcast back over the input's shape. */
  private expandBack(n: NodeProto, gy: string, axes: number[]): string {
    const x = n.input![0]!;
    const keep = n.opType === 'GlobalAveragePool' || attrInt(n, 'keepdims', 1) === 1;
    const g = keep ? gy : this.op('Unsqueeze', [gy, this.g.int64s(`${x}/unsq`, axes)], `${x}/signal_unsq`);
    return this.op('Expand', [g, this.shapeOf(x)], `${x}/signal_expand`);
  }

  // ---- excitation backprop ---------------------------------------------------------------------

  /**
   * Folds per-output-channel constant Mul/Div/Add/Sub and BatchNormalization that directly follow
   * a Conv (or MatMul/Gemm with constant weights) into its weights, when each intermediate has
   * that one consumer: the sign of a batch-norm scale decides which weights are excitatory.
   */
  private fold(path: NodeProto[], outputs: Set<string>): void {
    for (const n of path) {
      const linear = n.opType === 'Conv' || n.opType === 'MatMul' || n.opType === 'Gemm';
      if (!linear) continue;
      const wName = n.input![1]!;
      if (!this.stat.has(wName) || this.depIn(n).join() !== '0') continue;
      let w: Tensor;
      let channelAxis: number;
      if (n.opType === 'Gemm') {
        if (attrInt(n, 'transA', 0)) continue;
        const { bt, alpha } = this.gemmB(n);
        // Work on B' as [K, N] so that columns are output channels.
        w = { dims: [bt.dims[1]!, bt.dims[0]!], data: transpose2(bt.data as Float32Array, bt.dims[0]!, bt.dims[1]!).map((v) => v * alpha) };
        channelAxis = 1;
      } else {
        const v = this.value(wName);
        w = { dims: v.dims, data: Float32Array.from(v.data) };
        channelAxis = n.opType === 'Conv' ? 1 : -1;
      }
      const outRank = this.shape(n.output![0]!).length;
      const ca = channelAxis < 0 ? outRank - 1 : channelAxis;
      const C = n.opType === 'Conv' ? w.dims[0]! : w.dims[w.dims.length - 1]!;
      const scale = new Float32Array(C).fill(1);
      let cur = n.output![0]!;
      for (;;) {
        const cons = this.consumers.get(cur) ?? [];
        if (cons.length !== 1 || outputs.has(cur) || this.isGraphOutput(cur)) break;
        const c = cons[0]!;
        const ci = c.input!.indexOf(cur);
        let s: Float32Array | undefined;
        if (c.opType === 'BatchNormalization' && ci === 0 && ca === 1 && c.input!.slice(1).every((t) => this.stat.has(t))) s = this.bnScale(c);
        else if (['Mul', 'Div', 'Add', 'Sub'].includes(c.opType!) && c.input!.length === 2) {
          const other = c.input![1 - ci]!;
          if (!this.stat.has(other)) break;
          const per = this.perChannel(other, outRank, ca, C);
          if (!per) break;
          if (c.opType === 'Mul') s = per;
          else if (c.opType === 'Div') {
            if (ci !== 0) break;
            s = per.map((v) => 1 / v);
          } else if (c.opType === 'Sub' && ci === 1) s = new Float32Array(C).fill(-1);
          else s = new Float32Array(C).fill(1);
        } else break;
        for (let k = 0; k < C; k++) scale[k]! *= s[k]!;
        this.folded.add(c);
        cur = c.output![0]!;
      }
      const data = w.data as Float32Array;
      if (n.opType === 'Conv') {
        const block = data.length / C;
        for (let m = 0; m < C; m++) for (let j = 0; j < block; j++) data[m * block + j]! *= scale[m]!;
      } else {
        for (let j = 0; j < data.length; j++) data[j]! *= scale[j % C]!;
      }
      this.foldedWeights.set(n, { dims: w.dims, data });
    }
  }

  private isGraphOutput(t: string): boolean {
    return (this.model.graph!.output ?? []).some((o) => o.name === t);
  }

  /** A constant's values per channel (length C) when it varies along `axis` only (or is a scalar). */
  private perChannel(t: string, rank: number, axis: number, C: number): Float32Array | undefined {
    const v = this.value(t);
    const data = v.data instanceof Float32Array ? v.data : Float32Array.from(v.data);
    if (data.length === 1) return new Float32Array(C).fill(data[0]!);
    if (data.length !== C || v.dims.length > rank) return undefined;
    const lead = rank - v.dims.length;
    for (let i = 0; i < v.dims.length; i++) if (v.dims[i] !== 1 && i + lead !== axis) return undefined;
    return data;
  }

  /**
   * The input activation a linear layer sees at tensor t, for excitation backprop.
   * - Where t is the model input after constant, positive-scale affine steps (Sub/Add a constant,
   *   Mul/Div by a positive constant: input normalization such as mobileface's (x - 127.5) * s)
   *   and layout steps (Transpose, Pad, Reshape), "a" is the raw input (0..255 pixels) carried
   *   through the same layout steps: the normalized values are signed, but a pixel's evidence is
   *   its raw intensity, and zero padding then means "no evidence".
   * - Elsewhere a = max(t, 0) (t itself where t cannot be negative, e.g. a ReLU output).
   * - With `signed` (the default) a tensor that can be negative (PReLU/linear outputs) also gives
   *   its negative part min(t, 0), which excites through the negative weights: the excitatory
   *   contributions are then max(w x, 0) = W+ max(x,0) + W- min(x,0), which is exactly Eq. 1 where
   *   x >= 0 (so ReLU networks are unaffected). Without it, PReLU networks such as mobileface lose
   *   all mass: their activations are mostly negative after some layers (and its first depthwise
   *   conv has no positive weight at all).
   */
  private act(t: string): { pos: string; neg?: string } {
    const done = this.actCache.get(t);
    if (done) return done;
    let cur = t;
    let affine = false;
    const chain: NodeProto[] = [];
    for (;;) {
      const p = this.producer.get(cur);
      if (!p) break;
      const ins = p.input ?? [];
      const d = this.depIn(p);
      if (d.length !== 1) break;
      const xin = ins[d[0]!]!;
      if (['Identity', 'Transpose', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'].includes(p.opType!) || (p.opType === 'Pad' && attrString(p, 'mode', 'constant') === 'constant')) {
        if (d[0] !== 0) break;
        chain.push(p);
        cur = xin;
        continue;
      }
      const other = ins[1 - d[0]!];
      const sameShape = this.shape(xin).join() === this.shape(p.output![0]!).join();
      if (ins.length === 2 && other && this.stat.has(other) && sameShape) {
        const positive = (): boolean => this.floats(other).every((v) => v > 0);
        if (p.opType === 'Add' || (p.opType === 'Sub' && d[0] === 0) || (p.opType === 'Mul' && positive()) || (p.opType === 'Div' && d[0] === 0 && positive())) {
          affine = true;
          cur = xin;
          continue;
        }
      }
      break;
    }
    let a: { pos: string; neg?: string };
    if (affine && cur === this.input) {
      let pos = this.op('Relu', [cur], `${cur}/excitation_act`);
      for (const p of chain.reverse()) {
        const ins = [pos, ...(p.input ?? []).slice(1)];
        if (p.opType === 'Pad' && ins.length > 2) ins[2] = ''; // pad raw pixels with 0: no evidence
        pos = this.op(p.opType!, ins, `${p.output![0]}/excitation_act`, this.attrsOf(p));
      }
      a = { pos };
    } else if (this.nonNegative(t)) {
      a = { pos: t };
    } else {
      a = { pos: this.op('Relu', [t], `${t}/excitation_pos`) };
      if (this.spec.signed ?? true) a.neg = this.op('Min', [t, this.f(`${t}/zero`, [0], [])], `${t}/excitation_neg`);
    }
    this.actCache.set(t, a);
    return a;
  }

  /** Can `t` never be negative (ReLU/clip outputs, sigmoid, and pooling/layout of those)? */
  private nonNegative(t: string): boolean {
    const p = this.producer.get(t);
    if (!p) return false;
    const ins = p.input ?? [];
    const staticAtLeast0 = (c: string | undefined): boolean => !!c && this.stat.has(c) && this.floats(c).every((v) => v >= 0);
    switch (p.opType) {
      case 'Relu':
      case 'Sigmoid':
      case 'Softmax':
        return true;
      case 'Max':
        return ins.some((c) => staticAtLeast0(c)) || ins.every((c) => this.nonNegative(c));
      case 'Clip':
        return staticAtLeast0(ins[1]) || this.nonNegative(ins[0]!);
      case 'Min':
        return ins.every((c) => staticAtLeast0(c) || this.nonNegative(c));
      case 'Identity':
      case 'Transpose':
      case 'Reshape':
      case 'Flatten':
      case 'Squeeze':
      case 'Unsqueeze':
      case 'MaxPool':
      case 'AveragePool':
      case 'GlobalAveragePool':
      case 'ReduceMean':
        return this.nonNegative(ins[0]!);
      case 'Pad':
        return (!ins[2] || staticAtLeast0(ins[2])) && this.nonNegative(ins[0]!);
      case 'Concat':
        return ins.every((c) => this.nonNegative(c));
    }
    return false;
  }

  /**
   * P_in = a * adjoint(P / (forward(a) + eps)); with a negative part (see `act`) and signed
   * weights, the negative part goes through the negative weights: both products are >= 0.
   */
  private ebpLinear(x: string, P: string, forward: (a: string, part: 'pos' | 'neg') => string, adjoint: (r: string, part: 'pos' | 'neg') => string, signedWeights: boolean): void {
    const a = this.act(x);
    const neg = signedWeights ? a.neg : undefined;
    let z = forward(a.pos, 'pos');
    if (neg) z = this.op('Add', [z, forward(neg, 'neg')], `${x}/excitation_z`);
    z = this.op('Add', [z, this.f(`${x}/eps`, [this.eps], [])], `${x}/excitation_z`);
    const r = this.op('Div', [P, z], `${x}/excitation_ratio`);
    this.add(x, this.op('Mul', [a.pos, adjoint(r, 'pos')], `${x}/signal`));
    if (neg) this.add(x, this.op('Mul', [neg, adjoint(r, 'neg')], `${x}/signal_neg`));
  }

  /** Is `t` a gate: a sigmoid output, possibly reshaped/expanded? */
  private isGate(t: string): boolean {
    let cur = t;
    for (;;) {
      const p = this.producer.get(cur);
      if (!p) return false;
      if (p.opType === 'Sigmoid' || p.opType === 'HardSigmoid') return true;
      if (!['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Transpose'].includes(p.opType!)) return false;
      cur = p.input![0]!;
    }
  }

  /**
   * Excitation backprop. Linear layers (Conv, MatMul/Gemm with constant weights, AveragePool,
   * GlobalAveragePool, ReduceMean/ReduceSum) use positive (folded) weights and the non-negative
   * input activation (see `act`); no bias. Elementwise ops with a constant operand and
   * nonlinearities pass P through; layout ops invert; MaxPool routes P to the winner; Add of two
   * activations (residual) splits P in proportion to their positive parts (half each where both
   * are <= 0, so no mass is lost); Mul of an activation by a gate gives all P to the activation.
   */
  private excite(n: NodeProto, P: string): void {
    if (this.layout(n, P)) return;
    const ins = n.input ?? [];
    const x = ins[0]!;
    const y = n.output![0]!;
    const ys = this.shape(y);
    const d = this.depIn(n);
    const passTo = (t: string): void => this.add(t, this.reduceTo(P, ys, this.shape(t), `${t}/signal`));
    if (this.folded.has(n)) return passTo(x);
    switch (n.opType) {
      case 'Relu':
      case 'LeakyRelu':
      case 'PRelu':
      case 'Clip':
      case 'Sigmoid':
      case 'Tanh':
      case 'Neg':
      case 'BatchNormalization':
        if (d.join() !== '0') this.unsupported(n, 'a parameter depends on the input');
        return passTo(x);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'Max':
      case 'Min': {
        if (d.length === 1 && ins.length === 2) return passTo(ins[d[0]!]!);
        if (ins.length !== 2) this.unsupported(n, 'more than two operands');
        const [a, b] = [ins[0]!, ins[1]!];
        if (n.opType === 'Add' || n.opType === 'Sub') {
          const pa = this.op('Relu', [a], `${a}/excitation_pos`);
          const pb = this.op('Relu', [n.opType === 'Sub' ? this.op('Neg', [b], `${b}/neg`) : b], `${b}/excitation_pos`);
          const total = this.op('Add', [pa, pb], `${y}/excitation_total`);
          const share = this.op(
            'Where',
            [this.op('Greater', [total, this.f(`${y}/zero`, [0], [])], `${y}/excitation_any`), this.op('Div', [pa, total], `${y}/excitation_share`), this.f(`${y}/half`, [0.5], [])],
            `${y}/excitation_share`,
          );
          const toA = this.op('Mul', [P, share], `${a}/signal`);
          this.add(a, this.reduceTo(toA, ys, this.shape(a), `${a}/signal`));
          this.add(b, this.reduceTo(this.op('Sub', [P, toA], `${b}/signal`), ys, this.shape(b), `${b}/signal`));
          return;
        }
        if (n.opType === 'Mul') {
          const [ga, gb] = [this.isGate(a), this.isGate(b)];
          if (ga !== gb) return passTo(gb ? a : b);
          const [na, nb] = [this.shape(a), this.shape(b)].map((s) => s.reduce((p, q) => p * q, 1)) as [number, number];
          if (na !== nb) return passTo(na > nb ? a : b);
          const m = this.op('Cast', [this.op('GreaterOrEqual', [this.op('Abs', [a], `${a}/abs`), this.op('Abs', [b], `${b}/abs`)], `${y}/larger`)], `${y}/larger`, { to: 1 });
          const toA = this.op('Mul', [P, m], `${a}/signal`);
          this.add(a, toA);
          this.add(b, this.op('Sub', [P, toA], `${b}/signal`));
          return;
        }
        if (n.opType === 'Div') this.unsupported(n, 'division of two activations');
        // Max/Min of two activations: the winner takes P.
        const m = this.op('Cast', [this.op(n.opType === 'Max' ? 'GreaterOrEqual' : 'LessOrEqual', [a, b], `${y}/winner`)], `${y}/winner`, { to: 1 });
        const toA = this.op('Mul', [P, m], `${a}/signal`);
        this.add(a, this.reduceTo(toA, ys, this.shape(a), `${a}/signal`));
        this.add(b, this.reduceTo(this.op('Sub', [P, toA], `${b}/signal`), ys, this.shape(b), `${b}/signal`));
        return;
      }
      case 'Conv': {
        const w = this.foldedWeights.get(n);
        if (!w) this.unsupported(n, 'weights must be constant');
        const wd = w.data as Float32Array;
        const made: Partial<Record<'pos' | 'neg', string>> = {};
        const wts = (part: 'pos' | 'neg'): string =>
          (made[part] ??= this.f(`${ins[1]}/${part === 'pos' ? 'positive' : 'negative'}`, wd.map((v) => (part === 'pos' ? Math.max(v, 0) : Math.min(v, 0))), w.dims));
        const attrs = this.attrsOf(n);
        return this.ebpLinear(
          x,
          P,
          (a, part) => this.op('Conv', [a, wts(part)], `${y}/excitation_fwd`, attrs),
          (r, part) => this.convT(n, r, wts(part), `${x}/excitation_back`),
          true,
        );
      }
      case 'MatMul':
      case 'Gemm': {
        const w = this.foldedWeights.get(n);
        if (!w || w.dims.length !== 2) this.unsupported(n, 'excitation needs a constant 2-D weight matrix applied to the activation');
        const [K, N] = [w.dims[0]!, w.dims[1]!];
        const wd = w.data as Float32Array;
        const part = (sign: 'pos' | 'neg'): Float32Array => wd.map((v) => (sign === 'pos' ? Math.max(v, 0) : Math.min(v, 0)));
        const name = (sign: 'pos' | 'neg'): string => `${ins[1]}/${sign === 'pos' ? 'positive' : 'negative'}`;
        return this.ebpLinear(
          x,
          P,
          (a, sign) => this.op('MatMul', [a, this.f(name(sign), part(sign), [K, N])], `${y}/excitation_fwd`),
          (r, sign) => this.op('MatMul', [r, this.f(`${name(sign)}_T`, transpose2(part(sign), K, N), [N, K])], `${x}/excitation_back`),
          true,
        );
      }
      case 'AveragePool': {
        const attrs = this.attrsOf(n);
        return this.ebpLinear(
          x,
          P,
          (a) => this.op('AveragePool', [a], `${y}/excitation_fwd`, attrs),
          (r) => this.avgPoolT(n, r, `${x}/excitation_back`),
          false,
        );
      }
      case 'GlobalAveragePool':
      case 'ReduceMean':
      case 'ReduceSum': {
        const { axes, count } = this.reduction(n);
        const keep = n.opType === 'GlobalAveragePool' || attrInt(n, 'keepdims', 1) === 1;
        const axesT = this.g.int64s(`${x}/axes`, axes);
        return this.ebpLinear(
          x,
          P,
          (a) => {
            const s = this.op('ReduceSum', [a, axesT], `${y}/excitation_fwd`, { keepdims: keep ? 1 : 0 });
            return count === 1 ? s : this.op('Mul', [s, this.f(`${y}/inv_count`, [1 / count], [])], `${y}/excitation_fwd`);
          },
          (r) => this.op('Mul', [this.expandBack(n, r, axes), this.f(`${y}/inv_count`, [1 / count], [])], `${x}/excitation_back`),
          false,
        );
      }
      case 'MaxPool':
        return this.add(x, this.unpool(n, P));
    }
    this.unsupported(n);
  }
}

function transpose2(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}
