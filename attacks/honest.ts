/**
 * honest — the baseline provider: trains every submitted row for every promised step and returns the model
 * untouched. Threat model: none (the defense must verify it; its false-alarm rate is measured here).
 * Source: DESIGN.md §2.
 */
import { defineAttack } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';

/** The honest baseline (no options). */
export const honest = defineAttack({
  id: 'honest',
  description: 'the baseline provider: trains every row for every promised step and returns the model untouched',
  citation: 'DESIGN.md §2',
  goal: 'baseline',
  access: ['data'],
  create: (): BenchAttack => ({ id: 'honest', goal: 'baseline', access: ['data'], oracle: false, trains: true }),
});
