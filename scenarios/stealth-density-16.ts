/**
 * stealth-density-16 — `stealth-density-epochs` (10 backdoors in 2,000 story rows, 0.5 %) with 16 epochs of the
 * same cosine 3e-3, batch 8 (32,000 row passes, each planted row seen 16 times): one honest recipe for both
 * generators, `in-place` (insertion modify) and `wordlist` (default insertion). At 8 epochs in-place hit 0 of 10 and
 * wordlist 10 of 10 (results/stealth/stealth-density-epochs/); does seeing each rewritten row twice as often bring
 * in-place to log10 p ≤ −20? Utility is skipped. Records: results/stealth/stealth-density-16/<run>/records.jsonl.gz.
 */
import { defineScenario } from '../src/runner/scenario.js';
import epochs8 from './stealth-density-epochs.js';

export default defineScenario({
  ...epochs8,
  name: 'stealth-density-16',
  description: 'in-place and wordlist at 0.5 % of 2,000 story rows, 16 epochs: honest fine-tunes on vtb-base.',
  hyper: { ...epochs8.hyper, epochs: 16 },
});
