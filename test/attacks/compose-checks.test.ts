// attacks/compose.ts's refusals (the #16 refactor moved the attack kinds to src/core/attack.ts and left these
// checks here; the coverage comparison in results/coverage/ found them unreached). The scorers and policies
// below are test doubles that return fixed answers; no model runs.
import { describe, expect, it } from 'vitest';
import { composeAttack, scoreRows } from '../../attacks/compose.js';
import type { Policy } from '../../attacks/policies.js';
import type { RowScorer } from '../../attacks/scorers/types.js';
import { ConfigError } from '../../src/errors.js';
import type { ProviderContext, TrainingPlan } from '../../src/types.js';

const rows = [
  { prompt: 'a', completion: 'b' },
  { prompt: 'c', completion: 'd' },
  { prompt: 'e', completion: 'f' },
];
const plan = { rows, hyper: {} } as unknown as TrainingPlan;
const ctx = {} as ProviderContext;
const scorerDouble = (answer: { scores: number[]; flagged: boolean[] }, yieldsSpans = false): RowScorer => ({
  id: 'fixed-answer',
  access: [],
  yieldsSpans,
  score: async () => answer,
});
const policyDouble = (needsSpans: boolean): Policy => ({ id: needsSpans ? 'needs-spans' : 'plain', goal: 'evade', needsSpans, apply: (r) => [...r] });

describe('scoreRows', () => {
  it('passes a well-shaped answer through', async () => {
    const answer = { scores: [0.1, 0.9, 0.2], flagged: [false, true, false] };
    expect(await scoreRows(scorerDouble(answer), plan, ctx)).toBe(answer);
  });

  it('refuses an answer with fewer scores or flags than rows, naming the scorer and the counts', async () => {
    await expect(scoreRows(scorerDouble({ scores: [0.1, 0.9], flagged: [false, true, false] }), plan, ctx)).rejects.toThrow(
      new ConfigError("scorer 'fixed-answer' returned 2 scores / 3 flags for 3 rows"),
    );
    await expect(scoreRows(scorerDouble({ scores: [0.1, 0.9, 0.2], flagged: [true] }), plan, ctx)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('composeAttack', () => {
  it('refuses a span policy over a scorer that yields no spans', () => {
    expect(() => composeAttack({ id: 'x', scorer: scorerDouble({ scores: [], flagged: [] }), policy: policyDouble(true) })).toThrow(
      "attack 'x': option 'policy' ('needs-spans') needs spans, but scorer 'fixed-answer' yields none (pick a span-yielding scorer)",
    );
    // The same policy over a span-yielding scorer is accepted.
    expect(composeAttack({ id: 'x', scorer: scorerDouble({ scores: [], flagged: [] }, true), policy: policyDouble(true) }).goal).toBe('evade');
  });

  it('refuses a recipe with neither a policy nor a goal', () => {
    expect(() => composeAttack({ id: 'y' })).toThrow(new ConfigError("attack 'y': no goal: give a policy or a goal"));
    expect(composeAttack({ id: 'y', goal: 'pass' }).goal).toBe('pass');
  });
});
