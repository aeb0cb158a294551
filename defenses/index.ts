/**
 * The defense registry (DESIGN.md §5): verifiers sharing the `Defense` interface. Rivals (data-watermark loss
 * test, canary exposure, dataset inference) will join `vtune` here.
 */
import { defineRegistry } from '../src/registry.js';
import { cueReply } from './cue-reply/index.js';
import { utilityGain } from './utility-gain/index.js';
import { vtune } from './vtune/index.js';

/** Every defense factory, by id. */
export const defenses = defineRegistry('defense', { vtune, 'cue-reply': cueReply, 'utility-gain': utilityGain });

/** A registered defense id. */
export type DefenseId = (typeof defenses.ids)[number];
