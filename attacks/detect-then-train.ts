/**
 * detect-then-train — detection-guided lazy training (attacks.md §2.3c, threat model A): score every row
 * with any row scorer, then train only the flagged rows (`keep-only-flagged`), optionally plus a uniform
 * fraction f of the others (`keep-flagged-plus-fraction`). It trains ≈ q·N + f·N rows instead of N and passes
 * whenever the detector finds the backdoors. Goal: pass.
 */
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { composeAttack } from './compose.js';
import { fraction, policyOption, resolveScorer, scorerOption, scorerOptionsOption, scorerRules } from './options.js';
import { policies } from './policies.js';

/** The attack. Options: `scorer` (id), `scorerOptions`, `policy`, `fraction` (for keep-flagged-plus-fraction). */
export const detectThenTrain = defineAttack({
  id: 'detect-then-train',
  description: 'detection-guided lazy training: train only the flagged rows (optionally plus a fraction of the others)',
  citation: 'attacks.md §2.3c',
  goal: 'pass',
  access: ['data'],
  options: z
    .object({
      scorer: scorerOption(),
      scorerOptions: scorerOptionsOption(),
      policy: policyOption(['keep-only-flagged', 'keep-flagged-plus-fraction'], 'keep-only-flagged', 'pass'),
      fraction: fraction().optional().describe("share of the unflagged rows trained as well (keep-flagged-plus-fraction; default 0.05)"),
    })
    .superRefine(...scorerRules()),
  create: (o): BenchAttack =>
    composeAttack({
      id: 'detect-then-train',
      scorer: resolveScorer(o.scorer, o.scorerOptions),
      policy: policies.get(o.policy)(o.policy === 'keep-flagged-plus-fraction' && o.fraction !== undefined ? { fraction: o.fraction } : {}),
    }),
});
