/**
 * oracle-keep-only-flagged — TEST-ONLY ORACLE upper bound of detection-guided lazy training: a perfect
 * detector. It sees the true backdoor mask (OracleContext) and trains only the planted rows, plus an optional
 * fraction of the others. No provider can do this; it bounds what any scorer + keep-only-flagged attack can
 * achieve and is flagged `oracle: true` in every record and table. Goal: pass.
 */
import type { OracleAttack } from './compose.js';
import { checkOptionNames } from './compose.js';
import { fractionOption, policies } from './policies.js';

/** Creates the oracle. Options: `fraction` of the clean rows to keep as well (default: none). */
export function oracleKeepOnlyFlagged(options: Readonly<Record<string, unknown>> = {}): OracleAttack {
  checkOptionNames('oracle-keep-only-flagged', options, ['fraction']);
  const policy =
    options.fraction === undefined
      ? policies.get('keep-only-flagged')()
      : policies.get('keep-flagged-plus-fraction')({ fraction: fractionOption(options.fraction, 'fraction') });
  return {
    id: 'oracle-keep-only-flagged',
    goal: 'pass',
    access: ['data'],
    oracle: true,
    trains: true,
    async onData(plan, ctx) {
      const flagged = plan.rows.map((_, i) => ctx.backdoorMask[i] === true);
      const detection = { scores: flagged.map((f) => (f ? 1 : 0)), flagged };
      return { rows: policy.apply(plan.rows, detection, ctx.rng.fork(`policy:${policy.id}`)), hyper: plan.hyper, detection };
    },
  };
}
