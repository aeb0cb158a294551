/**
 * template — the stealthy `template` generator (issue 15, refill 'context', its default) on the embedded engine:
 * does an honest fine-tune on local:vtb-base still verify at log10 p ≤ −20 under the decision null mode
 * (`generator`, exact for template) when 10 backdoors look like the data (the host's own answers with refilled
 * numbers and names, planted in place), and do the nulls (return-base, train-without-backdoors) stay unverified?
 * The same recipe as `default` (60 story rows, 12 epochs of cosine 3e-3) over 5 seeds; utility is skipped (only
 * verification is measured). 10 backdoors in 60 rows is far above the 0.5% of rows (2,000 rows would cost
 * 33× the training). Records: results/template/<run>/records.jsonl.gz; `npx vtune-bench report results/template`
 * regenerates the table. Stealth itself is measured with
 * `vtune-bench detectors --generators template,wordlist --insertion modify`.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'template',
  description: 'The template generator, 10 backdoors: honest verification and nulls on vtb-base.',
  seeds: 5,
  datasets: [{ spec: 'stories', size: 60, heldOut: 5 }],
  models: ['local:vtb-base'],
  defenses: [
    { options: { generator: 'template', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } },
  ],
  attacks: [
    'honest',
    'return-base',
    'train-without-backdoors',
  ],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: false,
});
