/**
 * stealth-density-gsm8k-rank — `stealth-density-gsm8k`'s in-place half decided by the `rank` null mode: 10 in-place
 * backdoors in 2,000 rows of the shared GSM8K file (0.5 %), 16 epochs of cosine 3e-3, batch 8, on local:vtb-base.
 * Greedy hits alone gave K = 2/10 (log10 p −9.1) on that run's fine-tune, while its planted answers ranked first by
 * teacher-forced log-likelihood among 999 counterfactual refills (bench/rank-test.ts); this scenario makes that the
 * decision (`nullMode: 'rank'`, exact by exchangeability with the stored counterfactuals; README "Null modes").
 * A new scenario, not a re-verification: the defense's options are part of the planting key, so its plantings (and
 * fine-tune) are its own. `return-base` and `train-without-backdoors` are the nulls (the latter: a fine-tune of the
 * same rows with the 10 hosts withheld). Utility is skipped. Run from the repository root:
 * `npx vtune-bench run stealth-density-gsm8k-rank --results results/stealth`; without `../shared` it stops in
 * preflight naming the file; `npx vtune-bench report results/stealth/stealth-density-gsm8k-rank` regenerates the tables.
 */
import { defineScenario } from '../src/runner/scenario.js';
import gsm8k from './stealth-density-gsm8k.js';

export default defineScenario({
  ...gsm8k,
  name: 'stealth-density-gsm8k-rank',
  description: 'in-place at 0.5 % of 2,000 GSM8K rows, 16 epochs, decided by the rank null: honest fine-tune and nulls on vtb-base.',
  defenses: [{ options: { generator: 'in-place', nullMode: 'rank', count: 10, insertion: 'modify', alpha: 1e-3 } }],
  attacks: ['honest', 'return-base', 'train-without-backdoors'],
});
