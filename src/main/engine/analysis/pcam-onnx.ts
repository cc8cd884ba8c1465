/**
 * The PCAM training step (hinge loss of paper 000, Eq. 6, with weight decay) as an ONNX graph, so
 * onnxruntime can run it on the same execution provider as the recognizers (CUDA or WebGPU where
 * present). The graph computes the loss and its gradient in matrix form:
 *   P = X M^T (n x 2), U_ij = P_i - P_j, margin_ij = rho - R_ij (b - |U_ij|^2),
 *   A = (margin > 0) |R|,  C_i = sum_j (W_ij + W_ji) U_ij with W = 2 A R,
 *   dL/dM = C^T X / pairs + decay M,  dL/db = -sum(A R) / pairs,
 * where R holds r_ij for the pairs used (i < j) and 0 elsewhere. `hingeLoss` in pcam.ts is the
 * TypeScript reference it is tested against.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';
import type { PcamModel, PcamPair } from './pcam';

let cached: Uint8Array | undefined;

export function pcamGradientGraph(): Uint8Array {
  if (cached) return cached;
  const g = new GraphBuilder('pcam_hinge_gradient');
  const x = g.input('maps', 'float32', ['n', 'd']);
  const m = g.input('m', 'float32', [2, 'd']);
  const r = g.input('pairs', 'float32', ['n', 'n']);
  const b = g.input('b', 'float32', []);
  const rho = g.input('rho', 'float32', []);
  const decay = g.input('decay', 'float32', []);
  const ax0 = g.int64s('axis0', [0]);
  const ax1 = g.int64s('axis1', [1]);
  const ax2 = g.int64s('axis2', [2]);
  const zero = g.scalar('zero', 0);
  const two = g.scalar('two', 2);
  const half = g.scalar('half', 0.5);

  const p = g.op('MatMul', [x, g.op('Transpose', [m], 'm_t', { perm: [1, 0] })], 'projected');
  const u = g.op('Sub', [g.op('Unsqueeze', [p, ax1], 'p_i'), g.op('Unsqueeze', [p, ax0], 'p_j')], 'u');
  const d2 = g.op('ReduceSum', [g.op('Mul', [u, u], 'u2'), ax2], 'd2', { keepdims: 0 });
  const margin = g.op('Sub', [rho, g.op('Mul', [r, g.op('Sub', [b, d2], 'b_minus_d2')], 'r_b_d2')], 'margin');
  const used = g.op('Abs', [r], 'used');
  const active = g.op('Mul', [g.op('Cast', [g.op('Greater', [margin, zero], 'positive')], 'active_f', { to: 1 }), used], 'active');
  const pairs = g.op('ReduceSum', [used], 'pair_count', { keepdims: 0 });
  const hinge = g.op('Div', [g.op('ReduceSum', [g.op('Mul', [margin, active], 'hinge_terms')], 'hinge_sum', { keepdims: 0 }), pairs], 'hinge');
  const norm = g.op('ReduceSum', [g.op('Mul', [m, m], 'm2')], 'm_norm', { keepdims: 0 });
  g.node('Add', [hinge, g.op('Mul', [g.op('Mul', [half, decay], 'half_decay'), norm], 'penalty')], 'loss', {}, ['loss']);

  const w = g.op('Mul', [g.op('Mul', [active, r], 'active_r'), two], 'w');
  const wsym = g.op('Add', [w, g.op('Transpose', [w], 'w_t', { perm: [1, 0] })], 'w_sym');
  const c = g.op('ReduceSum', [g.op('Mul', [g.op('Unsqueeze', [wsym, ax2], 'w_sym3'), u], 'wu'), ax1], 'coef', { keepdims: 0 });
  const gm = g.op('Div', [g.op('MatMul', [g.op('Transpose', [c], 'coef_t', { perm: [1, 0] }), x], 'ctx'), pairs], 'grad_hinge_m');
  g.node('Add', [gm, g.op('Mul', [decay, m], 'decay_m')], 'grad_m', {}, ['grad_m']);
  g.node('Div', [g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [active, r], 'ar')], 'ar_sum', { keepdims: 0 })], 'neg_ar'), pairs], 'grad_b', {}, ['grad_b']);
  g.output('loss', 'float32', []);
  g.output('grad_m', 'float32', [2, 'd']);
  g.output('grad_b', 'float32', []);
  cached = g.toBytes({ producer: 'facet', version: 'pcam-gradient-1' });
  return cached;
}

/** Runs the gradient graph; create once per training and reuse across epochs. */
export class OnnxPcamGradient {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly maps: ort.Tensor,
    private readonly pairs: ort.Tensor,
  ) {}

  static async create(maps: Float32Array[], pairs: PcamPair[], provider: 'cpu' | 'cuda' | 'webgpu' = 'cpu'): Promise<OnnxPcamGradient> {
    const n = maps.length;
    const d = maps[0]?.length ?? 0;
    const x = new Float32Array(n * d);
    maps.forEach((f, i) => x.set(f, i * d));
    const r = new Float32Array(n * n);
    for (const pr of pairs) r[Math.min(pr.i, pr.j) * n + Math.max(pr.i, pr.j)] = pr.r;
    const session = await ort.InferenceSession.create(pcamGradientGraph(), { executionProviders: [provider] });
    return new OnnxPcamGradient(session, new ort.Tensor('float32', x, [n, d]), new ort.Tensor('float32', r, [n, n]));
  }

  async step(model: PcamModel, decay: number): Promise<{ loss: number; gradM: Float32Array; gradB: number }> {
    const d = model.m.length / 2;
    const out = await this.session.run({
      maps: this.maps,
      m: new ort.Tensor('float32', model.m, [2, d]),
      pairs: this.pairs,
      b: new ort.Tensor('float32', Float32Array.of(model.b), []),
      rho: new ort.Tensor('float32', Float32Array.of(model.rho), []),
      decay: new ort.Tensor('float32', Float32Array.of(decay), []),
    });
    return { loss: (out['loss']!.data as Float32Array)[0]!, gradM: out['grad_m']!.data as Float32Array, gradB: (out['grad_b']!.data as Float32Array)[0]! };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
