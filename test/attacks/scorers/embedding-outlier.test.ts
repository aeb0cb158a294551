import { describe, expect, it } from 'vitest';
import { embeddingOutlier, outlierScores } from '../../../attacks/scorers/embedding-outlier.js';
import { knn, lof, normalise } from '../../../attacks/scorers/lib/knn.js';
import { Rng } from '../../../src/rng.js';
import { aurocOf, fakeContext, plantedDataset } from '../fakes.js';

describe('embedding-outlier scorer', () => {
  it('finds points off a tight cluster (kNN + LOF, rank-averaged)', () => {
    const rng = new Rng('emb');
    const vecs = Array.from({ length: 300 }, () => Float32Array.from({ length: 16 }, (_, j) => (j === 0 ? 10 : 0) + rng.normal()));
    const outliers = [7, 150, 299];
    for (const i of outliers) vecs[i] = Float32Array.from({ length: 16 }, (_, j) => (j === 5 ? 10 : 0) + rng.normal());
    const s = outlierScores(vecs, 10, 20);
    const mask = vecs.map((_, i) => outliers.includes(i));
    expect(aurocOf(s, mask)).toBe(1);
  });

  it('kNN is exact and LOF ≈ 1 inside a uniform cluster', () => {
    const pts = [[1, 0], [0.99, 0.1], [0.98, 0.2], [0, 1]].map((p) => Float32Array.from(p));
    const nb = knn(normalise(pts), 2);
    expect(Array.from(nb.index.subarray(0, 2))).toEqual([1, 2]);
    expect(Array.from(nb.index.subarray(6, 8))).toEqual([2, 1]);
    const grid = Array.from({ length: 40 }, (_, i) => Float32Array.from([Math.cos(i / 100), Math.sin(i / 100)]));
    const l = lof(knn(normalise(grid), 5), 5, grid.length);
    expect(Math.abs(l[20]! - 1)).toBeLessThan(0.2);
  });

  it('scores planted rows of the fake dataset above clean ones', async () => {
    const { rows, mask } = plantedDataset({ clean: 200, backdoors: 6, seed: 'emb-data' });
    const r = await embeddingOutlier({ field: 'completion' }).score(rows, fakeContext());
    expect(aurocOf(r.scores, mask)).toBeGreaterThan(0.8);
  });
});
