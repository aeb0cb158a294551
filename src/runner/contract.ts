/**
 * The slice of the pipeline API (notes/pipeline-api.md, src/pipeline/cell.ts) the runner codes against.
 * Kept structural so the runner, the records and the tests depend on the contract, not on the pipeline's
 * module graph; `catalog.ts` binds it to the real pipeline at run time.
 */
import type { AttackGoal, GroundTruth, HyperParams, Logger, Progress, Provider, TrainResult, Verdict } from '../types.js';

/** One cell of a scenario matrix (DESIGN.md §4). `key` = cellKey(every other field). */
export interface CellSpec {
  readonly key: string;
  readonly dataset: { readonly spec: string; readonly size?: number; readonly heldOut?: number };
  readonly model: string;
  readonly defense: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly attack: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly hyper: HyperParams;
  readonly seed: number;
}

/** The content-addressed training cache the pipeline trains through. */
export interface TrainCache {
  getOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean }>;
}

/** What a cell needs from the runner. */
export interface CellDeps {
  openProvider(id: string): Promise<Provider>;
  trainCache?: TrainCache;
  log: Logger;
  onProgress?(p: Progress): void;
  signal?: AbortSignal;
}

/** What a finished cell reports (the pipeline measures truth; attacks never self-report it). */
export interface CellOutcome {
  readonly verdict: Verdict;
  readonly truth: GroundTruth;
  readonly attack: { readonly id: string; readonly goal: AttackGoal; readonly oracle: boolean };
  readonly defenseWon: boolean;
  readonly utility?: {
    readonly heldOutLossNatsPerToken?: number;
    readonly taskMetric?: number;
    readonly relativeToHonest?: unknown;
  };
  readonly cost: {
    readonly trainedTokenFraction: number;
    readonly extraInferencePasses: number;
    readonly judgeTokens: number;
    readonly judgeUsd: number;
    readonly trainingUsd?: number;
  };
  readonly detection?: { readonly auroc: number; readonly tprAt1Fpr: number; readonly flaggedFraction: number };
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly trainCached: boolean;
}

/** Runs one cell end to end. */
export type RunCell = (spec: CellSpec, deps: CellDeps) => Promise<CellOutcome>;
/** The stable key of a cell. */
export type CellKeyFn = (spec: Omit<CellSpec, 'key'>) => string;
