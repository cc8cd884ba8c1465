import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/main/engine';
import { GraphBuilder } from '../../src/main/engine/onnx/builder';
import { REPO_ROOT, tempDir } from '../helpers/fixtures';

const MODELS_DIR = path.join(REPO_ROOT, 'resources/models');

/**
 * A lab's recognizer stand-in: a real ONNX file (NHWC 32x32 input -> conv -> global pool -> 8-d),
 * built here because no lab model can be downloaded; what is tested is Facet's registration.
 */
function labModel(opts: { input?: string; size?: number; dim?: number } = {}): Uint8Array {
  const size = opts.size ?? 32;
  const dim = opts.dim ?? 8;
  const g = new GraphBuilder('lab');
  g.input(opts.input ?? 'pixels', 'float32', ['batch', size, size, 3]);
  const x = g.op('Transpose', [opts.input ?? 'pixels'], 'nchw', { perm: [0, 3, 1, 2] });
  const w = g.initializer('w', new Float32Array(dim * 3 * 9).map((_, i) => Math.sin(i)), [dim, 3, 3, 3]);
  const f = g.node('Conv', [x, w], 'conv', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['features'])[0]!;
  const pooled = g.op('GlobalAveragePool', [f], 'gap');
  g.node('Flatten', [pooled], 'flat', {}, ['descriptor']);
  g.output('descriptor', 'float32', ['batch', dim]);
  g.output('features', 'float32', ['batch', dim, size, size]);
  return g.toBytes({ producer: 'lab', version: '1' });
}

const entry = {
  id: 'lab-net',
  description: 'test lab recognizer',
  input: { name: 'pixels', height: 32, width: 32, colorOrder: 'RGB', range: [0, 1] },
  outputs: { embedding: 'descriptor', featureMap: 'features' },
  embeddingDim: 8,
  alignment: { kind: 'box', size: [32, 32], margin: 0.1 },
};

describe('bring-your-own recognizer', () => {
  const tmp = tempDir();
  const engine = createEngine({ catalogDir: path.join(tmp.dir, 'catalog'), modelsDir: MODELS_DIR });
  afterAll(async () => {
    await engine.close();
    tmp.cleanup();
  });
  const file = (name: string, bytes: Uint8Array | string): string => {
    const p = path.join(tmp.dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const register = (f: string, e: unknown) => engine.handlers['models.register']({ file: f, entry: e });

  it('registers a matching model and runs it through the same runtime as the bundled ones', async () => {
    const added = await register(file('good.onnx', labModel()), entry);
    expect(added.id).toBe('lab-net');
    const out = await engine.inference().run('lab-net', new Float32Array(32 * 32 * 3).fill(0.5));
    expect(out['descriptor']!.dims).toEqual([1, 8]);
    const report = await engine.doctor(true);
    expect(report.models.find((m) => m.id === 'lab-net')).toMatchObject({ present: true, verified: true, source: 'lab@-' });
  });

  it.each([
    ['a wrong input name', labModel({ input: 'image' }), { ...entry, id: 'lab-a' }, /no input named "pixels" \(the model's inputs: image\)/],
    ['a wrong input size', labModel({ size: 48 }), { ...entry, id: 'lab-b' }, /shape \[batch, 48, 48, 3\]; the entry says NHWC \[batch, 32, 32, 3\]/],
    ['a wrong embedding size', labModel({ dim: 16 }), { ...entry, id: 'lab-c' }, /output "descriptor" has shape \[1, 16\]; the entry says \[batch, 8\]/],
    ['a missing output', labModel(), { ...entry, id: 'lab-two', outputs: { embedding: 'emb' } }, /no output named "emb" for the embedding/],
    ['a file that is not ONNX', 'not a model', { ...entry, id: 'lab-three' }, /not a loadable ONNX model/],
    ['an invalid entry', labModel(), { ...entry, id: 'Lab Net!' }, /The manifest entry is invalid: id: use lowercase/],
    ['a taken id', labModel(), { ...entry, id: 'faceres' }, /already registered/],
  ])('refuses %s with a clear error and registers nothing', async (_label, bytes, e, message) => {
    const before = (await engine.doctor(false)).models.length;
    await expect(register(file(`bad-${Math.random().toString(36).slice(2)}.onnx`, bytes), e)).rejects.toThrow(message);
    expect((await engine.doctor(false)).models.length).toBe(before);
  });
});
