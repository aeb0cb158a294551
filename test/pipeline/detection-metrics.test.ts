import { describe, expect, it } from 'vitest';
import { auroc, detectionMetrics, tprAtFpr } from '../../src/pipeline/detection-metrics.js';
import { Rng } from '../../src/rng.js';

/** O(P·N) pairwise definition, for cross-checking. */
function aurocBrute(s: number[], m: boolean[]): number {
  let w = 0;
  let n = 0;
  s.forEach((a, i) => s.forEach((b, j) => {
    if (m[i] && !m[j]) {
      n++;
      w += a > b ? 1 : a === b ? 0.5 : 0;
    }
  }));
  return w / n;
}

describe('detection metrics', () => {
  it('AUROC: perfect, inverted, all tied, and equal to the pairwise definition with ties', () => {
    expect(auroc([3, 2, 1, 0], [true, true, false, false])).toBe(1);
    expect(auroc([0, 1, 2, 3], [true, true, false, false])).toBe(0);
    expect(auroc([1, 1, 1, 1], [true, false, false, false])).toBe(0.5);
    expect(auroc([1, 2], [false, false])).toBeNaN();
    const rng = new Rng('auroc');
    const s = Array.from({ length: 300 }, () => rng.int(20));
    const m = s.map(() => rng.float() < 0.1);
    expect(auroc(s, m)).toBeCloseTo(aurocBrute(s, m), 12);
  });

  it('NaN scores rank lowest', () => {
    expect(auroc([NaN, 1], [true, false])).toBe(0);
  });

  it('TPR at 1% FPR: ties move together, and the FPR budget is respected', () => {
    // 200 clean rows: at most 2 may be flagged. Backdoors score 5 (two of them) or 1 (tied with clean rows).
    const scores = [5, 5, 1, 1, ...Array.from({ length: 200 }, (_, i) => (i < 2 ? 4 : i < 10 ? 3 : 0))];
    const mask = [true, true, true, true, ...Array.from({ length: 200 }, () => false)];
    expect(tprAtFpr(scores, mask)).toBe(0.5); // threshold 4: 2 TP, 2 FP = 1%; threshold 3 would be 5% FPR
    expect(tprAtFpr([1, 1, 1], [true, false, false])).toBe(0); // the only threshold flags every clean row
    expect(tprAtFpr([2, 1, 1], [true, false, false])).toBe(1);
  });

  it('flagged fractions: overall and clean collateral', () => {
    const d = detectionMetrics([1, 0, 0, 0], [true, false, false, false], [true, true, false, false]);
    expect(d.flaggedFraction).toBe(0.5);
    expect(d.cleanFlaggedFraction).toBeCloseTo(1 / 3, 12);
    expect(() => detectionMetrics([1], [true, false])).toThrow(/1 scores for a mask of 2/);
  });
});
