/**
 * One cell of a scenario matrix, end to end (DESIGN.md §4): dataset → defense.plant → provider side
 * (attack hooks, measured) → defense.verify → ground truth → utility. The pipeline alone owns stage order.
 *
 * Random streams: the planting and verification streams come from the cell's PAIR key (every field except
 * the attack), so that all attacks of one (dataset, model, defense, hyper, seed) see the same backdoors; the
 * dataset and training streams come from the DATA key (the pair key without the defense), so that every
 * defense configuration sees the same data and trains with the same seed. So the honest and inference-stage
 * attacks share one cached fine-tune, and so do train-without-backdoors cells of different generators, which
 * train the same rows (common random numbers, DESIGN.md §4 "Training is cached"). Only the provider stream is
 * per attack (the cell key).
 */
import { createHash } from 'node:crypto';
import { attacks } from '../../attacks/index.js';
import { defenses } from '../../defenses/index.js';
import { loadDataset } from '../datasets/index.js';
import type { FieldMapping } from '../datasets/formats.js';
import type { AnyAttack } from '../../attacks/compose.js';
import { canonicalJson } from '../core/canonical-json.js';
import { ConfigError, describeError, VtuneError } from '../errors.js';
import { parseHyper } from '../plugins/hyper.js';
import { streamFor } from '../rng.js';
import type { AttackGoal, Dataset, Defense, GroundTruth, HyperParams, Logger, Model, Progress, Provider, ProviderContext, Row, TrainResult, UserContext, Verdict } from '../types.js';
import { createCostMeter } from './cost.js';
import { type GradedDetection, gradeDetection } from './detection-metrics.js';
import { backdoorTest, measureGroundTruth, plantedMarkers } from './ground-truth.js';
import { runProviderSide } from './provider-side.js';
import { measureUtility, type UtilityOptions } from './utility.js';

/** One cell of a scenario matrix (DESIGN.md §4). */
export interface CellSpec {
  /** Stable id of the cell: hash of every field below (cellKey()). */
  readonly key: string;
  /** src/datasets loadDataset(spec, { seed, size, heldOut }). */
  readonly dataset: { readonly spec: string; readonly size?: number; readonly heldOut?: number; readonly fieldMap?: FieldMapping };
  /** '<provider>:<name>', e.g. 'local:stories260K', 'local:random-tiny', 'test-memorizer:base'. */
  readonly model: string;
  /** e.g. 'vtune' + { generator, generatorOptions, count | rate, nullMode, alpha, … }. */
  readonly defense: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly attack: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  /** As promised to the user. */
  readonly hyper: HyperParams;
  readonly seed: number;
  /** Utility stage options; `false` skips it. Default: on when the dataset has held-out rows, ≤ 20 rows. */
  readonly utility?: UtilityOptions | false;
}

/** Content-addressed training cache (implemented by the runner on disk). */
export interface TrainCache {
  /** Returns the cached result for `key` or runs `train`, stores and returns it. key = sha256(provider, base model id, exact training rows, hyper, seed). */
  getOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean }>;
}

/** A defense factory as the defense registry holds it. */
export type DefenseFactory = (options?: Readonly<Record<string, unknown>>) => Defense<any>;

/** What runCell needs from its caller. */
export interface CellDeps {
  /** The runner passes a cached map of provider instances (src/providers/index.ts registry). */
  openProvider(id: string): Promise<Provider>;
  trainCache?: TrainCache;
  log: Logger;
  /** Stage names: 'dataset' | 'plant' | 'data' | 'train' | 'model' | 'inference' | 'verify' | 'utility'. */
  onProgress?(p: Progress): void;
  signal?: AbortSignal;
  /** Defense lookup; default: the registry in defenses/index.ts. Tests pass doubles here. */
  defense?(id: string): DefenseFactory;
  /** Dataset loader; default: src/datasets loadDataset. */
  loadDataset?(spec: string, options: { seed: number; size?: number; heldOut?: number; mapping?: FieldMapping }): Promise<Dataset>;
}

/** Utility of the returned model. */
export interface CellUtility {
  readonly heldOutLossNatsPerToken?: number;
  readonly taskMetric?: number;
  readonly rows: number;
  /** Why utility could not be measured (the cell's verdict and ground truth still stand). */
  readonly error?: string;
}

/** Everything measured in one cell. */
export interface CellOutcome {
  readonly key: string;
  readonly verdict: Verdict;
  /** Measured by the pipeline's wrappers, never self-reported. */
  readonly truth: GroundTruth & { readonly plantedRowsWithheld: number };
  readonly attack: { readonly id: string; readonly goal: AttackGoal; readonly oracle: boolean; readonly scorer?: string; readonly policy?: string };
  /** DESIGN.md §2 rule per goal. */
  readonly defenseWon: boolean;
  readonly utility?: CellUtility;
  readonly cost: {
    readonly trainedTokenFraction: number;
    /** Model forwards per verification query beyond the one an honest model needs (measured at serving). */
    readonly extraInferencePasses: number;
    /** Model forwards the provider spent before serving (scorers, pilot models), measured. */
    readonly providerPasses: number;
    readonly judgeTokens: number;
    readonly judgeUsd: number;
    readonly trainingUsd?: number;
  };
  /** Row-scoring attacks, vs the true backdoor mask; null metrics carry the reason in `unavailable`. */
  readonly detection?: GradedDetection;
  /** The trainer's warnings (rows cut to the context, …), each once; absent when there were none. */
  readonly warnings?: readonly string[];
  readonly timingsMs: Readonly<Record<string, number>>;
  /** True when every fine-tune of the cell came from the training cache. */
  readonly trainCached: boolean;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** The stable key of a cell: a hash of every field. */
export function cellKey(spec: Omit<CellSpec, 'key'>): string {
  const { key: _ignored, ...rest } = spec as CellSpec;
  return sha(canonicalJson({ v: 1, ...rest }));
}

/** The key shared by all attacks of one (dataset, model, defense, hyper, seed): drives data, planting, training, verification. */
export function pairKey(spec: Omit<CellSpec, 'key'>): string {
  const { key: _k, attack: _a, utility: _u, ...rest } = spec as CellSpec;
  return sha(canonicalJson({ v: 1, pair: rest }));
}

/** The key shared by every attack AND defense configuration of one (dataset, model, hyper, seed): drives the data and training streams. */
export function dataKey(spec: Omit<CellSpec, 'key'>): string {
  const { key: _k, attack: _a, utility: _u, defense: _d, ...rest } = spec as CellSpec;
  return sha(canonicalJson({ v: 1, data: rest }));
}

/** Splits '<provider>:<name>'. */
export function parseModelRef(ref: string): { provider: string; name: string } {
  const at = ref.indexOf(':');
  if (at <= 0 || at === ref.length - 1) throw new ConfigError(`option 'model': expected '<provider>:<name>' (e.g. 'local:stories260K'), got '${ref}'`);
  return { provider: ref.slice(0, at), name: ref.slice(at + 1) };
}

/** Creates the attack from the registry; factory errors name the option. */
export function createAttack(id: string, options: Readonly<Record<string, unknown>>): AnyAttack {
  return attacks.get(id)(options);
}

/**
 * Checks up front that the provider and base model can give what the attack assumes (its access list, and
 * training unless it never trains). Throws a ConfigError naming the attack and the missing capability.
 */
export function checkAttackAccess(attack: AnyAttack, provider: Provider, base: Model): void {
  const where = `provider '${provider.id}' / model '${base.id}'`;
  const declares = `declares: ${[...new Set([...provider.capabilities, ...base.capabilities])].join(', ') || 'nothing'}`;
  if (attack.trains && (!provider.train || !provider.capabilities.has('train'))) {
    throw new ConfigError(`option 'attack': '${attack.id}' trains, but ${where} cannot train (${declares})`);
  }
  for (const a of attack.access) {
    const ok =
      a === 'data' ||
      (a === 'generate' && base.capabilities.has('generate')) ||
      (a === 'logprobs' && base.capabilities.has('logprobs') && !!base.score) ||
      (a === 'embed' && base.capabilities.has('embed') && !!base.embed) ||
      (a === 'weights' && provider.capabilities.has('weights') && base.capabilities.has('weights') && !!provider.weights);
    if (!ok) throw new ConfigError(`option 'attack': '${attack.id}' needs '${a}' access, which ${where} cannot give (${declares})`);
  }
}

/** Runs one cell. Config errors surface before any dataset is loaded or model trained. */
export async function runCell(spec: CellSpec, deps: CellDeps): Promise<CellOutcome> {
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    deps.onProgress?.({ stage, done: 0 });
    try {
      return await f();
    } finally {
      timings[stage] = (timings[stage] ?? 0) + Math.round(performance.now() - t0);
      deps.onProgress?.({ stage, done: 1, total: 1 });
    }
  };
  const expected = cellKey(spec);
  if (spec.key !== expected) throw new ConfigError(`cell key '${spec.key}' does not match its fields (expected '${expected}'): build specs with cellKey()`);
  parseHyper(spec.hyper);

  // ── validate everything before any work ──
  const attack = createAttack(spec.attack.id, spec.attack.options);
  const defenseFactory: DefenseFactory = deps.defense ? deps.defense(spec.defense.id) : (defenses.get(spec.defense.id) as DefenseFactory);
  // `alpha` is the pipeline's decision threshold (passed to verify), not a planting option of the defense.
  const { alpha: alphaOption, ...defenseOptions } = spec.defense.options;
  const defense = defenseFactory(defenseOptions);
  const alpha = alphaOption ?? 1e-3;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) throw new ConfigError(`defense option 'alpha': expected a number in (0, 1), got ${JSON.stringify(alpha)}`);
  const ref = parseModelRef(spec.model);
  const provider = await deps.openProvider(ref.provider);
  // provider.model() hands out a fresh handle per call (as the runner's validation assumes): this cell owns it.
  const base = await provider.model(ref.name);
  try {
    checkAttackAccess(attack, provider, base);
    return await runOpened(spec, deps, { attack, defense, alpha, provider, base, timed, timings });
  } finally {
    await base.dispose?.();
  }
}

/** The stages of a validated cell whose provider and base model are open. */
async function runOpened(
  spec: CellSpec,
  deps: CellDeps,
  opened: {
    attack: AnyAttack;
    defense: Defense<any>;
    alpha: number;
    provider: Provider;
    base: Model;
    timed: <T>(stage: string, f: () => Promise<T>) => Promise<T>;
    timings: Record<string, number>;
  },
): Promise<CellOutcome> {
  const { attack, defense, alpha, provider, base, timed, timings } = opened;

  const pair = pairKey(spec);
  const data = dataKey(spec);
  const userCtx = (purpose: string): UserContext => ({ rng: streamFor(pair, purpose), log: deps.log, baseModel: base, generatorModel: base });

  // ── user side: data and planting ──
  const load = deps.loadDataset ?? loadDataset;
  const dataset = await timed('dataset', () =>
    load(spec.dataset.spec, {
      seed: streamFor(data, 'dataset').seed31(),
      ...(spec.dataset.size !== undefined ? { size: spec.dataset.size } : {}),
      ...(spec.dataset.heldOut !== undefined ? { heldOut: spec.dataset.heldOut } : {}),
      ...(spec.dataset.fieldMap !== undefined ? { mapping: spec.dataset.fieldMap } : {}),
    }),
  );
  const planted = await timed('plant', () => defense.plant(dataset.train, userCtx('planting')));
  const mask = defense.backdoorMask(planted.secret, planted.rows.length);
  if (mask.length !== planted.rows.length) throw new VtuneError(`defense '${defense.id}': backdoorMask has ${mask.length} entries for ${planted.rows.length} rows`);
  // train-without-backdoors: the user side withholds the planted rows; the provider never learns they existed.
  const keep = planted.rows.map((_, i) => !(attack.withholdPlanted && mask[i]));
  const submitted: readonly Row[] = planted.rows.filter((_, i) => keep[i]);
  const submittedMask = mask.filter((_, i) => keep[i]);

  // ── provider side ──
  const cost = createCostMeter();
  const pctx: ProviderContext = {
    rng: streamFor(spec.key, 'provider'),
    base,
    provider,
    hyper: spec.hyper,
    log: deps.log,
    cost: cost.meter,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  const t0 = performance.now();
  const side = await runProviderSide(attack, submitted, pctx, {
    ...(deps.trainCache ? { trainCache: deps.trainCache } : {}),
    trainingSeed: streamFor(data, 'training').seed31(),
    ...(attack.oracle ? { backdoorMask: submittedMask } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  });
  timings.provider = Math.round(performance.now() - t0);

  try {
    // ── user side: verification, ground truth, utility ──
    const before = side.passes();
    const verdict = await timed('verify', () => defense.verify(side.model, planted.secret, { alpha, ctx: userCtx('verification') }));
    const servedPasses = side.passes() - before;
    const markers = plantedMarkers(defense, planted.secret, planted.rows.length);
    const truth = measureGroundTruth({
      submitted,
      submittedMask,
      isBackdoor: backdoorTest(planted.rows, mask, markers),
      trace: side.trace,
      hyper: spec.hyper,
      countTokens: (t) => base.countTokens?.(t) ?? t.length,
    });
    const utilityOptions = spec.utility ?? {};
    // Utility is secondary: a failure there is recorded in the outcome and must not cost the cell its verdict.
    const utility =
      utilityOptions !== false && dataset.heldOut.length > 0
        ? await timed('utility', () =>
            measureUtility(side.model, dataset.heldOut, dataset.metric, utilityOptions).catch((err: unknown): CellUtility => {
              deps.log.warn(`cell ${spec.key}: utility failed: ${describeError(err)}`);
              return { rows: 0, error: describeError(err) };
            }),
          )
        : undefined;
    const totals = cost.totals();
    const detection = side.trace.detection ? gradeDetection(side.trace.detection, submittedMask) : undefined;
    const trainingUsd = side.trace.trainCalls.reduce((s, c) => s + (c.costUsd ?? 0), 0);
    const won = defenseWon(attack.goal, verdict.verified, truth);
    return {
      key: spec.key,
      verdict,
      truth: { ...truth, plantedRowsWithheld: planted.rows.length - submitted.length },
      attack: {
        id: attack.id,
        goal: attack.goal,
        oracle: attack.oracle,
        ...(!attack.oracle && attack.scorer ? { scorer: attack.scorer } : {}),
        ...(!attack.oracle && attack.policy ? { policy: attack.policy } : {}),
      },
      defenseWon: won,
      ...(utility ? { utility } : {}),
      cost: {
        trainedTokenFraction: truth.trainedTokenFraction,
        extraInferencePasses: verdict.queries > 0 ? Math.max(0, servedPasses / verdict.queries - 1) : 0,
        providerPasses: side.trace.providerPasses,
        judgeTokens: totals.judgeTokens,
        judgeUsd: totals.judgeUsd,
        ...(trainingUsd > 0 ? { trainingUsd } : {}),
      },
      ...(detection ? { detection } : {}),
      ...(side.trace.warnings.length > 0 ? { warnings: side.trace.warnings } : {}),
      timingsMs: timings,
      trainCached: side.trace.trainCalls.length > 0 && side.trace.trainCalls.every((c) => c.cached),
    };
  } finally {
    for (const m of side.ownedModels) await m.dispose?.();
  }
}

/**
 * The DESIGN.md §2 rule. `pass` → the defense wins when not verified; `evade` → when verified. A baseline
 * wins exactly when the verdict matches what the model MEASURABLY trained on: verified iff backdoor rows
 * reached the trainer (honest → verified; return-base, train-without-backdoors → not verified).
 */
export function defenseWon(goal: AttackGoal, verified: boolean, truth: GroundTruth): boolean {
  if (goal === 'pass') return !verified;
  if (goal === 'evade') return verified;
  return verified === truth.backdoorRowsTrained > 0;
}
