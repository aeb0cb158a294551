/**
 * rank-gsm8k — the vtune `rank` null mode (DESIGN.md §3; defenses/vtune/README.md "Null modes") on the recipe of
 * `stealth-density-gsm8k`: the stealthy `in-place` generator, 10 backdoors in 2,000 GSM8K rows (0.5 %), 16 epochs.
 * The decision ranks each planted signature's teacher-forced log-likelihood under the returned model among its
 * M = 999 stored counterfactuals; hits are still counted and the hit-count modes are reported alongside.
 * `return-base` is the null (trains nothing). Cost: one 16-epoch fine-tune (the defense options differ from
 * stealth-density-gsm8k's, so the planting seed and the training rows do too: no cache hit), and 10 × 1,000
 * scorings per verified model (~2 min on vtb-base).
 *
 * Run from the repository root: `npx vtune-bench run rank-gsm8k --results results/stealth`.
 * Without training, the same null on stealth-density-gsm8k's own fine-tune: `bench/rank-test.ts` (it prints the
 * defense's `rank` verdict for the replayed cell).
 */
import { defineScenario } from '../src/runner/scenario.js';
import gsm8k from './stealth-density-gsm8k.js';

export default defineScenario({
  name: 'rank-gsm8k',
  description: "in-place at 0.5 % of 2,000 GSM8K rows, 16 epochs, decided by the 'rank' null (M = 999): honest fine-tune and the return-base null.",
  seeds: 1,
  datasets: gsm8k.datasets,
  models: ['local:vtb-base'],
  defenses: [{ options: { generator: 'in-place', nullMode: 'rank', count: 10, insertion: 'modify', alpha: 1e-3 } }],
  attacks: ['honest', 'return-base'],
  hyper: gsm8k.hyper,
  utility: false,
});
