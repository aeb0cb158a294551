/**
 * Null trials for measuring Type-I error (issue 13, DESIGN.md §3): plant a fresh secret (a fresh planting
 * seed per trial) with a vTune generator configuration — or with ANY registered defense and its options (issue
 * 19) — verify it against a model that never saw it — the base model itself, or a cached fine-tune without
 * backdoors — and record log10 p under every null mode the verdict carries. Only verification runs: no training.
 *
 * A defense configuration plants through its own `plant` with a user context whose stream is seeded per trial
 * (every defense draws its secret from that stream when given no seed: the contract's "seeded"), and verifies
 * through its own `verify` with the base model as `UserContext.baseModel`. Its records carry `defense`, and
 * repeat it in `generator` so the Type-I table and plot (written for vTune's generators) group it as one
 * configuration; `log10pByNullMode` holds the verdict's modes, or `{ [nullMode]: log10p }` for a verifier with
 * one test (cue-reply's `rank-sum`, utility-gain's `sign-test`). One builder writes every record (calibrationRecord);
 * its numbers go through src/records/finite.ts, and a trial whose verdict holds NaN stops the run, named.
 *
 * Throughput: trials run in waves of `batch` secrets; the whole wave is planted, then verified concurrently
 * through one coalescing wrapper per model (src/calibrate/batching-model.ts), so a wave's verification queries
 * become a few large `generate` calls (one per distinct token budget) and its base-model scoring one `score`
 * call; no model is loaded per trial. Records are appended after every wave, so an interrupted run resumes
 * where it stopped (trials already in the file with the same configuration are not re-run).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadDataset } from '../datasets/index.js';
import { Rng } from '../rng.js';
import type { Dataset, Defense, Logger, Model, NullMode, UserContext, Verdict } from '../types.js';
import { defenses } from '../../defenses/index.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { plantBackdoors } from '../../defenses/vtune/plant.js';
import { canonicalJson } from '../core/canonical-json.js';
import { recordedOptions, schemaOf } from '../plugins/secret.js';
import { verifyBackdoors } from '../../defenses/vtune/verify.js';
import { finiteForRecord, finiteMapForRecord } from '../records/finite.js';
import { dropTornTail } from '../records/store.js';
import { batchingModel, memoizingModel, type BatchingModel } from './batching-model.js';
import { appendCalibrationRecords, CALIBRATION_SCHEMA_VERSION, readCalibrationFile, type CalibrationRecord, type NullModelKind } from './records.js';

/** A generator configuration to calibrate. */
export interface GeneratorConfig {
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Name in tables (default: the id, with its options when any are given). */
  readonly label?: string;
}

/** A defense configuration to calibrate (any registered defense; its own options decide its sizes). */
export interface DefenseConfig {
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Name in tables (default: the id, with its options when any are given). */
  readonly label?: string;
}

/** A model verified in null trials: it never saw any of the fresh secrets. */
export interface NullModelHandle {
  readonly label: string;
  readonly kind: NullModelKind;
  readonly model: Model;
}

/** What to run. */
export interface CalibrationOptions {
  /** vTune generator configurations (planted with `count`, `empiricalM`, `slack` below). */
  readonly generators: readonly GeneratorConfig[];
  /** Any registered defenses, with their own options (`count`, `empiricalM`, `slack` do not apply to them). */
  readonly defenses?: readonly DefenseConfig[];
  /** Backdoors per secret (generator configurations). */
  readonly count: number;
  /** Null trials per (generator configuration, null model). */
  readonly trials: number;
  readonly dataset: { readonly spec: string; readonly size?: number };
  /** Counterfactual sets of the empirical null (0 = no empirical null). */
  readonly empiricalM: number;
  /** Extra tokens beyond each signature at verification (as the vtune defense's `slack`). */
  readonly slack: number;
  /** Root seed: every planting seed and the dataset sample derive from it. */
  readonly seed: string;
  /** Secrets planted and verified together (their queries share batched model calls). */
  readonly batch: number;
}

/** Progress after each wave. */
export interface CalibrationProgress {
  readonly generator: string;
  readonly nullModel: string;
  /** Trials recorded for this (generator, null model), of `total`. */
  readonly done: number;
  readonly total: number;
  /** Trials run in this process so far (all pairs), and their rate. */
  readonly ran: number;
  readonly trialsPerSecond: number;
}

/** The models and output a calibration run needs. */
export interface CalibrationDeps {
  /** The base model: lm-sampled samples from it, the base-model null scores with it. */
  readonly base: Model;
  readonly baseLabel: string;
  readonly nullModels: readonly NullModelHandle[];
  /** The records file (appended to; existing trials of the same configuration are kept and not re-run). */
  readonly outFile: string;
  readonly log: Logger;
  onProgress?(p: CalibrationProgress): void;
  /** Dataset loader (default src/datasets loadDataset); tests pass doubles. */
  loadDataset?(spec: string, options: { seed: number; size?: number }): Promise<Dataset>;
}

/** What a run did. */
export interface CalibrationResult {
  /** Every record of this configuration in the file (earlier runs included). */
  readonly records: readonly CalibrationRecord[];
  readonly ran: number;
  readonly reused: number;
  readonly durationMs: number;
  /** Distinct verification warnings, with how many trials raised each. */
  readonly warnings: readonly { readonly message: string; readonly trials: number }[];
}

/** The label of a generator (or defense) configuration: its id, then its explicitly given options. */
export function generatorLabel(g: GeneratorConfig | DefenseConfig): string {
  if (g.label) return g.label;
  const entries = Object.entries(g.options ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? `${g.id}(${entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',')})` : g.id;
}

/** A configuration as it may be recorded (src/plugins/secret.ts): the same object when it has no secret option. */
function recordedConfig<C extends GeneratorConfig | DefenseConfig>(c: C, schema: ReturnType<typeof schemaOf>): C {
  if (!c.options) return c;
  const options = recordedOptions(schema, c.options);
  return options === c.options ? c : { ...c, options };
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The decision mode passed to verify: every other mode's p comes from the same outputs. */
function decisionMode(modes: readonly NullMode[], empiricalM: number): NullMode {
  if (modes.includes('generator')) return 'generator';
  if (modes.includes('empirical') && empiricalM > 0) return 'empirical';
  return modes[0]!;
}

function checkOptions(o: CalibrationOptions): void {
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`calibrate: option '${name}' must be an integer ≥ ${min}, got ${String(v)}`);
  };
  int('count', o.count, 1);
  int('trials', o.trials, 1);
  int('empiricalM', o.empiricalM, 0);
  int('slack', o.slack, 0);
  int('batch', o.batch, 1);
  if (o.generators.length === 0 && (o.defenses ?? []).length === 0) throw new ConfigError('calibrate: give at least one generator or defense');
  for (const d of o.defenses ?? []) {
    if (d.options && 'seed' in d.options) throw new ConfigError(`calibrate: defense '${d.id}': option 'seed' would plant the same secret in every trial; leave it out (each trial draws a fresh one)`);
  }
  if (typeof o.seed !== 'string' || o.seed.length === 0) throw new ConfigError("calibrate: option 'seed' must be a non-empty string");
}

/** Runs (or resumes) the null trials and appends their records to `deps.outFile`. */
export async function runCalibration(options: CalibrationOptions, deps: CalibrationDeps): Promise<CalibrationResult> {
  checkOptions(options);
  if (deps.nullModels.length === 0) throw new ConfigError('calibrate: no null model to verify against');
  // Validate every generator configuration before any work.
  // Labels, records and resume keys see the options as recorded: a secret option (keyed's key) as its fingerprint.
  const gens = options.generators.map((g) => {
    const generator = generators.get(g.id)({ ...(g.options ?? {}) });
    return { config: g, label: generatorLabel(recordedConfig(g, schemaOf(generators, g.id))), generator };
  });
  const defs = (options.defenses ?? []).map((d) => {
    const factory = defenses.get(d.id) as (o: Record<string, unknown>) => Defense;
    // `alpha` is the pipeline's threshold, not a planting option (as in src/pipeline/cell.ts).
    const { alpha: _alpha, ...opts } = d.options ?? {};
    const recorded = recordedConfig(d, schemaOf(defenses, d.id));
    return { config: d, label: generatorLabel(recorded), options: { ...(recorded.options ?? {}) }, make: () => factory({ ...opts }) };
  });
  for (const d of defs) d.make(); // validates every defense's options before any work
  const t0 = performance.now();
  const load = deps.loadDataset ?? loadDataset;
  const dataset = await load(options.dataset.spec, { seed: new Rng(`calibrate|${options.seed}|dataset`).seed31(), ...(options.dataset.size !== undefined ? { size: options.dataset.size } : {}) });
  if (gens.length > 0 && dataset.train.length < options.count) {
    throw new ConfigError(`calibrate: dataset '${options.dataset.spec}' has ${dataset.train.length} training rows, fewer than count = ${options.count} (each backdoor needs its own host row)`);
  }
  mkdirSync(dirname(deps.outFile), { recursive: true });
  const existing = existsSync(deps.outFile) ? readCalibrationFile(deps.outFile) : [];
  const torn = dropTornTail(deps.outFile);
  if (torn > 0) deps.log.warn(`calibrate: dropped an unfinished last line (${torn} bytes) of ${deps.outFile}; its trial is run again`);

  const warnings = new Map<string, number>();
  const trialLog: Logger = {
    ...deps.log,
    warn: (m: string) => warnings.set(m, (warnings.get(m) ?? 0) + 1),
  };
  const base = batchingModel(deps.base);
  const wrapped = new Map<Model, BatchingModel>([[deps.base, base]]);
  const wrap = (m: Model): BatchingModel => wrapped.get(m) ?? wrapped.set(m, batchingModel(m)).get(m)!;
  const ctx: UserContext = { rng: new Rng(`calibrate|${options.seed}|unused`), log: trialLog, generatorModel: base, baseModel: base };
  // Defense jobs query through memoizing wrappers (a row asked in every trial costs one query per model).
  const memos = new Map<Model, Model>();
  const memo = (m: Model): Model => memos.get(m) ?? memos.set(m, memoizingModel(m)).get(m)!;

  // One job per configuration: its resume key, its names, and how one trial plants and verifies; every job's
  // records come from the one builder below.
  type Names = CalibrationRecord['generator'];
  interface Job {
    readonly config: string;
    readonly label: string;
    readonly generator: Names;
    /** Present for a defense configuration (repeated in `generator`, so tables group it as one configuration). */
    readonly defense?: Names;
    /** Backdoors per secret (a defense: undefined, its verdict's `n`). */
    readonly count?: number;
    readonly empiricalM: number;
    trial(seed: string, model: Model): Promise<Verdict>;
  }
  const jobs: Job[] = [];
  for (const g of gens) {
    const config = sha(
      canonicalJson({
        v: CALIBRATION_SCHEMA_VERSION,
        generator: { id: g.generator.id, options: g.generator.options },
        label: g.label,
        count: options.count,
        dataset: options.dataset,
        empiricalM: options.empiricalM,
        slack: options.slack,
        seed: options.seed,
        base: deps.baseLabel,
      }),
    ).slice(0, 16);
    const mode = decisionMode(g.generator.nullModes, options.empiricalM);
    jobs.push({
      config,
      label: g.label,
      generator: { id: g.generator.id, options: g.generator.options, label: g.label },
      count: options.count,
      empiricalM: options.empiricalM,
      trial: async (seed, model) => {
        const { secret } = await plantBackdoors(
          dataset.train,
          { generator: g.generator, count: options.count, placement: 'suffix', insertion: g.generator.insertion ?? 'copy', empiricalM: options.empiricalM, seed },
          ctx,
        );
        return verifyBackdoors(model, secret, { alpha: 1e-3, nullMode: mode, slack: options.slack, ctx });
      },
    });
  }
  for (const d of defs) {
    const config = sha(canonicalJson({ v: CALIBRATION_SCHEMA_VERSION, defense: { id: d.config.id, options: d.options }, label: d.label, dataset: options.dataset, seed: options.seed, base: deps.baseLabel })).slice(0, 16);
    const names = { id: d.config.id, options: d.options, label: d.label };
    jobs.push({
      config,
      label: d.label,
      generator: names,
      defense: names,
      empiricalM: 0,
      trial: async (seed, model) => {
        // A fresh secret per trial: the defense draws it from this trial's own user stream.
        const trialCtx: UserContext = { rng: new Rng(`calibrate|${seed}`), log: trialLog, generatorModel: memo(base), baseModel: memo(base) };
        const defense = d.make();
        const { secret } = await defense.plant(dataset.train, trialCtx);
        return defense.verify(memo(model), secret, { alpha: 1e-3, ctx: { ...trialCtx, rng: new Rng(`calibrate|${seed}|verification`) } });
      },
    });
  }

  /**
   * The record of one trial. Numbers go through src/records/finite.ts: a log10 p that underflowed is recorded
   * as −MAX_VALUE, an infinite statistic as ±MAX_VALUE; a NaN anywhere stops the run with a VerdictError naming
   * the configuration, null model and trial (a NaN is a verifier fault, never a null trial's p-value).
   */
  const calibrationRecord = (job: Job, verdict: Verdict, trial: number, seed: string, nm: NullModelHandle): CalibrationRecord => {
    const at = `calibrate: '${job.label}' trial ${trial} against '${nm.label}' (seed ${seed}): defense '${verdict.defense}' returned verdict`;
    // A verifier with one test (cue-reply's rank-sum, …) has no per-mode map: its test's name is the mode.
    const byMode = verdict.log10pByNullMode
      ? finiteMapForRecord(verdict.log10pByNullMode, `${at}.log10pByNullMode`)
      : { [String(verdict.nullMode)]: finiteForRecord(verdict.log10p, `${at}.log10p`) };
    return {
      kind: 'calibration',
      schemaVersion: CALIBRATION_SCHEMA_VERSION,
      config: job.config,
      generator: job.generator,
      ...(job.defense && { defense: job.defense }),
      count: job.count ?? verdict.n,
      dataset: options.dataset.spec,
      nullModel: nm.label,
      nullModelKind: nm.kind,
      baseModel: deps.baseLabel,
      trial,
      seed,
      n: verdict.n,
      k: verdict.k,
      empiricalM: job.empiricalM,
      log10pByNullMode: byMode,
      ...(verdict.statistic && { statistic: { name: verdict.statistic.name, value: finiteForRecord(verdict.statistic.value, `${at}.statistic.value`) } }),
    };
  };

  const records: CalibrationRecord[] = [];
  let ran = 0;
  let reused = 0;
  for (const job of jobs) {
    for (const nm of deps.nullModels) {
      // The first record of a trial wins (a trial recorded twice by two overlapping runs counts once).
      const mine = new Map<number, CalibrationRecord>();
      for (const r of existing) if (r.config === job.config && r.nullModel === nm.label && r.trial < options.trials && !mine.has(r.trial)) mine.set(r.trial, r);
      const done = new Set(mine.keys());
      records.push(...[...mine.values()].sort((a, b) => a.trial - b.trial));
      reused += done.size;
      const todo = Array.from({ length: options.trials }, (_, i) => i).filter((i) => !done.has(i));
      const model = wrap(nm.model);
      for (let w = 0; w < todo.length; w += options.batch) {
        const wave = todo.slice(w, w + options.batch);
        const out = await Promise.all(
          wave.map(async (trial) => {
            const seed = sha(`calibrate|${options.seed}|${job.config}|${nm.label}|${trial}`).slice(0, 16);
            return calibrationRecord(job, await job.trial(seed, model), trial, seed, nm);
          }),
        );
        appendCalibrationRecords(deps.outFile, out);
        records.push(...out);
        ran += out.length;
        deps.onProgress?.({
          generator: job.label,
          nullModel: nm.label,
          done: done.size + w + wave.length,
          total: options.trials,
          ran,
          trialsPerSecond: ran / ((performance.now() - t0) / 1000),
        });
      }
    }
  }
  return {
    records,
    ran,
    reused,
    durationMs: performance.now() - t0,
    warnings: [...warnings].map(([message, trials]) => ({ message, trials })),
  };
}
