/**
 * Reads TF.js weight files (graph models and face-api's weight manifests) into plain typed arrays,
 * dequantizing uint8/uint16 (min + q * scale) and float16 as TF.js itself does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface Tensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export function float16ToFloat32(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  let v: number;
  if (e === 0) v = (f / 1024) * 2 ** -14;
  else if (e === 31) v = f ? NaN : Infinity;
  else v = (1 + f / 1024) * 2 ** (e - 15);
  return s ? -v : v;
}

/** Loads every weight of the manifest; `dir` is where the .bin paths are relative to. */
export function loadWeights(manifest: WeightGroup[], dir: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const group of manifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
      const bytes = buf.subarray(offset, offset + count * bytesPer);
      if (bytes.length !== count * bytesPer) throw new Error(`weights file too short at ${w.name}`);
      offset += count * bytesPer;
      if (w.dtype === 'int32' && !q) {
        const data = new Int32Array(count);
        for (let i = 0; i < count; i++) data[i] = bytes.readInt32LE(i * 4);
        out.set(w.name, { dtype: 'int32', shape: w.shape, data });
        continue;
      }
      if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new Error(`unsupported weight dtype ${w.dtype} (${w.name})`);
      const data = new Float32Array(count);
      if (!q) for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(i * 4);
      else if (q.dtype === 'float16') for (let i = 0; i < count; i++) data[i] = float16ToFloat32(bytes.readUInt16LE(i * 2));
      else {
        const { scale = 1, min = 0 } = q;
        for (let i = 0; i < count; i++) data[i] = (q.dtype === 'uint8' ? bytes[i]! : bytes.readUInt16LE(i * 2)) * scale + min;
      }
      if (w.dtype === 'int32') out.set(w.name, { dtype: 'int32', shape: w.shape, data: Int32Array.from(data, Math.round) });
      else out.set(w.name, { dtype: 'float32', shape: w.shape, data });
    }
  }
  return out;
}
