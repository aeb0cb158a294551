/**
 * The row-scorer contract for every registry entry (STYLE.md rule 7): option validation with the option's name,
 * and src/check's rules (declares, purity, shape, seeding, barrier).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scorers } from '../../../attacks/scorers/index.js';
import { ConfigError } from '../../../src/errors.js';
import { checkScorer, type RuleResult } from '../../../src/check/index.js';
import { fakeContext, fakeLm, plantedDataset } from '../fakes.js';

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
      // The general rules are src/check's (the code `vtune-bench check` runs on a researcher's scorer), here on the
      // fake word-level LM of ../fakes.ts (a TEST DOUBLE); the barrier rule runs a real cell (see src/check/scorer.ts).
      let results: RuleResult[] = [];
      beforeAll(async () => {
        results = await checkScorer(id, scorers.get(id), { rows, context: (seed) => fakeContext(id === 'llm-judge' ? judgeAnswers : fakeLm(), seed) });
      });
      it.each(['declares', 'purity', 'shape', 'seeding', 'barrier'])('src/check rule: %s', (rule) => {
        const r = results.find((x) => x.rule === rule);
        expect(r, `rule ${rule} was not run`).toBeDefined();
        // Exemption with a reason: the barrier cell runs on test-memorizer, which gives no embeddings.
        expect(r!.status, r!.detail).toBe(rule === 'barrier' && id === 'embedding-outlier' ? 'skip' : 'pass');
      });
      it('scores without NaN on the fake LM (no scorer is unavailable here)', async () => {
        const a = await scorers.get(id)().score(rows, fakeContext(id === 'llm-judge' ? judgeAnswers : fakeLm(), 'seed-1'));
        expect(a.unavailable).toBeUndefined();
        expect(a.scores.every((x) => !Number.isNaN(x))).toBe(true);
      });
    });
  }

  it('unknown scorer ids get a did-you-mean', () => {
    expect(() => scorers.get('perplexty')).toThrow(/Did you mean 'perplexity'/);
  });
});
