import { describe, expect, it } from 'vitest';
import { auroc, detectionMetrics, formatAuroc, gradeDetection, tprAtFpr } from '../../src/pipeline/detection-metrics.js';
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

describe('gradeDetection (issue 15: an unavailable score is null with a reason, never 0.5 or NaN)', () => {
  const mask = [true, false, false, false];
  it('grades ordinary scores as detectionMetrics does', () => {
    const g = gradeDetection({ scores: [4, 1, 2, 3], flagged: [true, false, false, false] }, mask);
    expect(g).toEqual({ auroc: 1, tprAt1Fpr: 1, flaggedFraction: 0.25, cleanFlaggedFraction: 0 });
    expect(formatAuroc(g)).toBe('1.000');
  });
  it('a scorer that says it is unavailable gets null metrics and its reason, even with scores that would rank 0.5', () => {
    const g = gradeDetection({ scores: [0, 0, 0, 0], flagged: [false, false, false, false], unavailable: "judge 'x' gave no verdict" }, mask);
    expect(detectionMetrics([0, 0, 0, 0], mask).auroc).toBe(0.5);
    expect(g).toMatchObject({ auroc: null, tprAt1Fpr: null, unavailable: "judge 'x' gave no verdict" });
    expect(formatAuroc(g)).toBe("n/a (judge 'x' gave no verdict)");
  });
  it('all-NaN scores and a mask without both classes are unavailable with the reason', () => {
    expect(gradeDetection({ scores: [NaN, NaN, NaN, NaN], flagged: [false, false, false, false] }, mask)).toMatchObject({ auroc: null, unavailable: 'the scorer gave no row a score' });
    expect(gradeDetection({ scores: [1, 2], flagged: [false, false] }, [false, false])).toMatchObject({ auroc: null, unavailable: 'no backdoor row among the scored rows' });
    expect(gradeDetection({ scores: [1, 2], flagged: [false, false] }, [true, true])).toMatchObject({ auroc: null, unavailable: 'no clean row among the scored rows' });
    // JSON keeps the null and the reason (a NaN would silently become null without one)
    expect(JSON.parse(JSON.stringify(gradeDetection({ scores: [NaN, NaN, NaN, NaN], flagged: [false, false, false, false] }, mask))).auroc).toBeNull();
  });
});
