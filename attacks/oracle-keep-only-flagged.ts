/**
 * oracle-keep-only-flagged — TEST-ONLY ORACLE upper bound of detection-guided lazy training: a perfect
 * detector. It sees the true backdoor mask (OracleContext) and trains only the planted rows, plus an optional
 * fraction of the others. No provider can do this; it bounds what any scorer + keep-only-flagged attack can
 * achieve and is flagged `oracle: true` in every record and table. Goal: pass.
 */
import { defineAttack, z } from '../src/plugins/define.js';
import type { OracleAttack } from './compose.js';
import { fraction, policies } from './policies.js';

/** The oracle. Options: `fraction` of the clean rows to keep as well (default: none). */
export const oracleKeepOnlyFlagged = defineAttack({
  id: 'oracle-keep-only-flagged',
  description: 'TEST-ONLY oracle: a perfect detector (the true backdoor mask) + keep-only-flagged; bounds every detection-guided lazy attack',
  goal: 'pass',
  access: ['data'],
  oracle: true,
  options: z.object({ fraction: fraction().optional().describe('share of the clean rows kept as well (default: none)') }),
  create,
});

/** Creates the oracle from validated options. */
function create(options: { readonly fraction?: number | undefined }): OracleAttack {
  const policy =
    options.fraction === undefined ? policies.get('keep-only-flagged')() : policies.get('keep-flagged-plus-fraction')({ fraction: options.fraction });
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
