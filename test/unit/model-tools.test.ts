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
});
