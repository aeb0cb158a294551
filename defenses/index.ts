/**
 * The defense registry (DESIGN.md §5): verifiers sharing the `Defense` interface — `vtune` and its rivals
 * (issue 19; each folder's README cites its paper and lists its deviations). Each is declared with
 * `defineDefense` (src/plugins/define.ts): its options' types, validation, defaults and help, its access and
 * citation, shown by `vtune-bench list defense <id>`;
 * `DefenseOptions` gives `defineScenario` their types.
 */
import type { OptionsInput } from '../src/plugins/define.js';
import { defineRegistry } from '../src/registry.js';
import { cueReply } from './cue-reply/index.js';
import { utilityGain } from './utility-gain/index.js';
import { vtune } from './vtune/index.js';
import { dataWatermark } from './data-watermark/index.js';
import { datasetInference } from './dataset-inference/index.js';

/** Every defense factory, by id. */
export const defenses = defineRegistry('defense', {
  vtune,
  'data-watermark': dataWatermark,
  'dataset-inference': datasetInference,
  'cue-reply': cueReply,
  'utility-gain': utilityGain,
});

/** A registered defense id. */
export type DefenseId = (typeof defenses.ids)[number];

/** Each defense's options as a scenario may write them (defaults optional), by id: `defineScenario` checks them. */
export type DefenseOptions = { [K in DefenseId]: OptionsInput<(typeof defenses.entries)[K]> };
