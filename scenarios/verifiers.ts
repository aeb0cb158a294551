/**
 * verifiers — the verifier leaderboard (issue 19): every way to prove "you trained on my data" under the same
 * dishonest providers. `vtune-bench run verifiers --publish` writes results/verifiers.md (its "Verifier
 * leaderboard" section: verifier × attack defense-win rates, each verifier's measured Type-I, power against the
 * 10/50/90% subset ladder, cost and utility cost, and a generated Findings paragraph).
 *
 * Verifiers, each with its own defaults (no tuning in any verifier's favour) at one common α = 0.01 (the level the
 * rivals' Type-I is measured at by `vtune-bench calibrate`):
 * - `vtune` (wordlist, copy insertion, 4 backdoors, `generator` null): the paper's defense, black-box;
 * - `data-watermark` (Wei, Wang, Jia 2024): a random sequence in many rows, loss rank test; needs log-probs;
 * - `dataset-inference` (Maini et al. 2024): membership features of suspect vs private rows; needs log-probs;
 * - `cue-reply` (after arXiv 2510.09655): cue in the prompt, reply in the completion, ranking test; black-box;
 * - `utility-gain`: does the returned model beat the base on a private split? the naive lower anchor.
 * Attacks, datasets, seeds, recipe and utility: the `leaderboard` scenario's, unchanged (imported, so the two
 * stay in step), so attacks built around vTune's row shape run as they are against the others — the point of
 * the comparison. 3 datasets × 7 seeds = 21 secrets per verifier × attack. `--plan` counts the cells.
 */
import { defineScenario } from '../src/runner/scenario.js';
import leaderboard from './leaderboard.js';

const alpha = 0.01;

export default defineScenario({
  name: 'verifiers',
  description: 'Rival verifiers (vtune, data-watermark, dataset-inference, cue-reply, utility-gain) under the leaderboard attacks, three datasets, 21 secrets per verifier × attack.',
  seeds: leaderboard.seeds,
  datasets: leaderboard.datasets,
  models: leaderboard.models,
  defenses: [
    { id: 'vtune', label: 'vtune (wordlist)', options: { generator: 'wordlist', nullMode: 'generator', insertion: 'copy', count: 4, alpha } },
    { id: 'data-watermark', label: 'data-watermark', options: { alpha } },
    { id: 'dataset-inference', label: 'dataset-inference', options: { alpha } },
    { id: 'cue-reply', label: 'cue-reply', options: { alpha } },
    { id: 'utility-gain', label: 'utility-gain', options: { alpha } },
  ],
  attacks: leaderboard.attacks,
  hyper: leaderboard.hyper,
  ...(leaderboard.utility !== undefined && { utility: leaderboard.utility }),
});
