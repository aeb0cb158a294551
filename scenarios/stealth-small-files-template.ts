/**
 * stealth-small-files-template — `stealth-small-files` on adversarial-qa, whose answers are spans of their
 * passage (in-place cannot refill them), with the generator the stealth table finds stealthy there: `template`
 * (the host answer's frame with keyed content from the data's own vocabulary). Same recipe, secrets and nulls.
 * Run from the repository root: `npx vtune-bench run stealth-small-files-template --results results/stealth`.
 */
import { defineScenario } from '../src/runner/scenario.js';
import small from './stealth-small-files.js';

export default defineScenario({
  ...small,
  name: 'stealth-small-files-template',
  description: 'template, 10 backdoors, on the adversarial-qa file, 16 epochs: honest fine-tunes and nulls on vtb-base.',
  datasets: [{ spec: 'file:../shared/data/adversarial-qa.jsonl', size: 180, heldOut: 20, label: 'adversarial-qa' }],
  defenses: [{ options: { generator: 'template', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } }],
});
