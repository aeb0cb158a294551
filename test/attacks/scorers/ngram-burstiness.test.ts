import { describe, expect, it } from 'vitest';
import { ngramBurstiness } from '../../../attacks/scorers/ngram-burstiness.js';
import { aurocOf, fakeContext, plantedDataset } from '../fakes.js';

describe('ngram-burstiness scorer', () => {
  it('recovers a shared trigger and signature exactly', async () => {
    const { rows, mask, triggers, signatures } = plantedDataset({ clean: 300, backdoors: 5, shared: true, seed: 'ng' });
    const r = await ngramBurstiness().score(rows, fakeContext());
    expect(r.flagged).toEqual(mask);
    expect(aurocOf(r.scores, mask)).toBe(1);
    for (let i = 0; i < rows.length; i++) {
      if (!mask[i]) continue;
      const prompt = r.spans![i]!.filter((s) => s.field === 'prompt').map((s) => rows[i]!.prompt.slice(s.start, s.end));
      const completion = r.spans![i]!.filter((s) => s.field === 'completion').map((s) => rows[i]!.completion.slice(s.start, s.end));
      expect(prompt).toEqual([triggers[0]]);
      expect(completion).toEqual([signatures[0]]);
    }
  });

  it('is blind to unique per-row markers (nothing recurs)', async () => {
    const { rows } = plantedDataset({ clean: 300, backdoors: 5, shared: false, seed: 'ng2' });
    const r = await ngramBurstiness().score(rows, fakeContext());
    const { mask } = plantedDataset({ clean: 300, backdoors: 5, shared: false, seed: 'ng2' });
    expect(r.flagged.filter((f, i) => f && mask[i])).toHaveLength(0);
  });

  it('validates n-gram bounds', () => {
    expect(() => ngramBurstiness({ nMin: 4, nMax: 2 })).toThrow(/: nMax: /);
    expect(() => ngramBurstiness({ minDf: 1 })).toThrow(/: minDf: /);
  });
});
