import { describe, expect, it } from 'vitest';
import { Rng, streamFor } from '../../src/rng.js';

describe('Rng', () => {
  it('is deterministic per key and purpose, and streams differ', () => {
    const a = streamFor('cell-1', 'planting');
    const b = streamFor('cell-1', 'planting');
    const c = streamFor('cell-1', 'provider');
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('draws uniform integers without bias (chi-square on 10 bins)', () => {
    const rng = new Rng('uniform');
    const counts = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[rng.int(10)]++;
    const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 critical value, 9 degrees of freedom
  });

  it('floats lie in [0, 1) with mean 1/2', () => {
    const rng = new Rng('float');
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 50_000; i++) {
      const x = rng.float();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / 50_000 - 0.5)).toBeLessThan(0.01);
  });

  it('shuffles without mutating and samples distinct indices', () => {
    const rng = new Rng('shuffle');
    const input = [1, 2, 3, 4, 5, 6];
    const out = rng.shuffle(input);
    expect(input).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...out].sort()).toEqual(input);
    const idx = rng.sampleIndices(1000, 50);
    expect(new Set(idx).size).toBe(50);
    expect(idx.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(() => rng.sampleIndices(3, 4)).toThrow(RangeError);
  });

  it('forks independent, reproducible child streams', () => {
    const f1 = new Rng('p').fork('x');
    const f2 = new Rng('p').fork('x');
    expect(f1.nextUint32()).toBe(f2.nextUint32());
  });
});
