/**
 * train-without-backdoors — the Type-I control (DESIGN.md §2): an honest fine-tune of the user's data with
 * the planted rows withheld, i.e. a model that is as close as possible to the real thing but never saw a
 * backdoor. The defense wins when it does NOT verify.
 *
 * Not a provider strategy: removing exactly the planted rows needs the backdoor mask, which no provider has.
 * So it is a USER-SIDE baseline: it sets `withholdPlanted`, and the pipeline (src/pipeline/cell.ts) drops the
 * planted rows before the provider side sees anything; the provider then trains honestly. Ground truth still
 * measures what reached the trainer (zero backdoor rows), and `truth.plantedRowsWithheld` records the cut.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames } from './compose.js';

/** Creates the train-without-backdoors baseline (no options). */
export function trainWithoutBackdoors(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('train-without-backdoors', options, []);
  return { id: 'train-without-backdoors', goal: 'null', access: ['data'], oracle: false, trains: true, withholdPlanted: true };
}
