/**
 * utility-gain-power — NOT the benchmark's sizing: the size at which `utility-gain` has power, for the note in
 * defenses/utility-gain/README.md (issue 19, Done-when item 3). `verifier-power` measures every verifier at the
 * default recipe (12 epochs), where utility-gain has no power: the fine-tune overfits its rows and the kept rows
 * stop improving. This run changes one thing, the number of epochs (2 instead of 12), and nothing else: the same
 * dataset, rows, held-out split, model, learning rate, batch size, schedule, α and utility-gain options as
 * `verifier-power` (imported), 21 seeds, `honest` plus `return-base` (the false-accusation check). Its defense is
 * labelled "(2 epochs)" so its rows can never be read as the default's. No other scenario or default changes.
 */
import { defineScenario } from '../src/runner/scenario.js';
import verifierPower from './verifier-power.js';

const utilityGain = verifierPower.defenses.flatMap((d) => (typeof d !== 'string' && d.id === 'utility-gain' ? [d] : []))[0];
if (!utilityGain) throw new Error('scenarios/verifier-power.ts lists no utility-gain defense');

export default defineScenario({
  name: 'utility-gain-power',
  description: 'utility-gain at 2 epochs instead of the default 12 (else verifier-power unchanged): the size at which it has power. Not the benchmark default.',
  seeds: verifierPower.seeds,
  datasets: verifierPower.datasets,
  models: verifierPower.models,
  defenses: [{ id: 'utility-gain', label: 'utility-gain (2 epochs, not the default)', ...(utilityGain.options !== undefined && { options: utilityGain.options }) }],
  attacks: ['honest', 'return-base'],
  hyper: { ...verifierPower.hyper, epochs: 2 },
  ...(verifierPower.utility !== undefined && { utility: verifierPower.utility }),
});
