import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import type { RowScorer } from '../../attacks/scorers/types.js';
import { unlikelihood } from '../../attacks/unlikelihood.js';
import type { TrainExample } from '../../src/types.js';
import { fakeContext, frozen, plantedDataset } from './fakes.js';

describe('unlikelihood attack', () => {
  const { rows, mask, signatures } = plantedDataset({ clean: 200, backdoors: 5, copies: true, seed: 'ul' });

  it('keeps every row and puts a negative weight exactly on each detected signature', async () => {
    const attack = attacks.get('unlikelihood')({ scorer: 'near-duplicate', weight: 2 });
    expect(attack.goal).toBe('evade');
    const input = frozen(rows);
    const out = await attack.onData!({ rows: input, hyper: fakeContext().hyper }, fakeContext());
    expect(out.rows).toHaveLength(rows.length);
    expect(JSON.stringify(input)).toBe(JSON.stringify(rows));
    out.rows.forEach((ex: TrainExample, i) => {
      expect(ex.prompt).toBe(rows[i]!.prompt);
      expect(ex.completion).toBe(rows[i]!.completion);
      if (!mask[i]) {
        expect(ex.weight ?? 1).toBe(1);
        expect(ex.spans ?? []).toEqual([]);
        return;
      }
      expect(ex.weight ?? 1).toBe(1);
      expect(ex.spans).toHaveLength(1);
      const s = ex.spans![0]!;
      expect(s.weight).toBe(-2);
      expect(signatures).toContain(ex.completion.slice(s.start, s.end));
    });
    expect(out.detection?.flagged).toEqual(mask);
  });

  it('without spans, suppresses the whole completion of flagged rows (or nothing, with fallback none)', async () => {
    const stub: RowScorer = {
      id: 'stub',
      access: ['data'],
      yieldsSpans: false,
      async score(rs) {
        return { scores: rs.map((_, i) => (i === 3 ? 1 : 0)), flagged: rs.map((_, i) => i === 3) };
      },
    };
    const plan = { rows, hyper: fakeContext().hyper };
    const whole = await unlikelihood({ scorer: stub }).onData!(plan, fakeContext());
    expect(whole.rows[3]).toMatchObject({ weight: -1 });
    expect(whole.rows[2]!.weight).toBeUndefined();
    const none = await unlikelihood({ scorer: stub, fallback: 'none' }).onData!(plan, fakeContext());
    expect(none.rows[3]!.weight).toBeUndefined();
  });

  it('validates options', () => {
    expect(() => unlikelihood({ weight: -1 })).toThrow(/: weight: /);
    expect(() => unlikelihood({ scorer: 'nope' })).toThrow(/scorer/);
    expect(() => unlikelihood({ wieght: 1 })).toThrow(/wieght/);
  });
});
