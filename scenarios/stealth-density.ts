/**
 * stealth-density — the `in-place` generator at the density: 10 backdoors in 2,000 story rows (0.5 %), one
 * honest fine-tune on local:vtb-base (2 epochs of cosine 3e-3, so 4,000 row passes, 5.6× the `stealth` recipe's
 * 720), one seed — the most this shared two-core machine allows. Does the honest fine-tune still verify at
 * log10 p ≤ −20 under the `generator` null when each planted row is seen only twice? Utility is skipped.
 * Records: results/stealth-density/<run>/records.jsonl.gz; `npx vtune-bench report results/stealth-density`.
 */
import { defineScenario } from '../src/runner/scenario.js';
import stealth from './stealth.js';

export default defineScenario({
  name: 'stealth-density',
  description: 'The in-place generator at 0.5 % of 2,000 rows: one honest fine-tune on vtb-base.',
  seeds: 1,
  datasets: [{ spec: 'stories', size: 2000, heldOut: 5 }],
  models: ['local:vtb-base'],
  // The `stealth` scenario's defense, imported so the two stay in step.
  defenses: stealth.defenses,
  attacks: ['honest'],
  hyper: { ...stealth.hyper, epochs: 2 },
  utility: false,
});
