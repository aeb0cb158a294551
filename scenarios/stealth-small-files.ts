/**
 * stealth-small-files — issue 15, Done-when 1 on the three small real files of ../shared/data/ (155–180 training
 * rows after the held-out split): does an honest fine-tune on local:vtb-base verify the generator that the stealth
 * table (`npx tsx bench/stealth.ts --table`) finds stealthy there? in-place on self-instruct and common-gen;
 * adversarial-qa's span answers hold no refillable content, so there it is `template` (scenario
 * `stealth-small-files-template`). 10 backdoors in rows this few is 5.6–6.5 %, not the issue's ≤ 0.5 % (that would
 * need 2,000 rows: impossible as written on these files); the stealth table measures the same generators at one
 * backdoor per planting (≈ 0.6 %). Same recipe as the 0.5 % runs (16 epochs of cosine 3e-3, batch 8), three
 * secrets, decided by the `generator` null (exact: the planted content is a keyed uniform draw, README "Null
 * modes"), with `return-base` and `train-without-backdoors` as the nulls. Utility is skipped. Run from the repository
 * root: `npx vtune-bench run stealth-small-files --results results/stealth`.
 */
import { defineScenario } from '../src/runner/scenario.js';
import density16 from './stealth-density-16.js';

export default defineScenario({
  name: 'stealth-small-files',
  description: 'in-place, 10 backdoors, on the self-instruct and common-gen files, 16 epochs: honest fine-tunes and nulls on vtb-base.',
  seeds: 3,
  datasets: [
    { spec: 'file:../shared/data/self-instruct-seed-tasks.jsonl', size: 155, heldOut: 20, label: 'self-instruct' },
    { spec: 'file:../shared/data/common-gen.jsonl', size: 180, heldOut: 20, label: 'common-gen' },
  ],
  models: ['local:vtb-base'],
  defenses: [{ options: { generator: 'in-place', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } }],
  attacks: ['honest', 'return-base', 'train-without-backdoors'],
  hyper: density16.hyper,
  utility: false,
});
