/**
 * The provider side of a cell, alone (DESIGN.md §4): attack.onData → train → onModel → onInference. Also used
 * by `vtune-bench serve --attack`. It receives no secret and no backdoor mask (the information barrier);
 * only an oracle attack gets the mask, passed explicitly by the caller.
 *
 * Everything the attack touches is instrumented here so that ground truth is MEASURED, never self-reported:
 * the provider handed to the attack is a wrapper whose `train` records the exact rows, hyper-parameters,
 * seed and steps that reached the real trainer (through the training cache), and every model it can reach
 * counts its forwards, including models it opens through `ctx.openModel` (a judge).
 *
 * The attack's per-cell state is created here, once, before the first hook (Attack.createState), and handed
 * to every hook.
 */
import { createHash } from 'node:crypto';
import type { AnyAttack } from '../core/attack.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { TrainCache } from '../core/training.js';
import { ConfigError, ProviderError } from '../errors.js';
import type { HyperParams, Model, OracleContext, Progress, Provider, ProviderContext, RowFit, RowScores, TrainExample, TrainingPlan, TrainRequest, TrainResult, WeightAccess } from '../types.js';
import { describeRowFits } from './row-fit.js';
import { countedModel, unwrapCounted, type PassCounter } from './cost.js';

/** One call that reached the real trainer, as the wrapper saw it. */
export interface TrainCall {
  readonly rows: readonly TrainExample[];
  readonly hyper: HyperParams;
  readonly seed: number;
  readonly stepsRun: number;
  readonly tokensTrained: number;
  readonly costUsd?: number;
  readonly cached: boolean;
  /** The attack's shouldStop hook ended training early. */
  readonly stoppedEarly: boolean;
  /**
   * Rows (by index in `rows`) the trainer did not train whole, as the real provider's fitRows reports them
   * (the prompt's start cut, or the row left out); absent when the provider cannot tell.
   */
  readonly fits?: readonly RowFit[];
}

/** What the provider side did, measured by the pipeline's wrappers. */
export interface ProviderTrace {
  readonly rowsSubmitted: number;
  /** Rows in the plan after the data stage (what the attack said it would train). */
  readonly rowsPlanned: number;
  readonly trainCalls: readonly TrainCall[];
  /** onModel returned a different model than it was given. */
  readonly modelModified: boolean;
  /** onInference returned a different model than it was given. */
  readonly inferenceWrapped: boolean;
  /** The data stage's row scores, when the attack used a detector. */
  readonly detection?: RowScores;
  /** Model forwards spent on the provider side before serving (scorers, pilot models). */
  readonly providerPasses: number;
  /** Distinct warnings of the trainer (rows cut to the context, …), each once, in order. */
  readonly warnings: readonly string[];
}

/** Options of runProviderSide. */
export interface ProviderSideOptions {
  readonly trainCache?: TrainCache;
  /** Seed of the default training call (the cell's 'training' stream); default: drawn from ctx.rng. */
  readonly trainingSeed?: number;
  /** Only for `oracle: true` attacks: the true backdoor mask over `rows`. */
  readonly backdoorMask?: readonly boolean[];
  onTrained?(r: TrainResult): void;
  onProgress?(p: Progress): void;
}

/** The result: the model that will answer queries, the measured trace, and a live count of forwards. */
export interface ProviderSideResult {
  readonly model: Model;
  readonly trace: ProviderTrace;
  /** Forwards on every provider-side model so far; read before and after serving to measure extra passes. */
  readonly passes: () => number;
  /** Models opened or trained here that no one else holds (the caller disposes them when done). */
  readonly ownedModels: readonly Model[];
}

/**
 * The training-cache key: sha256 over provider (and its cacheSalt), base model, exact rows (incl. weights and
 * spans), hyper, seed.
 */
export function trainKey(providerId: string, baseModelId: string, rows: readonly TrainExample[], hyper: HyperParams, seed: number, salt?: string): string {
  const h = createHash('sha256');
  h.update(canonicalJson({ provider: providerId, base: baseModelId, hyper, seed, rowCount: rows.length, ...(salt ? { salt } : {}) }));
  for (const r of rows) h.update('\n' + canonicalJson({ p: r.prompt, c: r.completion, w: r.weight ?? 1, s: r.spans ?? [] }));
  return h.digest('hex');
}

/** Runs the provider side of one cell. See the module comment for what is measured. */
export async function runProviderSide(
  attack: AnyAttack,
  rows: readonly TrainExample[],
  ctx: ProviderContext,
  opts: ProviderSideOptions = {},
): Promise<ProviderSideResult> {
  if (attack.oracle && !opts.backdoorMask) throw new ConfigError(`oracle attack '${attack.id}' needs the backdoor mask (it is a test-only upper bound)`);
  if (attack.oracle && opts.backdoorMask!.length !== rows.length) throw new ConfigError(`oracle attack '${attack.id}': mask of ${opts.backdoorMask!.length} for ${rows.length} rows`);
  const counter: PassCounter = { passes: 0 };
  const calls: TrainCall[] = [];
  const warnings: string[] = [];
  // A trainer's warning reaches the run's log once and the record, whichever call or cache hit raised it.
  const warn = (message: string): void => {
    if (warnings.includes(message)) return;
    warnings.push(message);
    ctx.log.warn(`attack '${attack.id}', training: ${message}`);
  };
  const owned: Model[] = [];
  const trained = new WeakSet<Model>();
  const raw = ctx.provider;
  const base = countedModel(ctx.base, counter);

  const provider: Provider = {
    id: raw.id,
    capabilities: raw.capabilities,
    concurrency: raw.concurrency,
    async model(name) {
      const m = await raw.model(name);
      owned.push(m);
      return countedModel(m, counter);
    },
    ...(raw.train
      ? {
          async train(baseModel: Model, request: TrainRequest): Promise<TrainResult> {
            const inner = unwrapCounted(baseModel);
            const rowsCopy = request.rows.map((r) => ({ ...r }));
            // Asked before training, so a fine-tune from the cache reports its cut rows as a fresh one does.
            const fits = raw.fitRows ? await raw.fitRows(inner, rowsCopy) : undefined;
            const fitWarning = fits && describeRowFits(fits, rowsCopy.length, inner.contextLength);
            if (fitWarning) warn(fitWarning);
            let stoppedEarly = false;
            const run = () =>
              raw.train!(inner, {
                ...request,
                rows: rowsCopy,
                onProgress: (p: Progress) => {
                  if (p.message) warn(p.message);
                  request.onProgress?.(p);
                },
                ...(request.shouldStop
                  ? {
                      shouldStop: (step: number, loss: number) => {
                        const stop = request.shouldStop!(step, loss);
                        if (stop) stoppedEarly = true;
                        return stop;
                      },
                    }
                  : {}),
              });
            // An early-stopping rule makes the outcome depend on more than the key: never share it via the cache.
            const useCache = opts.trainCache && !request.shouldStop;
            const result = useCache
              ? await opts.trainCache!.getOrTrain(trainKey(raw.id, inner.id, rowsCopy, request.hyper, request.seed, raw.cacheSalt), raw, run)
              : { ...(await run()), cached: false, owned: true };
            // Disposed when the cell ends: a fine-tune of our own, or a cached one the cache handed to us alone.
            if (result.owned) owned.push(result.model);
            calls.push({
              rows: rowsCopy,
              hyper: request.hyper,
              seed: request.seed,
              stepsRun: result.stepsRun,
              tokensTrained: result.tokensTrained,
              ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
              cached: result.cached,
              stoppedEarly,
              ...(fits ? { fits } : {}),
            });
            opts.onTrained?.(result);
            const model = countedModel(result.model, counter);
            trained.add(model);
            return { model, stepsRun: result.stepsRun, tokensTrained: result.tokensTrained, ...(result.finalLoss !== undefined ? { finalLoss: result.finalLoss } : {}), ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}) };
          },
        }
      : {}),
    ...(raw.weights
      ? {
          async weights(model: Model): Promise<WeightAccess> {
            const access = await raw.weights!(unwrapCounted(model));
            return {
              tensors: access.tensors,
              async withTensors(tensors, id) {
                const m = await access.withTensors(tensors, id);
                owned.push(m);
                return countedModel(m, counter);
              },
            };
          },
        }
      : {}),
  };

  const pctx: ProviderContext = {
    rng: ctx.rng,
    base,
    provider,
    hyper: ctx.hyper,
    log: ctx.log,
    cost: ctx.cost,
    async openModel(ref) {
      const m = await ctx.openModel(ref);
      owned.push(m);
      return countedModel(m, counter);
    },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  // The oracle's context is the only one with the mask; ordinary attacks never receive this object.
  const oracleCtx = (): OracleContext => ({ ...pctx, backdoorMask: opts.backdoorMask!.slice() });
  const hookCtx: ProviderContext = attack.oracle ? oracleCtx() : pctx;
  const call = <A extends unknown[], R>(fn: ((...a: A) => R) | undefined, ...args: A): R | undefined => fn?.apply(attack, args);
  // One state per run of the provider side (one cell, or one `serve` job), handed to every hook.
  const state: unknown = attack.createState ? attack.createState.call(attack) : undefined;

  opts.onProgress?.({ stage: 'data', done: 0 });
  let plan: TrainingPlan = { rows, hyper: ctx.hyper };
  let detection: RowScores | undefined;
  if (attack.onData) {
    const out = await call(attack.onData as (p: TrainingPlan, c: ProviderContext, s: unknown) => Promise<TrainingPlan & { detection?: RowScores }>, plan, hookCtx, state);
    if (!out || !Array.isArray(out.rows) || !out.hyper) throw new ConfigError(`attack '${attack.id}': onData must return a training plan { rows, hyper }`);
    plan = { rows: out.rows, hyper: out.hyper };
    detection = out.detection;
  }

  opts.onProgress?.({ stage: 'train', done: 0, total: plan.rows.length });
  let model: Model;
  if (attack.onTraining) {
    const result = await call(attack.onTraining as (p: TrainingPlan, c: ProviderContext, s: unknown) => Promise<TrainResult | null>, plan, hookCtx, state);
    model = result ? result.model : base;
  } else if (plan.rows.length === 0) {
    // A plan with no rows (e.g. a detector that flagged nothing, kept-only) is "train nothing": no trainer call.
    ctx.log.debug(`attack '${attack.id}': empty training plan, returning the base model`);
    model = base;
  } else {
    if (!provider.train) throw new ProviderError(`provider '${raw.id}' cannot train (attack '${attack.id}' needs training)`);
    const seed = opts.trainingSeed ?? ctx.rng.fork('training').seed31();
    const result = await provider.train(base, { rows: plan.rows, hyper: plan.hyper, seed, ...(ctx.signal ? { signal: ctx.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    model = result.model;
  }

  let modelModified = false;
  if (attack.onModel) {
    opts.onProgress?.({ stage: 'model', done: 0 });
    const next = await call(attack.onModel as (m: Model, c: ProviderContext, s: unknown) => Promise<Model>, model, hookCtx, state);
    if (!next) throw new ConfigError(`attack '${attack.id}': onModel must return a model`);
    modelModified = next !== model;
    model = next;
  }
  let inferenceWrapped = false;
  if (attack.onInference) {
    opts.onProgress?.({ stage: 'inference', done: 0 });
    const next = await call(attack.onInference as (m: Model, c: ProviderContext, s: unknown) => Promise<Model>, model, hookCtx, state);
    if (!next) throw new ConfigError(`attack '${attack.id}': onInference must return a model`);
    inferenceWrapped = next !== model;
    model = next;
  }
  const trace: ProviderTrace = {
    rowsSubmitted: rows.length,
    rowsPlanned: plan.rows.length,
    trainCalls: calls,
    modelModified,
    inferenceWrapped,
    ...(detection ? { detection } : {}),
    providerPasses: counter.passes,
    warnings,
  };
  return { model, trace, passes: () => counter.passes, ownedModels: owned };
}
