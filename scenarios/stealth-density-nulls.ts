/**
 * stealth-density-nulls — the null that matters most for `in-place` at 0.5 %: a fine-tune that knows the data.
 * `stealth-density-16-seeds` (10 in-place backdoors in 2,000 story rows, 16 epochs of cosine 3e-3, batch 8)
 * with `train-without-backdoors` (the same recipe on the same rows with the 10 planted rows withheld: a model
 * that learned the stories' names, values and answers but never saw a refilled one) and `return-base`, seeds
 * 0–2 (the same secrets as the honest cells there). The defense wins when it does not verify. (`vtune-bench
 * calibrate --fine-tunes` cannot use these fine-tunes: their withheld rows are rewritten hosts, so calibrate
 * cannot recompute their training key and skips them, saying so.) Records: results/stealth/stealth-density-nulls/<run>/.
 */
import { defineScenario } from '../src/runner/scenario.js';
import seeds16 from './stealth-density-16-seeds.js';

export default defineScenario({
  ...seeds16,
  name: 'stealth-density-nulls',
  description: 'in-place at 0.5 % of 2,000 story rows, 16 epochs, 3 seeds: the nulls (train-without-backdoors, return-base) on vtb-base.',
  attacks: ['train-without-backdoors', 'return-base'],
});
