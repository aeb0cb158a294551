/**
 * The defense registry (DESIGN.md §5): verifiers sharing the `Defense` interface. Rivals (issue 19):
 * `cue-reply` (black-box cue/reply ranking test) and `utility-gain` (private split, paired sign test); more
 * (data-watermark loss test, dataset inference) join `vtune` here.
 */
import { defineRegistry } from '../src/registry.js';
import { cueReply } from './cue-reply/index.js';
import { utilityGain } from './utility-gain/index.js';
import { vtune } from './vtune/index.js';

/** Every defense factory, by id. */
export const defenses = defineRegistry('defense', { vtune, 'cue-reply': cueReply, 'utility-gain': utilityGain });

/** A registered defense id. */
export type DefenseId = (typeof defenses.ids)[number];
