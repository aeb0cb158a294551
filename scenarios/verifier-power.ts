/**
 * verifier-power — each verifier's power on an honest fine-tune (issue 19, Done-when item 3): the verified
 * fraction over 21 independent secrets, printed by `vtune-bench report` as the "Verifier power" table (k/n with a
 * 95% Clopper-Pearson interval, median log10 p, and "no power at default sizes" where the interval's upper bound
 * is small).
 *
 * Nothing is tuned in a verifier's favour: the verifiers and their options are the `verifiers` scenario's
 * (imported), and the dataset size, held-out split, model, recipe and utility settings are the `leaderboard`
 * scenario's (through `verifiers`), unchanged. One built-in dataset (`stories`, the leaderboard's first) × 21
 * seeds = 21 secrets per verifier. Attacks: `honest` (the power) and `return-base` (trains nothing: each
 * verifier's false-accusation check against the untouched base model, on the same secrets).
 * `vtune-bench run verifier-power --plan` counts the cells and fine-tunes (105 honest fine-tunes; return-base
 * trains nothing).
 *
 * Cells run defense by defense; to grow every verifier's n together the committed run went seed by seed:
 * `--shard i/21` is exactly seed i−1 of every (verifier, attack) cell (21 divides the 42 cells per verifier), one
 * run folder `results/verifier-power/<run>-shard-iof21/` each, committed as `records.jsonl.gz` and resumed from
 * it; `verifier-power-utility-gain` ran the utility-gain cells of the other seeds ahead (same cells and keys).
 * `vtune-bench report results/verifier-power results/verifier-power-utility-gain --out <dir>` reads every folder
 * and prints the power table.
 */
import { defineScenario } from '../src/runner/scenario.js';
import verifiers from './verifiers.js';

export default defineScenario({
  name: 'verifier-power',
  description: 'Each verifier\'s power on an honest fine-tune: the verifiers scenario\'s defenses and recipe, stories only, 21 secrets per verifier (plus return-base as the false-accusation check).',
  seeds: 21,
  datasets: [verifiers.datasets[0]!],
  models: verifiers.models,
  defenses: verifiers.defenses,
  attacks: ['honest', 'return-base'],
  hyper: verifiers.hyper,
  ...(verifiers.utility !== undefined && { utility: verifiers.utility }),
});
