/**
 * honest — the baseline provider: trains every submitted row for every promised step and returns the model
 * untouched. Threat model: none (the defense must verify it; its false-alarm rate is measured here).
 * Source: DESIGN.md §2.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames } from './compose.js';

/** Creates the honest baseline (no options). */
export function honest(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('honest', options, []);
  return { id: 'honest', goal: 'honest', access: ['data'], oracle: false, trains: true };
}
