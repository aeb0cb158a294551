/**
 * Attack recipes (STYLE.md §6: compose rather than subclass). An attack is a plain object of optional stage
 * hooks; a detection-guided attack is built here from a row scorer (attacks/scorers) and a policy
 * (attacks/policies.ts), so that every detector × policy pair is an attack without a new class.
 *
 * Also defines the two attack kinds the registry holds: ordinary attacks, which see only a ProviderContext
 * (the information barrier), and ORACLE attacks — test-only upper bounds that see the true backdoor mask
 * through an OracleContext and are flagged `oracle: true` in every record and table.
 */
import { ConfigError } from '../src/errors.js';
import type { Attack, AttackAccess, AttackGoal, Model, OracleContext, ProviderContext, RowScores, TrainingPlan, TrainResult } from '../src/types.js';
import type { Policy } from './policies.js';
import type { RowScorer } from './scorers/types.js';

/** An ordinary (non-oracle) attack as the registry builds it. */
export interface BenchAttack extends Attack {
  readonly oracle: false;
  /** False when the attack never trains (return-base, lookup-wrapper): the provider then needs no 'train'. */
  readonly trains: boolean;
  /**
   * User-side baselines only (train-without-backdoors): the PIPELINE withholds the planted rows before the
   * provider sees anything. No provider could do this itself: it would have to know which rows are planted.
   */
  readonly withholdPlanted?: boolean;
  /** The scorer a detection-guided attack uses, for records and capability checks. */
  readonly scorer?: string;
  /** The policy it applies to the flags. */
  readonly policy?: string;
}

/** A test-only upper bound that knows the true backdoor mask. Never a real provider strategy. */
export interface OracleAttack {
  readonly id: string;
  readonly goal: AttackGoal;
  readonly access: readonly AttackAccess[];
  readonly oracle: true;
  readonly trains: boolean;
  readonly withholdPlanted?: undefined;
  onData?(plan: TrainingPlan, ctx: OracleContext): Promise<TrainingPlan & { readonly detection?: RowScores }>;
  onTraining?(plan: TrainingPlan, ctx: OracleContext): Promise<TrainResult | null>;
  onModel?(model: Model, ctx: OracleContext): Promise<Model>;
  onInference?(model: Model, ctx: OracleContext): Promise<Model>;
}

/** Anything the attack registry may return. */
export type AnyAttack = BenchAttack | OracleAttack;

/** An attack factory: validates options (ConfigError naming the option) before any work. */
export type AttackFactory = (options?: Readonly<Record<string, unknown>>) => AnyAttack;

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
  /** Extra hooks for later stages (e.g. lookup-wrapper's inference wrapper). */
  readonly hooks?: Pick<Attack, 'onTraining' | 'onModel' | 'onInference'>;
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
