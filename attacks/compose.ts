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
import { policies, type Policy } from './policies.js';
import { scorers } from './scorers/index.js';
import type { RowScorer } from './scorers/types.js';

export type { AnyAttack, AttackFactory, BenchAttack, OracleAttack } from '../src/core/attack.js';

/** Rejects option names a factory does not know, with a did-you-mean hint. */
export function checkOptionNames(attackId: string, options: Readonly<Record<string, unknown>>, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new ConfigError(`attack '${attackId}': unknown option '${name}'. Known options: ${known.join(', ') || '(none)'}`);
    }
  }
}

/**
 * Resolves the `scorer` option: a registry id (with `scorerOptions`) or, in code and tests, a RowScorer object.
 * Unknown ids fail with the registry's did-you-mean message, prefixed with the option name.
 */
export function resolveScorer(value: unknown, scorerOptions: unknown, attackId: string): RowScorer {
  if (value !== null && typeof value === 'object' && typeof (value as RowScorer).score === 'function') return value as RowScorer;
  if (typeof value !== 'string') {
    throw new ConfigError(`attack '${attackId}': option 'scorer' is required: a row scorer id (${scorers.ids.join(', ') || 'none registered yet'})`);
  }
  if (scorerOptions !== undefined && (typeof scorerOptions !== 'object' || scorerOptions === null || Array.isArray(scorerOptions))) {
    throw new ConfigError(`attack '${attackId}': option 'scorerOptions' must be an object, got ${JSON.stringify(scorerOptions)}`);
  }
  let factory;
  try {
    factory = scorers.get(value);
  } catch (err) {
    throw new ConfigError(`attack '${attackId}': option 'scorer': ${(err as Error).message}`, { cause: err });
  }
  return factory((scorerOptions ?? {}) as Record<string, unknown>);
}

/** Resolves the `policy` option against the policy registry; `allowed` restricts it per attack. */
export function resolvePolicy(value: unknown, options: Readonly<Record<string, unknown>>, attackId: string, allowed: readonly string[], fallback: string): Policy {
  const id = value ?? fallback;
  if (typeof id !== 'string' || !allowed.includes(id)) {
    const hint = typeof id === 'string' && policies.has(id) ? ` ('${id}' exists but does not fit this attack's goal)` : '';
    throw new ConfigError(`attack '${attackId}': option 'policy' must be one of ${allowed.join(', ')}, got ${JSON.stringify(id)}${hint}`);
  }
  return policies.get(id)(options);
}

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
