/**
 * template — the stealthy `template` generator (issue 15) beside `wordlist` on the embedded engine: does an honest
 * fine-tune on local:vtb-base still verify when the backdoors look like the data (the host's own answers with
 * refilled numbers and names, planted in place), and do the nulls stay unverified? The same recipe as `default`
 * (60 story rows, 12 epochs of cosine 3e-3), with a `format`-scorer filter as the evasive provider.
 * Stealth itself is measured with `vtune-bench detectors --generators template,wordlist --insertion modify`.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'template',
  description: 'The template generator vs wordlist: honest verification and nulls on vtb-base, and a format-scorer filter.',
  seeds: 3,
  datasets: [{ spec: 'stories', size: 60, heldOut: 5 }],
  models: ['local:vtb-base'],
  defenses: [
    { options: { generator: 'template', nullMode: 'generator', count: 4, insertion: 'modify', alpha: 1e-3 } },
    { options: { generator: 'wordlist', nullMode: 'generator', count: 4, insertion: 'modify', alpha: 1e-3 } },
  ],
  attacks: [
    'honest',
    'return-base',
    'train-without-backdoors',
    { id: 'detect-then-filter', label: 'detect-then-filter(format)', options: { scorer: 'format', policy: 'drop-flagged' } },
  ],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: { maxRows: 5 },
});
