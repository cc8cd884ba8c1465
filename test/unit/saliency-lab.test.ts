import { describe, expect, it } from 'vitest';
import { hidingGameSpec, topShare } from '../../src/renderer/src/lib/saliency';

describe('the saliency lab helpers', () => {
  it('keeps only the top 5 % of pixels by intensity (paper 002), in place, others zero', () => {
    // A shuffled ramp 1..200: the top 5 % are exactly 191..200, wherever they lie.
    const values = Array.from({ length: 200 }, (_, i) => ((i * 73) % 200) + 1);
    const kept = topShare(values, 0.05);
    expect(kept).toHaveLength(200);
    expect(kept.filter((v) => v > 0).sort((a, b) => a - b)).toEqual([191, 192, 193, 194, 195, 196, 197, 198, 199, 200]);
    kept.forEach((v, i) => expect(v === 0 || v === values[i]).toBe(true));
  });

  it('keeps ties at the cut and never turns an empty map into a painted one', () => {
    expect(topShare([0, 0, 0, 0], 0.05)).toEqual([0, 0, 0, 0]);
    expect(topShare([1, 5, 5, 5, 2], 0.2)).toEqual([0, 5, 5, 5, 0]);
  });

  it('draws one replacement, in percent, one line per method', () => {
    const cell = (method: 'ebp' | 'random', replacement: 'zero' | 'mean', level: number, rank1: number) => ({ method, replacement, level, rank1, verified: rank1 / 2, n: 3 });
    const cells = [cell('ebp', 'zero', 0.5, 1), cell('random', 'zero', 0.5, 1 / 3), cell('ebp', 'mean', 0.5, 0)];
    const spec = hidingGameSpec(cells, 'zero', 'rank1', 'Hiding game') as { data: { values: { method: string; hidden: number; correct: number }[] }; title: { text: string } };
    expect(spec.data.values).toEqual([
      { method: 'Excitation backprop', hidden: 50, correct: 100 },
      { method: 'Random (baseline)', hidden: 50, correct: 100 * (1 / 3) },
    ]);
    expect(spec.title.text).toContain('replacement: zero');
    const verified = hidingGameSpec(cells, 'mean', 'verified', 'Hiding game') as typeof spec;
    expect(verified.data.values).toEqual([{ method: 'Excitation backprop', hidden: 50, correct: 0 }]);
  });
});
