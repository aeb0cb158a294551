/**
 * The record format of a run (DESIGN.md §7, STYLE rule 10): append-only JSONL, one object per line,
 * discriminated by `kind`. The first line is the manifest; then one `trial` or `failure` per finished cell.
 * Units go in field names (`durationMs`, `log10p`, `heldOutLossNatsPerToken`). Records never hold a model
 * output (it may contain a signature, i.e. the secret) nor an API key.
 */
import type { GroundTruth, HyperParams, RecordedAttackGoal } from '../types.js';

/** Bumped when a field changes meaning; readers refuse newer versions. */
export const RECORD_SCHEMA_VERSION = 1;

/** Human-readable names of a cell's axes, derived from the scenario at expansion time. */
export interface CellLabels {
  readonly dataset: string;
  readonly model: string;
  /** The vTune configuration (generator / null mode / count), or the scenario's label for it. */
  readonly defense: string;
  readonly generator: string;
  readonly nullMode: string;
  readonly attack: string;
}

/** A cell as recorded: the spec the pipeline ran plus its labels. */
export interface RecordedCell {
  readonly dataset: { readonly spec: string; readonly size?: number; readonly heldOut?: number };
  readonly model: string;
  readonly defense: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly attack: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly hyper: HyperParams;
  readonly seed: number;
  readonly labels: CellLabels;
}

/** First line of every records file. */
export interface ManifestRecord {
  readonly kind: 'manifest';
  readonly schemaVersion: number;
  readonly runId: string;
  readonly scenario: { readonly name: string; readonly file?: string; readonly hash: string; readonly definition: unknown };
  readonly seeds: readonly number[];
  readonly cellCount: number;
  /** Present on a shard's records: this file holds cells i (1-based) of every n. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Present on merged records: the run ids of the shards merged. */
  readonly mergedFrom?: readonly string[];
  readonly gitSha?: string;
  readonly packageVersions: Readonly<Record<string, string>>;
  readonly machine: {
    readonly platform: string;
    readonly arch: string;
    readonly cpuModel: string;
    readonly cpuCount: number;
    readonly memoryBytes: number;
    readonly node: string;
  };
  readonly startedAt: string;
}

/** The verdict as recorded: everything but the model's outputs. */
export interface RecordedVerdict {
  readonly defense: string;
  readonly verified: boolean;
  readonly log10p: number;
  readonly alpha: number;
  readonly nullMode: string;
  /** Exact prefix hits, and backdoors queried. */
  readonly k: number;
  readonly n: number;
  readonly containsCount: number;
  readonly queries: number;
  /** Per backdoor, in planting order: log10 of the decision mode's null bound qᵢ, and whether it hit. */
  readonly log10q: readonly number[];
  readonly hits: readonly boolean[];
  /**
   * log10 p under every null mode the defense computed from the same outputs (the decision mode's equals
   * `log10p`), so the Type-I error of every mode is measured. Absent in records written before it existed.
   */
  readonly log10pByNullMode?: Readonly<Record<string, number>>;
  /**
   * The test statistic of a verifier other than vTune (rank sum, sign test, …; numbers only, never text).
   * Absent for vTune and in records written before rival verifiers existed.
   */
  readonly statistic?: { readonly name: string; readonly value: number; readonly detail?: Readonly<Record<string, number>> };
}

/** One finished cell. */
export interface TrialRecord {
  readonly kind: 'trial';
  readonly cellKey: string;
  readonly cell: RecordedCell;
  readonly attack: { readonly id: string; readonly goal: RecordedAttackGoal; readonly oracle: boolean };
  readonly verdict: RecordedVerdict;
  readonly truth: GroundTruth;
  readonly defenseWon: boolean;
  readonly utility: { readonly heldOutLossNatsPerToken?: number; readonly taskMetric?: number };
  readonly cost: {
    readonly trainedTokenFraction: number;
    readonly extraInferencePasses: number;
    readonly judgeTokens: number;
    readonly judgeUsd: number;
    readonly trainingUsd?: number;
  };
  /** A metric that could not be computed is null, with the reason in `unavailable` (never 0.5 or NaN). */
  readonly detection?: { readonly auroc: number | null; readonly tprAt1Fpr: number | null; readonly flaggedFraction: number; readonly unavailable?: string };
  /** The trainer's warnings (rows cut to the context, …); absent when there were none. */
  readonly warnings?: readonly string[];
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly trainCached: boolean;
  readonly durationMs: number;
}

/** A cell that failed. Retried on resume; a later trial for the same cell supersedes it. */
export interface FailureRecord {
  readonly kind: 'failure';
  readonly cellKey: string;
  readonly cell: RecordedCell;
  /** The pipeline stage that was running (`dataset`, `plant`, `train`, …) or `setup`. */
  readonly stage: string;
  /** The error's category (VtuneError.code) and its redacted message. */
  readonly errorCode: string;
  readonly message: string;
  readonly durationMs: number;
}

/** Any line of a records file. */
export type RunRecord = ManifestRecord | TrialRecord | FailureRecord;

/** How a reported metric reads: its unit and which direction is good, and for whom. */
export interface MetricDeclaration {
  readonly name: string;
  readonly unit: string;
  /** true: higher is better for the party named in `goodFor`. */
  readonly higherIsBetter: boolean;
  readonly goodFor: 'defense' | 'attacker' | 'user';
  readonly description: string;
}

/** Every metric the report derives from records (DESIGN.md §2). */
export const METRICS: readonly MetricDeclaration[] = [
  { name: 'detectionRate', unit: 'fraction', higherIsBetter: true, goodFor: 'defense', description: 'P(not verified | lazy `pass` attack or null baseline)' },
  { name: 'survivalRate', unit: 'fraction', higherIsBetter: true, goodFor: 'defense', description: 'P(verified | evasive `evade` attack)' },
  { name: 'falseAlarmRate', unit: 'fraction', higherIsBetter: false, goodFor: 'defense', description: 'P(not verified | honest provider)' },
  { name: 'typeIError', unit: 'fraction', higherIsBetter: false, goodFor: 'defense', description: 'P(verified | model never trained on the planted rows); must be ≤ α' },
  { name: 'defenseWinRate', unit: 'fraction', higherIsBetter: true, goodFor: 'defense', description: 'P(defense wins) under the DESIGN.md §2 rule for the attack goal' },
  { name: 'attackSuccessRate', unit: 'fraction', higherIsBetter: true, goodFor: 'attacker', description: '1 − defenseWinRate, for dishonest attacks' },
  { name: 'log10p', unit: 'log10 probability', higherIsBetter: false, goodFor: 'defense', description: 'vTune p-value; lower = stronger evidence of training' },
  { name: 'hitRate', unit: 'fraction', higherIsBetter: true, goodFor: 'defense', description: 'K / n: backdoors answered with their signature' },
  { name: 'trainedTokenFraction', unit: 'fraction of honest', higherIsBetter: false, goodFor: 'attacker', description: 'training the provider actually did, relative to honest' },
  { name: 'trainingSaved', unit: 'fraction of honest', higherIsBetter: true, goodFor: 'attacker', description: '1 − trainedTokenFraction' },
  { name: 'heldOutLossNatsPerToken', unit: 'nats/token', higherIsBetter: false, goodFor: 'user', description: 'held-out loss of the returned model' },
  { name: 'taskMetric', unit: 'score in [0, 1]', higherIsBetter: true, goodFor: 'user', description: "the dataset's task metric on held-out rows" },
  { name: 'extraInferencePasses', unit: 'passes', higherIsBetter: false, goodFor: 'attacker', description: 'extra forward passes the attack spent' },
  { name: 'judgeUsd', unit: 'USD', higherIsBetter: false, goodFor: 'attacker', description: 'money spent on judge models' },
  { name: 'detectorAuroc', unit: 'AUROC', higherIsBetter: true, goodFor: 'attacker', description: "a row-scoring attack's detector vs the true backdoor mask" },
  { name: 'verifierAuroc', unit: 'AUROC', higherIsBetter: true, goodFor: 'defense', description: '−log10 p separating models trained on the backdoors from models that were not' },
];
