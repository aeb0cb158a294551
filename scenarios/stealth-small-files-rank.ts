/**
 * stealth-small-files-rank — `stealth-small-files` on common-gen decided by the `rank` null (M = 999). There
 * in-place refills a one-sentence answer (log10 qᵢ between −4.8 and −5.7 a backdoor), and greedy decoding after 16
 * epochs reproduced 2 of 10 on each of three secrets (log10 p ≈ −9 under `generator`: verified at α = 1e-3, short
 * of −20). `rank` asks instead whether the fine-tune ranks each planted answer above
 * its 999 counterfactual refills by teacher-forced likelihood (README "Null modes"; exact by exchangeability,
 * Type-I measured by `vtune-bench calibrate`). A new scenario, not a re-verification: the null mode is part of the
 * planting key, so its secrets and fine-tunes are its own. Run from the repository root:
 * `npx vtune-bench run stealth-small-files-rank --results results/stealth`.
 */
import { defineScenario } from '../src/runner/scenario.js';
import small from './stealth-small-files.js';

export default defineScenario({
  ...small,
  name: 'stealth-small-files-rank',
  description: 'in-place, 10 backdoors, on the common-gen file, 16 epochs, decided by the rank null: honest fine-tunes and nulls on vtb-base.',
  datasets: [{ spec: 'file:../shared/data/common-gen.jsonl', size: 180, heldOut: 20, label: 'common-gen' }],
  defenses: [{ options: { generator: 'in-place', nullMode: 'rank', count: 10, insertion: 'modify', alpha: 1e-3 } }],
});
