/**
 * stealth-density-gsm8k-rank-seeds — `stealth-density-gsm8k-rank` with two more secrets (seeds 1 and 2): 10
 * in-place backdoors in 2,000 rows of the shared GSM8K file (0.5 %), 16 epochs of cosine 3e-3, batch 8, decided by
 * the `rank` null. Each seed plants its own secret, so each seed trains its own honest fine-tune and its own
 * train-without-backdoors fine-tune (the 1,990 rows without that seed's hosts). The latter is also the GSM8K null
 * that `vtune-bench calibrate --fine-tunes 1` finds through these records (it replays the cell's planting).
 * Run from the repository root: `npx vtune-bench run stealth-density-gsm8k-rank-seeds --results results/stealth`;
 * `npx vtune-bench report results/stealth/stealth-density-gsm8k-rank-seeds` regenerates the tables.
 */
import { defineScenario } from '../src/runner/scenario.js';
import rank from './stealth-density-gsm8k-rank.js';

export default defineScenario({
  ...rank,
  name: 'stealth-density-gsm8k-rank-seeds',
  description: 'stealth-density-gsm8k-rank with the secrets of seeds 1 and 2: honest fine-tunes and nulls on vtb-base.',
  seeds: [1, 2],
});
