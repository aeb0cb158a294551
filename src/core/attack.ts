/**
 * The attack kinds the pipeline runs (a leaf module: the core's view of its attack plugins, so that the
 * pipeline never imports attacks/). Ordinary attacks see only a ProviderContext (the information barrier);
 * ORACLE attacks are test-only upper bounds that see the true backdoor mask through an OracleContext and are
 * flagged `oracle: true` in every record and table. attacks/compose.ts builds them.
 */
import { VtuneError } from '../errors.js';
import type { Attack, AttackAccess, AttackGoal, Model, OracleContext, RowScores, TrainingPlan, TrainResult } from '../types.js';

/** An ordinary (non-oracle) attack as the registry builds it. */
export interface BenchAttack<State = unknown> extends Attack<State> {
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
export interface OracleAttack<State = unknown> {
  readonly id: string;
  readonly goal: AttackGoal;
  readonly access: readonly AttackAccess[];
  readonly oracle: true;
  readonly trains: boolean;
  readonly withholdPlanted?: undefined;
  createState?(): State;
  onData?(plan: TrainingPlan, ctx: OracleContext, state: State): Promise<TrainingPlan & { readonly detection?: RowScores }>;
  onTraining?(plan: TrainingPlan, ctx: OracleContext, state: State): Promise<TrainResult | null>;
  onModel?(model: Model, ctx: OracleContext, state: State): Promise<Model>;
  onInference?(model: Model, ctx: OracleContext, state: State): Promise<Model>;
}

/** Anything the attack registry may return. */
export type AnyAttack = BenchAttack | OracleAttack;

/** An attack factory: validates options (ConfigError naming the option) before any work. */
export type AttackFactory = (options?: Readonly<Record<string, unknown>>) => AnyAttack;

/**
 * The per-cell state a hook was handed, or an error when it was handed none: a hook never falls back to
 * doing nothing (a lookup wrapper serving no triggers, an unlearning pass that forgets nothing) because the
 * pipeline lost its state. `hook` names the hook in the message.
 */
export function cellState<S>(attackId: string, hook: string, state: S | undefined): S {
  if (state === undefined || state === null) {
    throw new VtuneError(`attack '${attackId}': ${hook} was called without the per-cell state the pipeline creates with createState(); a hook never runs without it`);
  }
  return state;
}

/** The per-cell state of a data-stage hand-off: empty until the attack's onData fills it. */
export interface HandoffState<T> {
  value?: T;
}

/** What an attack's onData decides for a later hook of the same cell (see dataStageHandoff). */
export interface Handoff<T> {
  /** The attack's `createState`: an empty state per cell. */
  createState(): HandoffState<T>;
  /** At onData: keeps `value` for the later hook. */
  put(state: HandoffState<T> | undefined, value: T): void;
  /** In the later hook `hook`: the kept value; throws when the pipeline gave no state or onData never filled it. */
  take(state: HandoffState<T> | undefined, hook: string): T;
}

/**
 * The hand-off shared by the attacks that decide something from the training rows and use it at a later stage
 * (input-routing's calibration prompts, unlearn's unlearning set, lookup-wrapper's trigger table). One attack
 * object may serve several cells, so the value lives in the state the pipeline creates per cell; a later hook
 * never falls back to doing nothing. `what` names the value in the message ("its calibration prompts").
 */
export function dataStageHandoff<T>(attackId: string, what: string): Handoff<T> {
  return {
    createState: () => ({}),
    put: (state, value) => void (cellState(attackId, 'onData', state).value = value),
    take: (state, hook) => {
      const value = cellState(attackId, hook, state).value;
      if (value === undefined) throw new VtuneError(`attack '${attackId}': ${hook} ran before onData chose ${what} (the pipeline runs onData first)`);
      return value;
    },
  };
}
