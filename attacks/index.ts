/**
 * THE attack registry: one declared attack per file (attacks/<id>.ts, defineAttack), keyed by its id. Each
 * declaration is the attack's factory — `attacks.get(id)(options)` validates the options (ConfigError naming
 * the option) and returns a plain attack object — and carries its options schema (types, defaults, help),
 * goal, access and citation. `AttackOptions` gives `defineScenario` each attack's option types.
 */
import type { OptionsInput } from '../src/plugins/define.js';
import { registryOf } from '../src/registry.js';
import type { AttackFactory } from './compose.js';
import { detectThenFilter } from './detect-then-filter.js';
import { detectThenTrain } from './detect-then-train.js';
import { fewerSteps } from './fewer-steps.js';
import { honest } from './honest.js';
import { lookupWrapper } from './lookup-wrapper.js';
import { oracleKeepOnlyFlagged } from './oracle-keep-only-flagged.js';
import { randomSubset } from './random-subset.js';
import { returnBase } from './return-base.js';
import { trainWithoutBackdoors } from './train-without-backdoors.js';
import { weightNoise } from './weight-noise.js';
import { cleangen } from './cleangen.js';
import { inputRouting } from './input-routing.js';
import { unlearn } from './unlearn.js';
import { unlikelihood } from './unlikelihood.js';

/** Every attack by id. */
export const attacks = registryOf('attack', [
  honest,
  returnBase,
  trainWithoutBackdoors,
  randomSubset,
  fewerSteps,
  weightNoise,
  detectThenTrain,
  detectThenFilter,
  lookupWrapper,
  oracleKeepOnlyFlagged,
  unlikelihood,
  unlearn,
  cleangen,
  inputRouting,
] as const satisfies readonly AttackFactory[]);

/** An attack id. */
export type AttackId = (typeof attacks.ids)[number];

/** The options a scenario may write for each attack id (defaults optional), from the declarations. */
export type AttackOptions = { [K in AttackId]: OptionsInput<(typeof attacks.entries)[K]> };
