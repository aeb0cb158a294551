/**
 * sorted-in-place — a DELIBERATELY IMPURE plugin, kept to show what `vtune-bench check` catches: the same lazy
 * strategy as shortest-rows.ts, written with the classic bug — `plan.rows.sort(…)` sorts the rows it was
 * handed IN PLACE. In a real run that reorders the user's submitted rows under the pipeline's feet (the
 * measured ground truth and the training cache key would then describe rows the user never sent).
 *
 *     vtune-bench check examples/plugins/sorted-in-place.ts   # fails: purity (onData wrote to its input plan)
 *
 * Never use it in a scenario.
 */
import type { BenchAttack } from '../../attacks/compose.js';
import { defineAttack, z } from '../../src/plugins/define.js';

export const sortedInPlace = defineAttack({
  id: 'sorted-in-place',
  description: 'BROKEN ON PURPOSE: shortest-rows with an in-place sort of its input (check fails it: purity)',
  goal: 'pass',
  access: ['data'],
  options: z.object({ keepFraction: z.number().gt(0).lte(1).default(0.5).describe('fraction of the rows trained') }),
  create: ({ keepFraction }): BenchAttack => ({
    id: 'sorted-in-place',
    goal: 'pass',
    access: ['data'],
    oracle: false,
    trains: true,
    async onData(plan) {
      // BUG (on purpose): Array.prototype.sort sorts in place: this mutates the plan the pipeline handed in.
      const rows = (plan.rows as { prompt: string; completion: string }[]).sort((a, b) => a.completion.length - b.completion.length);
      return { rows: rows.slice(0, Math.ceil(keepFraction * rows.length)), hyper: plan.hyper };
    },
  }),
});
