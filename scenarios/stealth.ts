/**
 * stealth — the stealthy `in-place` generator (issue 15, Done-when 1) on the embedded engine: does an honest
 * fine-tune on local:vtb-base still verify at log10 p ≤ −20 under the decision null mode (`generator`, exact for
 * in-place) when its 10 backdoors are rewritten host rows (the prompt unchanged, no trigger; the answer refilled
 * from the data's own values), and do the nulls (return-base, train-without-backdoors) stay unverified?
 * The same recipe as `default` and `template` (60 story rows, 12 epochs of cosine 3e-3) over 3 seeds; utility is
 * skipped. 10 backdoors in 60 rows is 17 % of the rows, far above the 0.5 % (2,000 rows would cost 33× the
 * training on a shared two-core machine); the stealth table at 0.5 % is `npx tsx bench/stealth.ts --table`.
 * Records: results/stealth/<run>/records.jsonl.gz; `npx vtune-bench report results/stealth` regenerates the table.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'stealth',
  description: 'The in-place generator, 10 backdoors: honest verification and nulls on vtb-base.',
  seeds: 3,
  datasets: [{ spec: 'stories', size: 60, heldOut: 5 }],
  models: ['local:vtb-base'],
  defenses: [{ options: { generator: 'in-place', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } }],
  attacks: ['honest', 'return-base', 'train-without-backdoors'],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: false,
});
