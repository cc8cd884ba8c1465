import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertTfjsGraph, UnsupportedOpError, type TfjsModelJson } from '../../tools/models/tfjs/graph-to-onnx';
import { float16ToFloat32, type Tensor } from '../../tools/models/tfjs/weights';

describe('model tools', () => {
  it('decodes float16 like IEEE 754 half precision', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x3555)).toBeCloseTo(0.33325, 5);
    expect(float16ToFloat32(0x0001)).toBeCloseTo(5.96e-8, 10); // smallest subnormal
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(float16ToFloat32(0x7e00))).toBe(true);
  });

  it('fails loudly, naming the op and node, on an op it cannot convert', () => {
    const json: TfjsModelJson = {
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '4' }] } } } },
          { name: 'weird/cumsum', op: 'Cumsum', input: ['x'] },
        ],
      },
      weightsManifest: [],
    };
    const convert = (): unknown => convertTfjsGraph(json, new Map<string, Tensor>(), { graphName: 't', outputs: [{ tf: 'weird/cumsum', onnx: 'y' }] });
    expect(convert).toThrow(UnsupportedOpError);
    expect(convert).toThrow('Unsupported TF op Cumsum (node weird/cumsum)');
  });

  it('converts Sum and Mean over axes into runnable opset-13 reductions', async () => {
    const node = (name: string, op: string, input: string[], keep: boolean) => ({ name, op, input, attr: { keep_dims: { b: keep } } });
    const json: TfjsModelJson = {
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '2' }, { size: '3' }] } } } },
          { name: 'axes', op: 'Const' },
          node('sum', 'Sum', ['x', 'axes'], false),
          node('mean', 'Mean', ['x', 'axes'], true),
        ],
      },
      weightsManifest: [],
    };
    const weights = new Map<string, Tensor>([['axes', { dtype: 'int32', shape: [1], data: Int32Array.of(-1) }]]);
    const g = convertTfjsGraph(json, weights, { graphName: 't', outputs: [{ tf: 'sum', onnx: 'sum' }, { tf: 'mean', onnx: 'mean' }] });
    const session = await ort.InferenceSession.create(g.toBytes({ producer: 'test', version: '1' }));
    const out = await session.run({ image: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [1, 2, 3]) });
    expect(Array.from(out['sum']!.data as Float32Array)).toEqual([6, 15]);
    expect(out['mean']!.dims).toEqual([1, 2, 1]);
    expect(Array.from(out['mean']!.data as Float32Array)).toEqual([2, 5]);
  });
});
