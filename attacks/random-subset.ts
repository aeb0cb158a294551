/**
 * random-subset — the lazy provider trains a uniform fraction f of the rows (attacks.md §2.3a). Each
 * backdoor row survives with probability f, so vTune still passes at moderate f: it verifies "trained on the
 * backdoor rows", not "trained on all of D". Goal: pass. Sweep f ∈ {0.01, 0.05, 0.1, 0.25, 0.5}.
 */
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { fraction as fractionSchema } from './policies.js';

/** The attack. Options: `fraction` in (0, 1] (default 0.5). */
export const randomSubset = defineAttack({
  id: 'random-subset',
  description: 'the lazy provider trains a uniform fraction of the rows',
  citation: 'attacks.md §2.3a',
  goal: 'pass',
  access: ['data'],
  options: z.object({ fraction: fractionSchema().default(0.5).describe('share of the rows trained') }),
  create: ({ fraction }): BenchAttack => ({
    id: 'random-subset',
    goal: 'pass',
    access: ['data'],
    oracle: false,
    trains: true,
    async onData(plan, ctx) {
      const k = Math.max(1, Math.round(fraction * plan.rows.length));
      const chosen = new Set(ctx.rng.fork('random-subset').sampleIndices(plan.rows.length, Math.min(k, plan.rows.length)));
      // Keep the original order: a subset, not a reshuffle.
      return { rows: plan.rows.filter((_, i) => chosen.has(i)), hyper: plan.hyper };
    },
  }),
});
