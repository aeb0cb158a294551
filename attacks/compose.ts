/**
 * Attack recipes (STYLE.md §6: compose rather than subclass). An attack is a plain object of optional stage
 * hooks; a detection-guided attack is built here from a row scorer (attacks/scorers) and a policy
 * (attacks/policies.ts), so that every detector × policy pair is an attack without a new class.
 *
 * The two attack kinds the registry holds (ordinary and ORACLE attacks) are declared in src/core/attack.ts,
 * where the pipeline reads them without importing attacks/; they are re-exported here.
 */
import { ConfigError } from '../src/errors.js';
import type { BenchAttack } from '../src/core/attack.js';
import type { Attack, AttackAccess, AttackGoal, ProviderContext, RowScores, TrainingPlan } from '../src/types.js';
import type { Policy } from './policies.js';
import type { RowScorer } from './scorers/types.js';

export type { AnyAttack, AttackFactory, BenchAttack, OracleAttack } from '../src/core/attack.js';

/** The union of access lists, 'data' first. */
export function mergeAccess(...lists: (readonly AttackAccess[])[]): AttackAccess[] {
  const out = new Set<AttackAccess>(['data']);
  for (const l of lists) for (const a of l) out.add(a);
  return [...out];
}

/** Runs a scorer and checks its answer's shape, so that a broken scorer fails loudly, not silently. */
export async function scoreRows(scorer: RowScorer, plan: TrainingPlan, ctx: ProviderContext): Promise<RowScores> {
  const scores = await scorer.score(plan.rows, ctx);
  const n = plan.rows.length;
  if (scores.scores.length !== n || scores.flagged.length !== n || (scores.spans && scores.spans.length !== n)) {
    throw new ConfigError(`scorer '${scorer.id}' returned ${scores.scores.length} scores / ${scores.flagged.length} flags for ${n} rows`);
  }
  return scores;
}

/** Ingredients of a detection-guided attack. */
export interface Recipe {
  readonly id: string;
  readonly scorer?: RowScorer;
  readonly policy?: Policy;
  /** Extra hooks for later stages (e.g. lookup-wrapper's inference wrapper), with the per-cell state they share. */
  readonly hooks?: Pick<Attack, 'createState' | 'onTraining' | 'onModel' | 'onInference'>;
  readonly goal?: AttackGoal;
  readonly trains?: boolean;
  readonly extraAccess?: readonly AttackAccess[];
}

/**
 * Builds a scorer + policy attack. The data hook scores the submitted rows, applies the policy with the
 * provider's own stream, and reports the scores so the pipeline can grade the detector (AUROC, TPR@1%FPR).
 */
export function composeAttack(recipe: Recipe): BenchAttack {
  const { id, scorer, policy } = recipe;
  if (policy && !scorer) throw new ConfigError(`attack '${id}': option 'policy' ('${policy.id}') needs flags, but the attack has no 'scorer'`);
  if (policy?.needsSpans && scorer && !scorer.yieldsSpans) {
    throw new ConfigError(`attack '${id}': option 'policy' ('${policy.id}') needs spans, but scorer '${scorer.id}' yields none (pick a span-yielding scorer)`);
  }
  const goal = recipe.goal ?? policy?.goal;
  if (!goal) throw new ConfigError(`attack '${id}': no goal: give a policy or a goal`);
  const attack: BenchAttack = {
    id,
    goal,
    oracle: false,
    trains: recipe.trains ?? true,
    access: mergeAccess(scorer?.access ?? [], recipe.extraAccess ?? []),
    ...(scorer ? { scorer: scorer.id } : {}),
    ...(policy ? { policy: policy.id } : {}),
    ...(scorer
      ? {
          async onData(plan: TrainingPlan, ctx: ProviderContext) {
            const detection = await scoreRows(scorer, plan, ctx);
            const rows = policy ? policy.apply(plan.rows, detection, ctx.rng.fork(`policy:${policy.id}`)) : plan.rows.slice();
            return { rows, hyper: plan.hyper, detection };
          },
        }
      : {}),
    ...recipe.hooks,
  };
  return attack;
}

/** The non-empty completion spans a detector suspects in row `i` (what suppression attacks act on). */
export function suspectedCompletionSpans(detection: RowScores, i: number): { start: number; end: number }[] {
  return (detection.spans?.[i] ?? []).filter((s) => s.field === 'completion' && s.end > s.start);
}
