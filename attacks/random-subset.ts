/**
 * random-subset — the lazy provider trains a uniform fraction f of the rows (attacks.md §2.3a). Each
 * backdoor row survives with probability f, so vTune still passes at moderate f: it verifies "trained on the
 * backdoor rows", not "trained on all of D". Goal: pass. Sweep f ∈ {0.01, 0.05, 0.1, 0.25, 0.5}.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames } from './compose.js';
import { fractionOption } from './policies.js';

/** Creates the attack. Options: `fraction` in (0, 1] (default 0.5). */
export function randomSubset(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('random-subset', options, ['fraction']);
  const fraction = fractionOption(options.fraction, 'fraction', 0.5);
  return {
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
  };
}
