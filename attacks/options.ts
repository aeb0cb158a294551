/**
 * Option schemas the attacks share (src/plugins/define.ts): the `scorer` + `scorerOptions` pair of a
 * detection-guided attack (checked against the scorer's own declared options, so a bad scorer option is
 * reported at `scorerOptions.<field>`), the `policy` choice, and the cross-field rules between them.
 */
import { unknownMessage } from '../src/registry.js';
import { type AnyDefinition, EVEN_IF_INVALID, checkNested, z } from '../src/plugins/define.js';
import { policies } from './policies.js';
import { scorers } from './scorers/index.js';
import type { RowScorer } from './scorers/types.js';

export { fraction } from './policies.js';

const isRowScorer = (v: unknown): v is RowScorer => v !== null && typeof v === 'object' && typeof (v as RowScorer).score === 'function';

/**
 * The `scorer` option: a registered scorer id or, in code and tests, a RowScorer object. Typed as a string
 * (the ids are checked against the registry at load, with "did you mean").
 */
export const scorerOption = (): z.ZodType<string | RowScorer, string | RowScorer> =>
  z
    .union([z.string().min(1), z.custom<RowScorer>(isRowScorer)])
    .meta({ expected: `a row scorer id (${scorers.ids.join(', ')})` })
    .describe('the row scorer (detector) whose flags the attack uses');

/** The `scorerOptions` option: the scorer's own options, validated by its declaration. */
export const scorerOptionsOption = () =>
  z.record(z.string(), z.unknown()).optional().describe("the scorer's options (see `vtune-bench list scorers <id>`)");

/** The `policy` option restricted to `allowed` (the policies that fit the attack's goal). */
export function policyOption<const P extends readonly [string, ...string[]]>(allowed: P, fallback: P[number], goal: string) {
  const others = policies.ids.filter((id) => !(allowed as readonly string[]).includes(id));
  const words = allowed.map((a) => `'${a}'`).join(' or ');
  return z
    .enum(allowed)
    .default(fallback as never)
    .meta({ expected: `${words}${others.length > 0 ? ` (${others.join(' and ')} exist, but their goal does not fit this attack's ('${goal}'))` : ''}` })
    .describe('what is done with the flagged rows');
}

/** What `scorerRules` needs from an attack's options. */
interface ScorerOptions {
  readonly scorer?: unknown;
  readonly scorerOptions?: unknown;
  readonly policy?: unknown;
}

/**
 * The scorer rules, as a refinement of an attack's options: `scorer` names a registered scorer,
 * `scorerOptions` passes its declaration (paths under `scorerOptions.`), and when `spans` is given (a reason)
 * the scorer must yield spans. A `policy` that needs spans (strip-spans) is checked the same way.
 */
export function scorerRules(spans?: string) {
  return [
    (o: ScorerOptions, ctx: z.core.$RefinementCtx) => {
      if (typeof o.scorer !== 'string') return;
      if (!scorers.has(o.scorer)) {
        ctx.addIssue({ code: 'custom', path: ['scorer'], message: unknownMessage('scorer', o.scorer, scorers.ids) });
        return;
      }
      const def = scorers.get(o.scorer) as AnyDefinition;
      checkNested(ctx, def, o.scorerOptions, ['scorerOptions']);
      const policy = typeof o.policy === 'string' && policies.has(o.policy) ? policies.get(o.policy) : undefined;
      const need = spans ?? (policy?.meta.needsSpans ? `policy '${policy.id}' needs spans` : undefined);
      if (!need) return;
      const checked = def.check(o.scorerOptions);
      if (!checked.ok) return;
      // A scorer whose options decide (perplexity's mode) is asked after creation: creating one does no work.
      const yields = (def.meta as { yieldsSpans?: boolean | 'by-options' }).yieldsSpans === 'by-options' ? (def(o.scorerOptions) as RowScorer).yieldsSpans : (def.meta as { yieldsSpans?: boolean }).yieldsSpans;
      if (!yields) ctx.addIssue({ code: 'custom', path: ['scorer'], message: `scorer '${o.scorer}' yields no spans, and ${need} (pick a span-yielding scorer, e.g. near-duplicate)` });
    },
    EVEN_IF_INVALID,
  ] as const;
}

/** The scorer an attack's validated options name (a RowScorer given in code is used as is). */
export function resolveScorer(scorer: string | RowScorer, scorerOptions: Readonly<Record<string, unknown>> | undefined): RowScorer {
  return isRowScorer(scorer) ? scorer : scorers.get(scorer)(scorerOptions ?? {});
}
