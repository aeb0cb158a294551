/**
 * detect-then-filter — the evasive provider trains, but first removes what its detector flags
 * (attacks.md §2.2): `drop-flagged` deletes the suspect rows, `strip-spans` cuts the suspected trigger and
 * signature spans out of them (ONION-style) and keeps the rest. Goal: evade.
 */
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { composeAttack } from './compose.js';
import { policyOption, resolveScorer, scorerOption, scorerOptionsOption, scorerRules } from './options.js';
import { policies } from './policies.js';

/** The attack. Options: `scorer` (id), `scorerOptions`, `policy` ('drop-flagged' | 'strip-spans'). */
export const detectThenFilter = defineAttack({
  id: 'detect-then-filter',
  description: 'the evasive provider trains, but first drops the rows its detector flags or strips their suspected spans',
  citation: 'attacks.md §2.2',
  goal: 'evade',
  access: ['data'],
  options: z
    .object({ scorer: scorerOption(), scorerOptions: scorerOptionsOption(), policy: policyOption(['drop-flagged', 'strip-spans'], 'drop-flagged', 'evade') })
    .superRefine(...scorerRules()),
  create: (o): BenchAttack => composeAttack({ id: 'detect-then-filter', scorer: resolveScorer(o.scorer, o.scorerOptions), policy: policies.get(o.policy)() }),
});
