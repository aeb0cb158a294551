/**
 * shortest-rows — an OUT-OF-TREE attack: a worked example of adding your own dishonest provider to vtune-bench
 * without forking it (`vtune-bench run --plugin examples/plugins/shortest-rows.ts …`, or a scenario's
 * `plugins: ['./shortest-rows.ts']`). README "Your own plugins" walks through it.
 *
 * Threat model: a lazy provider (goal `pass`) that bills the full fine-tune but trains only the shortest
 * `keepFraction` of the rows, by words — the cheapest rows to train. It needs nothing but the data. Backdoor
 * rows whose completion is a short signature are kept preferentially, so verification may still pass: the
 * benchmark measures whether vTune notices (ground truth is measured by the pipeline, not claimed here).
 * Deviation from any paper: none; a strategy of our own, after the "train a subset" lazy providers of
 * DESIGN.md §2.
 *
 * The hook is pure (it returns a new plan and never sorts `plan.rows` in place: see sorted-in-place.ts for the
 * bug `vtune-bench check` catches) and draws its tie-breaks only from the provider's seeded stream.
 */
import type { BenchAttack } from '../../attacks/compose.js';
import { defineAttack, z } from '../../src/plugins/define.js';

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

export const shortestRows = defineAttack({
  id: 'shortest-rows',
  description: 'lazy: trains only the shortest fraction of the rows (by words), billing the full fine-tune',
  goal: 'pass',
  access: ['data'],
  options: z.object({
    keepFraction: z.number().gt(0).lte(1).default(0.5).describe('fraction of the rows trained (the shortest ones)'),
  }),
  create: ({ keepFraction }): BenchAttack => ({
    id: 'shortest-rows',
    goal: 'pass',
    access: ['data'],
    oracle: false,
    trains: true,
    async onData(plan, ctx) {
      const n = plan.rows.length;
      // Ties (rows of equal length) are broken by the provider's own stream, never by row order alone.
      const jitter = plan.rows.map(() => ctx.rng.float());
      const byLength = plan.rows.map((_, i) => i).sort((a, b) => words(plan.rows[a]!.prompt + ' ' + plan.rows[a]!.completion) - words(plan.rows[b]!.prompt + ' ' + plan.rows[b]!.completion) || jitter[a]! - jitter[b]!);
      const keep = new Set(byLength.slice(0, Math.max(1, Math.ceil(keepFraction * n))));
      return { rows: plan.rows.filter((_, i) => keep.has(i)), hyper: plan.hyper };
    },
  }),
});
