/**
 * The defense registry (DESIGN.md §5): verifiers sharing the `Defense` interface. Rivals (data-watermark loss
 * test, canary exposure, dataset inference) will join `vtune` here.
 */
import { defineRegistry } from '../src/registry.js';
import { vtune } from './vtune/index.js';

/** Every defense factory, by id. */
export const defenses = defineRegistry('defense', { vtune });

/** A registered defense id. */
export type DefenseId = (typeof defenses.ids)[number];
