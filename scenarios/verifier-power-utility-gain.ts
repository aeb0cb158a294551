/**
 * verifier-power-utility-gain — the `utility-gain` cells of `verifier-power`, alone: the same dataset, model,
 * recipe, options and attacks (spread from it), so the cells and their keys are exactly verifier-power's, and
 * `vtune-bench report results/verifier-power results/verifier-power-utility-gain` pools them with the
 * seed-by-seed shards (a cell recorded twice counts once). It exists only to run one verifier's 21 secrets ahead of the others on a
 * loaded machine: utility-gain is the verifier the table may call "no power at default sizes", which needs about
 * 13 or more secrets before the interval can say so. The seeds listed are those the shards had not reached when it
 * started (2–6 came from `--shard 3/21` … `7/21`); every seed of 0–20 ends up in the table once.
 */
import { defineScenario } from '../src/runner/scenario.js';
import verifierPower from './verifier-power.js';

const utilityGain = verifierPower.defenses.flatMap((d) => (typeof d !== 'string' && d.id === 'utility-gain' ? [d] : []));
if (utilityGain.length !== 1) throw new Error('scenarios/verifier-power.ts lists no utility-gain defense');

export default defineScenario({
  ...verifierPower,
  name: 'verifier-power-utility-gain',
  description: "verifier-power's utility-gain cells alone (same cells and keys), run ahead of the other verifiers.",
  seeds: [0, 1, ...Array.from({ length: 14 }, (_, i) => i + 7)],
  defenses: utilityGain,
});
