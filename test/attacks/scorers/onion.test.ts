import { describe, expect, it } from 'vitest';
import { onion } from '../../../attacks/scorers/onion.js';
import { aurocOf, fakeContext, plantedDataset } from '../fakes.js';

describe('onion scorer', () => {
  const { rows, mask, triggers } = plantedDataset({ clean: 150, backdoors: 5, seed: 'onion' });

  it('ranks triggered prompts highest and returns the trigger words as prompt spans', async () => {
    const r = await onion({ flag: { kind: 'top-fraction', q: 5 / rows.length } }).score(rows, fakeContext());
    expect(aurocOf(r.scores, mask)).toBeGreaterThan(0.95);
    const flagged = r.flagged.flatMap((f, i) => (f ? [i] : []));
    expect(flagged.every((i) => mask[i])).toBe(true);
    for (const i of flagged) {
      const got = r.spans![i]!.map((s) => rows[i]!.prompt.slice(s.start, s.end));
      expect(r.spans![i]!.every((s) => s.field === 'prompt')).toBe(true);
      expect(triggers).toContain(got.join(' ').replace(/\.$/, ''));
    }
  });

  it('looks at completions when asked', async () => {
    const r = await onion({ field: 'completion' }).score(rows, fakeContext());
    expect(aurocOf(r.scores, mask)).toBeGreaterThan(0.95);
    expect(() => onion({ field: 'title' })).toThrow(/: field: /);
  });
});
