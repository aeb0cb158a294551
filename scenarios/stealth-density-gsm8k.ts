/**
 * stealth-density-gsm8k — issue 15, Done-when 1 on real data: 10 backdoors in 2,000 rows of the shared GSM8K file
 * (0.5 %), the recipe that brought in-place to log10 p ≤ −20 at 0.5 % on stories (`stealth-density-16`: 16 epochs
 * of cosine 3e-3, batch 8), and both generators the stealth table finds stealthy on GSM8K (`npx tsx
 * bench/stealth.ts --table`): `in-place` (the answer refilled from the data's own values, away from prompt numbers
 * and equation results; 16 bits per backdoor) and `reorder` (only the operand order of commutative steps, every
 * step still correct; 8 bits per backdoor). `return-base` is the null that trains nothing; the Type-I of both
 * null modes is measured by `vtune-bench calibrate` on this file (README, results/calibration*).
 *
 * The shared file is read relative to the working directory: run it from the repository root
 * (`npx vtune-bench run stealth-density-gsm8k --results results/stealth`). Without `../shared` the run stops in
 * preflight naming the missing file; the committed records regenerate the table without it:
 * `npx vtune-bench report results/stealth/stealth-density-gsm8k`.
 */
import { defineScenario } from '../src/runner/scenario.js';
import density16 from './stealth-density-16.js';

export default defineScenario({
  name: 'stealth-density-gsm8k',
  description: 'in-place and reorder at 0.5 % of 2,000 GSM8K rows, 16 epochs: honest fine-tunes on vtb-base and the return-base null.',
  seeds: 1,
  datasets: [{ spec: 'file:../shared/data/gsm8k-train-2500.jsonl', size: 2000, heldOut: 5, label: 'gsm8k' }],
  models: ['local:vtb-base'],
  defenses: [
    { options: { generator: 'in-place', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } },
    { options: { generator: 'reorder', nullMode: 'generator', count: 10, insertion: 'modify', alpha: 1e-3 } },
  ],
  attacks: ['honest', 'return-base'],
  hyper: density16.hyper,
  utility: false,
});
