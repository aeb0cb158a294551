/**
 * THE attack registry: one factory per attack, keyed by its kebab-case file name (attacks/<id>.ts). Each
 * factory validates its options (ConfigError naming the option) and returns a plain attack object.
 * `attacks.get(id)(options)`. The scorers helper appends its suppression attacks here.
 */
import { defineRegistry } from '../src/registry.js';
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
export const attacks = defineRegistry('attack', {
  honest,
  'return-base': returnBase,
  'train-without-backdoors': trainWithoutBackdoors,
  'random-subset': randomSubset,
  'fewer-steps': fewerSteps,
  'weight-noise': weightNoise,
  'detect-then-train': detectThenTrain,
  'detect-then-filter': detectThenFilter,
  'lookup-wrapper': lookupWrapper,
  'oracle-keep-only-flagged': oracleKeepOnlyFlagged,
  unlikelihood,
  unlearn,
  cleangen,
  'input-routing': inputRouting,
} satisfies Record<string, AttackFactory>);

/** An attack id. */
export type AttackId = (typeof attacks.ids)[number];
