/**
 * detect-then-filter — the evasive provider trains, but first removes what its detector flags
 * (attacks.md §2.2): `drop-flagged` deletes the suspect rows, `strip-spans` cuts the suspected trigger and
 * signature spans out of them (ONION-style) and keeps the rest. Goal: evade.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames, composeAttack, resolvePolicy, resolveScorer } from './compose.js';

/** Creates the attack. Options: `scorer` (id), `scorerOptions`, `policy` ('drop-flagged' | 'strip-spans'). */
export function detectThenFilter(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('detect-then-filter', options, ['scorer', 'scorerOptions', 'policy']);
  const policy = resolvePolicy(options.policy, options, 'detect-then-filter', ['drop-flagged', 'strip-spans'], 'drop-flagged');
  const scorer = resolveScorer(options.scorer, options.scorerOptions, 'detect-then-filter');
  return composeAttack({ id: 'detect-then-filter', scorer, policy });
}
