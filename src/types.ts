/**
 * The contracts every part of vtune-bench is built against (DESIGN.md §2–5). Plugins implement these; the
 * pipeline (src/pipeline) alone decides the order in which they run.
 */
import type { Rng } from './rng.js';

// ───────────────────────────── data ─────────────────────────────

/** One training example: what the model is shown, and what it should learn to answer. */
export interface Row {
  readonly prompt: string;
  readonly completion: string;
}

/**
 * A row as handed to a trainer. `weight` scales the row's loss (default 1; negative = unlikelihood, used by
 * suppression attacks); `spans` override the weight of completion character ranges [start, end).
 */
export interface TrainExample extends Row {
  readonly weight?: number;
  readonly spans?: readonly { readonly start: number; readonly end: number; readonly weight: number }[];
}

/** A task metric: scores one prediction against its reference row, 0 (wrong) to 1 (right). Higher is better. */
export interface TaskMetric {
  readonly id: string;
  score(prediction: string, reference: Row): number;
}

/** A dataset ready for a cell: training rows, a held-out split for utility, and its task metric. */
export interface Dataset {
  readonly id: string;
  readonly train: readonly Row[];
  readonly heldOut: readonly Row[];
  readonly metric?: TaskMetric;
}

// ───────────────────────────── models and providers ─────────────────────────────

/** What a model or provider can do; checked up front against what an attack or null mode needs. */
export type Capability = 'train' | 'generate' | 'logprobs' | 'embed' | 'weights';

/** Decoding options. temperature 0 (the default) is greedy. */
export interface GenerateOptions {
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  /** Seed for sampling; ignored when greedy. */
  readonly seed?: number;
  /** Stop generating after any of these strings (they are not included). */
  readonly stop?: readonly string[];
  /**
   * Called once per generate call, with one entry per prompt, by models that measure what they did (the
   * embedded engine); `serve` reports these as `usage` instead of re-tokenising the text.
   */
  readonly onUsage?: (usage: readonly GenerationUsage[]) => void;
  /** Cancels the call: requests in flight are aborted and queued ones never sent (networked providers). */
  readonly signal?: AbortSignal;
}

/** What one generation took, as the model measured it. */
export interface GenerationUsage {
  /** Tokens of the prompt as the model read it (start token included, after fitting the context). */
  readonly promptTokens: number;
  /** Tokens the model generated (a stop string may have cut some of them from the returned text). */
  readonly completionTokens: number;
  /** 'length' when generation ended at maxTokens (and no stop string cut it), 'stop' otherwise. */
  readonly finishReason: 'stop' | 'length';
}

/** Options of Model.score. */
export interface ScoreOptions {
  /** Cancels the call, as GenerateOptions.signal. */
  readonly signal?: AbortSignal;
}

/** Teacher-forced log-probabilities (natural log) of a continuation given a prompt, one per token. */
export interface ContinuationScore {
  readonly tokenLogprobs: readonly number[];
  /** Sum of tokenLogprobs: ln P(continuation | prompt). */
  readonly logprob: number;
}

/** A model that can be queried. Optional methods exist exactly when the matching capability is declared. */
export interface Model {
  /** e.g. `local:stories260K`, `local:ft-3f2a…`, `openai:ft:gpt-4o-mini:…` */
  readonly id: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** One completion per prompt (the prompt is not echoed). */
  generate(prompts: readonly string[], options: GenerateOptions): Promise<string[]>;
  /**
   * Needs 'logprobs'. Scores the event `generate` samples: ln P(generate(prompt) begins with continuation), under
   * the same prompt template; a provider that cannot score that event declares no 'logprobs'.
   */
  score?(items: readonly { readonly prompt: string; readonly continuation: string }[], options?: ScoreOptions): Promise<ContinuationScore[]>;
  /** Why a capability this kind of model may have is missing here (e.g. no scores through a chat API), for error messages. */
  readonly unavailable?: Readonly<Partial<Record<Capability, string>>>;
  /** Needs 'embed': one vector per text (e.g. mean-pooled hidden states). */
  embed?(texts: readonly string[]): Promise<Float32Array[]>;
  /** Number of tokens of a text under the model's tokenizer, when known. */
  countTokens?(text: string): number;
  /** Most tokens (prompt and completion together) the model attends to, when known. */
  readonly contextLength?: number;
  /** Token-level access to the distribution `generate` samples from (needs 'logprobs'); see SamplingAccess. */
  readonly sampling?: SamplingAccess;
  dispose?(): void | Promise<void>;
}

/**
 * Token-level access to exactly what `generate` samples from, so that the probability of an event over its
 * samples can be computed rather than estimated (the `conditional` null of an lm-sampled secret).
 */
export interface SamplingAccess {
  readonly vocabSize: number;
  /** Token ids that end a generation (they add no text). */
  readonly stopTokens: readonly number[];
  /**
   * ln P(next token = j) for every id j, exactly as `generate([prompt], options)` draws the next token after
   * having generated `tokens` (same prompt encoding and context fit, temperature and topP applied; −Infinity
   * outside the nucleus; greedy is a point mass on the argmax). One array per item.
   */
  nextTokenLogprobs(items: readonly { readonly prompt: string; readonly tokens: readonly number[] }[], options: GenerateOptions): Promise<Float64Array[]>;
  /** The text `generate([prompt], …)` returns when it generated `tokens` (no stop token among them). */
  decode(prompt: string, tokens: readonly number[]): string;
}

/** Hyper-parameters of a fine-tune, as promised to the user. */
export interface HyperParams {
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** Optimizer steps promised; derived from rows × epochs / batch when absent. */
  readonly maxSteps?: number;
  readonly warmupSteps?: number;
  readonly schedule?: 'cosine' | 'linear' | 'constant';
  readonly weightDecay?: number;
  readonly lora?: { readonly rank: number; readonly alpha?: number };
  /** Provider-specific extras (e.g. OpenAI's learning_rate_multiplier). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Progress of a long operation, for progress displays. */
export interface Progress {
  readonly stage: string;
  readonly done: number;
  readonly total?: number;
  readonly tokens?: number;
  readonly loss?: number;
  readonly message?: string;
}

export interface TrainRequest {
  readonly rows: readonly TrainExample[];
  readonly hyper: HyperParams;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Called after every optimizer step; returning true stops training early (early-stop hooks). */
  readonly shouldStop?: (step: number, loss: number) => boolean;
}

/** What a fine-tune did, as measured by the trainer itself (never as claimed by an attack). */
export interface TrainResult {
  readonly model: Model;
  readonly stepsRun: number;
  readonly tokensTrained: number;
  readonly finalLoss?: number;
  /** Money spent, when the provider charges. */
  readonly costUsd?: number;
}

/**
 * How a trainer fitted one row that did not fit its context whole (issue 15): the start of the prompt is cut
 * first and the completion never; a row whose completion alone does not fit is left out (`refused`).
 */
export interface RowFit {
  /** Index of the row in the training request. */
  readonly row: number;
  readonly refused: boolean;
  /** Prompt tokens cut from the start of the prompt. */
  readonly promptTokensDropped: number;
  /** The prompt text that reached the model, when its start was cut. */
  readonly keptPrompt?: string;
}

/** Where models come from and how they train. One provider instance per run, shared by cells. */
export interface Provider {
  /** Registry id: `local`, `openai`, `hf`, `test-memorizer`… */
  readonly id: string;
  /** What this provider can do at all (a given model may do less). */
  readonly capabilities: ReadonlySet<Capability>;
  /** How many cells may use this provider at once. */
  readonly concurrency: number;
  /**
   * What besides the request decides a trained model's bits (the embedded engine's kernel build, say); it is
   * part of the training-cache key, so models trained under different settings are never mixed up.
   */
  readonly cacheSalt?: string;
  /** Opens a base model by its provider-specific name (a path, a built-in name, a hosted id). */
  model(name: string): Promise<Model>;
  /** Fine-tunes `base` on the rows. Needs 'train'. */
  train?(base: Model, request: TrainRequest): Promise<TrainResult>;
  /** The rows `train` would not train whole on `base` (the same rule, without training); absent: unknown. */
  fitRows?(base: Model, rows: readonly TrainExample[]): Promise<readonly RowFit[]>;
  /** Weight-space access for model-stage attacks (pruning, noise, unlearning). Needs 'weights'. */
  weights?(model: Model): Promise<WeightAccess>;
  /** Persists a trained model under `path` (a file the provider chooses the format of), for the training cache. */
  saveModel?(model: Model, path: string): Promise<void>;
  /** Re-opens a model written by saveModel. */
  loadModel?(path: string): Promise<Model>;
  close?(): Promise<void>;
}

/** White-box access to a model's parameters (embedded engine only). */
export interface WeightAccess {
  /** Parameter tensors by GGUF name, e.g. `blk.0.ffn_up.weight`. */
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** A new model from modified tensors (the originals are not changed). */
  withTensors(tensors: ReadonlyMap<string, Float32Array>, id: string): Promise<Model>;
}

// ───────────────────────────── logging ─────────────────────────────

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

// ───────────────────────────── the provider side: attacks ─────────────────────────────

/**
 * What the provider wants (DESIGN.md §2), which is also the role its cells play in the report: `honest` (the
 * promised fine-tune; its cells measure detection power and false alarms on honest work), `null` (a baseline
 * whose model never trained on the backdoors, such as return-base or train-without-backdoors; its cells measure
 * Type-I error), `pass` (a lazy provider that wants to be verified without doing the work) and `evade` (a
 * provider that trains but wants the verifier to fail).
 */
export type AttackGoal = 'honest' | 'null' | 'pass' | 'evade';

/**
 * An attack goal as trial records carry it: records written before `honest` and `null` were told apart say
 * `baseline` for both (the report maps it when reading: src/report/analyze.ts roleOf).
 */
export type RecordedAttackGoal = AttackGoal | 'baseline';

/** What an attack needs beyond the training rows. */
export type AttackAccess = 'data' | 'logprobs' | 'weights' | 'generate' | 'embed';

/**
 * Everything the provider side may see. THE INFORMATION BARRIER: there is no secret here, no planting stream,
 * no backdoor mask — only the rows the user submitted, the provider's own random stream and its own models.
 * (Oracle attacks, which do see the mask, are a separate kind: see `OracleContext`.)
 */
export interface ProviderContext {
  readonly rng: Rng;
  readonly base: Model;
  readonly provider: Provider;
  readonly hyper: HyperParams;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Account for costs the attack incurs (judge tokens, extra forwards). */
  readonly cost: CostMeter;
  /**
   * Opens another model of the run by `<provider>:<name>` (a judge, a pilot model) through the run's own
   * providers: the scenario's provider options apply, its forwards are counted like every provider-side
   * model's, and the pipeline disposes of it when the cell ends.
   */
  openModel(ref: string): Promise<Model>;
}

/**
 * Costs an attack reports, beyond training: only what the pipeline cannot see (a judge's tokens and price).
 * Model forwards are never reported: every provider-side model is wrapped and its forwards counted.
 */
export interface CostMeter {
  addJudgeTokens(n: number, usd?: number): void;
}

/** A training plan after the data stage: the rows that will be trained, and how. */
export interface TrainingPlan {
  readonly rows: readonly TrainExample[];
  readonly hyper: HyperParams;
}

/** Per-row suspicion scores from a detector (higher = more suspicious), with optional spans to strip. */
export interface RowScores {
  readonly scores: readonly number[];
  readonly flagged: readonly boolean[];
  /** Suspected backdoor spans per row (for strip-spans), in prompt/completion character offsets. */
  readonly spans?: readonly ({ readonly field: 'prompt' | 'completion'; readonly start: number; readonly end: number }[] | undefined)[];
  /** Set when the detector could not really score (e.g. a judge gave no verdict): why. Its metrics are then unavailable, not 0.5. */
  readonly unavailable?: string;
}

/**
 * A dishonest (or honest) provider strategy. Every hook is optional; the pipeline calls them in stage order:
 * onData → (train) → onModel → onInference. Hooks are pure: they return new values and never mutate inputs.
 *
 * Per-cell state: an attack that carries something from one hook to a later one (a lookup table, a
 * calibration set) declares `createState`; the pipeline calls it once per cell, before any hook, and hands the
 * value to every hook as `state`. A hook that needs state and gets none throws (src/core/attack.ts cellState):
 * there is no silent fallback. One attack object may serve many cells; its state never leaks between them.
 */
export interface Attack<State = unknown> {
  readonly id: string;
  readonly goal: AttackGoal;
  readonly access: readonly AttackAccess[];
  /** A fresh state for one cell (see above). Absent: the hooks receive `undefined`. */
  createState?(): State;
  /** Data stage: decide what to train. Returns the plan (default: all rows, promised hyper-parameters). */
  onData?(plan: TrainingPlan, ctx: ProviderContext, state: State): Promise<TrainingPlan & { readonly detection?: RowScores }>;
  /** Training stage: replace or wrap training. Default: provider.train(base, plan). Returning null = no training. */
  onTraining?(plan: TrainingPlan, ctx: ProviderContext, state: State): Promise<TrainResult | null>;
  /** Model stage: change the trained model (prune, add noise, unlearn). */
  onModel?(model: Model, ctx: ProviderContext, state: State): Promise<Model>;
  /** Inference stage: wrap the model that answers queries (filtering, routing, lookup). */
  onInference?(model: Model, ctx: ProviderContext, state: State): Promise<Model>;
}

/** The context of an oracle attack: an upper bound that knows which rows are backdoors. Flagged in every table. */
export interface OracleContext extends ProviderContext {
  readonly backdoorMask: readonly boolean[];
}

// ───────────────────────────── the user side: defenses ─────────────────────────────

/** What the user side has: its own stream and models. */
export interface UserContext {
  readonly rng: Rng;
  readonly log: Logger;
  /** A model to generate backdoors with (lm-sampled generator) or to score the base-model null. */
  readonly generatorModel?: Model;
  readonly baseModel?: Model;
}

/**
 * The null hypothesis bound used to turn hit counts into a p-value (DESIGN.md §3). `base-model` is the paper's
 * reading and anti-conservative; it is kept for comparison, never a default decision mode. `rank` is not a hit
 * count: it ranks each signature's teacher-forced log-likelihood among the `empirical` counterfactuals (needs
 * the verified model's log-probs; computed only when it decides).
 */
export type NullMode = 'generator' | 'conditional' | 'base-model' | 'empirical' | 'rank';

/**
 * The test statistic behind a verdict's p-value, for verifiers that are not vTune (a rank sum, a paired
 * t-statistic, …). Numbers only, so that a record can never carry a secret or a model output through it.
 */
export interface VerdictStatistic {
  /** What was computed, e.g. `rank-sum`, `sign-test`, `paired-t`. */
  readonly name: string;
  readonly value: number;
  /** Further numbers that explain the value (e.g. `{ cues: 8, candidates: 100 }`); never text. */
  readonly detail?: Readonly<Record<string, number>>;
}

/**
 * A verifier's answer. `log10p` is the decisive number; `verified` ⇔ p ≤ alpha.
 *
 * Generic fields (every verifier): `defense`, `verified`, `log10p`, `alpha`, `nullMode` (vTune's null mode, or
 * the name of another verifier's test), `n` (probes the test ran over: backdoors, cues, held-out rows), `k` (the
 * probes that individually count as evidence: exact hits, cues whose planted reply ranked first, rows the
 * returned model did better on), `queries` (model calls spent on the returned model) and `statistic`.
 * vTune-only fields: `containsCount`, `perBackdoor` and `log10pByNullMode`; another verifier sets 0 and [] and
 * leaves `log10pByNullMode` out (records and reports read them as "no backdoors").
 */
export interface Verdict {
  readonly defense: string;
  readonly verified: boolean;
  readonly log10p: number;
  readonly alpha: number;
  readonly nullMode: NullMode | string;
  /** vTune: exact prefix hits and backdoors queried. Others: probes counting as evidence, and probes. */
  readonly k: number;
  readonly n: number;
  /** vTune only: outputs that contain their signature anywhere (others: 0). */
  readonly containsCount: number;
  /** vTune only: one entry per backdoor (others: []). */
  readonly perBackdoor: readonly BackdoorResult[];
  /** Queries spent on the returned model. */
  readonly queries: number;
  /**
   * vTune only: log10 p under every null mode the defense could compute from the same outputs (the decision
   * mode's is `log10p`). The smallest of several p-values is not a p-value: only `nullMode` decides.
   */
  readonly log10pByNullMode?: Readonly<Partial<Record<string, number>>>;
  /** The test statistic behind `log10p` (rival verifiers; optional for vTune, whose statistic is `k`). */
  readonly statistic?: VerdictStatistic;
}

export interface BackdoorResult {
  readonly index: number;
  readonly output: string;
  readonly hit: boolean;
  readonly contains: boolean;
  /** log10 of the null bound qᵢ used for this backdoor. */
  readonly log10q: number;
}

/** A verifier: plants into the user's data, and later checks a returned model. */
export interface Defense<Secret = unknown> {
  readonly id: string;
  /**
   * What `verify` needs of the RETURNED model (the provider's): `generate` for black-box verifiers (vTune,
   * cue-reply), `logprobs` for loss-based ones. The runner refuses, before any cell runs, a defense whose
   * access the scenario's model cannot give (src/runner/defense-access.ts). Models the user holds itself
   * (`UserContext.baseModel`, `generatorModel`) are not counted here.
   */
  readonly access: readonly Capability[];
  /** Returns the rows to upload (the user's rows plus planted ones) and the secret to keep. */
  plant(rows: readonly Row[], ctx: UserContext): Promise<{ readonly rows: readonly Row[]; readonly secret: Secret }>;
  /** Indices into the planted rows that are backdoors (for ground truth only; never given to the provider). */
  backdoorMask(secret: Secret, plantedRowCount: number): boolean[];
  verify(model: Model, secret: Secret, options: { readonly alpha: number; readonly ctx: UserContext }): Promise<Verdict>;
}

// ───────────────────────────── ground truth ─────────────────────────────

/** What really happened on the provider side, measured by the pipeline's wrappers (DESIGN.md §2). */
export interface GroundTruth {
  readonly rowsSubmitted: number;
  readonly backdoorRowsSubmitted: number;
  readonly rowsTrained: number;
  readonly backdoorRowsTrained: number;
  readonly stepsPromised: number;
  readonly stepsRun: number;
  readonly tokensTrained: number;
  /** Trained tokens relative to an honest fine-tune of all submitted rows. */
  readonly trainedTokenFraction: number;
  readonly modelModified: boolean;
  readonly inferenceWrapped: boolean;
  /** All submitted rows trained for all promised steps, and nothing done afterwards. */
  readonly honest: boolean;
}
