/**
 * stealth-density-epochs — the `stealth-density` measurement (10 backdoors in 2,000 story rows, 0.5 %) with more
 * epochs: one honest recipe (8 epochs of cosine 3e-3, batch 8 — 16,000 row passes, each planted row seen 8 times,
 * against 12 times in the `stealth` scenario's 60-row recipe), the same for every generator: `in-place` (insertion
 * modify, its only one) and `wordlist` (the paper's random-word trigger and signature, default insertion).
 * Utility is skipped. Records: results/stealth/stealth-density-epochs/<run>/records.jsonl.gz.
 */
import { defineScenario } from '../src/runner/scenario.js';
import stealth from './stealth.js';

export default defineScenario({
  name: 'stealth-density-epochs',
  description: 'in-place and wordlist at 0.5 % of 2,000 story rows, 8 epochs: honest fine-tunes on vtb-base.',
  seeds: 1,
  datasets: [{ spec: 'stories', size: 2000, heldOut: 5 }],
  models: ['local:vtb-base'],
  defenses: [...stealth.defenses, { options: { generator: 'wordlist', nullMode: 'generator', count: 10, alpha: 1e-3 } }],
  attacks: ['honest'],
  hyper: { ...stealth.hyper, epochs: 8 },
  utility: false,
});
