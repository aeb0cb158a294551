/**
 * detect-then-train — detection-guided lazy training (attacks.md §2.3c, threat model A): score every row
 * with any row scorer, then train only the flagged rows (`keep-only-flagged`), optionally plus a uniform
 * fraction f of the others (`keep-flagged-plus-fraction`). It trains ≈ q·N + f·N rows instead of N and passes
 * whenever the detector finds the backdoors. Goal: pass.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames, composeAttack, resolvePolicy, resolveScorer } from './compose.js';

/** Creates the attack. Options: `scorer` (id), `scorerOptions`, `policy`, `fraction` (for keep-flagged-plus-fraction). */
export function detectThenTrain(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('detect-then-train', options, ['scorer', 'scorerOptions', 'policy', 'fraction']);
  const policy = resolvePolicy(options.policy, options, 'detect-then-train', ['keep-only-flagged', 'keep-flagged-plus-fraction'], 'keep-only-flagged');
  const scorer = resolveScorer(options.scorer, options.scorerOptions, 'detect-then-train');
  return composeAttack({ id: 'detect-then-train', scorer, policy });
}
