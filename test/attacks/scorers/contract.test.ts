import { describe, expect, it } from 'vitest';
import { scorers } from '../../../attacks/scorers/index.js';
import { ConfigError } from '../../../src/errors.js';
import type { Row } from '../../../src/types.js';
import { fakeContext, fakeLm, frozen, plantedDataset } from '../fakes.js';

/** Options that let each scorer run on the fake LM (llm-judge needs a judge that answers in format). */
const judgeAnswers = fakeLm('fake:judge', {
  generate: (prompt) =>
    [...prompt.matchAll(/^Row (\d+)$/gm)].map((m) => `${m[1]} | 0 |`).join('\n'),
});

describe('row-scorer contract (every registry entry)', () => {
  const { rows } = plantedDataset({ clean: 60, backdoors: 3, shared: true, copies: true });
  for (const id of scorers.ids) {
    describe(id, () => {
      it('rejects an unknown option with a ConfigError naming it', () => {
        expect(() => scorers.get(id)({ bogusOption: 1 })).toThrow(ConfigError);
        expect(() => scorers.get(id)({ bogusOption: 1 })).toThrow(/bogusOption/);
      });
      it('rejects a malformed flag rule naming the option', () => {
        expect(() => scorers.get(id)({ flag: { kind: 'top-fraction', q: 2 } })).toThrow(/flag/);
      });
      it('returns one score and flag per row, never mutates rows, and is deterministic for a seed', async () => {
        const input = frozen(rows) as readonly Row[];
        const before = JSON.stringify(input);
        const ctx = () => fakeContext(id === 'llm-judge' ? judgeAnswers : fakeLm(), 'seed-1');
        const a = await scorers.get(id)().score(input, ctx());
        const b = await scorers.get(id)().score(input, ctx());
        expect(JSON.stringify(input)).toBe(before);
        expect(a.scores).toHaveLength(rows.length);
        expect(a.flagged).toHaveLength(rows.length);
        expect(a.scores.every((s) => typeof s === 'number' && !Number.isNaN(s))).toBe(true);
        if (a.spans) expect(a.spans).toHaveLength(rows.length);
        expect(b).toEqual(a);
        const s = scorers.get(id)();
        expect(s.id).toBe(id);
        expect(s.access.length).toBeGreaterThan(0);
      });
    });
  }

  it('unknown scorer ids get a did-you-mean', () => {
    expect(() => scorers.get('perplexty')).toThrow(/Did you mean 'perplexity'/);
  });
});
