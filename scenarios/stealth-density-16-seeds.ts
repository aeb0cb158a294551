/**
 * stealth-density-16-seeds — the `in-place` half of `stealth-density-16` (10 backdoors in 2,000 story rows, 0.5 %;
 * 16 epochs of cosine 3e-3, batch 8, the same recipe as for wordlist there) over 3 seeds. Seed 0 is the
 * stealth-density-16 cell itself (same dataset, planting and fine-tune: a training-cache hit where the cache is
 * kept); seeds 1 and 2 are new. Utility is skipped. Records: results/stealth/stealth-density-16-seeds/<run>/.
 */
import { defineScenario } from '../src/runner/scenario.js';
import stealth from './stealth.js';
import density16 from './stealth-density-16.js';

export default defineScenario({
  ...density16,
  name: 'stealth-density-16-seeds',
  description: 'in-place at 0.5 % of 2,000 story rows, 16 epochs, 3 seeds: honest fine-tunes on vtb-base.',
  seeds: 3,
  // The in-place entry of stealth-density-16 (its first: the `stealth` scenario's own defense).
  defenses: stealth.defenses,
});
