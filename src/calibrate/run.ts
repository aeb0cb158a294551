/**
 * Null trials for measuring Type-I error (issue 13, DESIGN.md §3): plant a fresh secret (a fresh planting
 * seed per trial) with a generator configuration, verify it against a model that never saw it — the base
 * model itself, or a cached fine-tune without backdoors — and record log10 p under every null mode the
 * verdict carries. Only verification runs: no training.
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
import type { Dataset, Logger, Model, NullMode, UserContext } from '../types.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { plantBackdoors } from '../../defenses/vtune/plant.js';
import { canonicalJson } from '../core/canonical-json.js';
import { verifyBackdoors } from '../../defenses/vtune/verify.js';
import { dropTornTail } from '../records/store.js';
import { batchingModel, type BatchingModel } from './batching-model.js';
import { appendCalibrationRecords, CALIBRATION_SCHEMA_VERSION, readCalibrationFile, type CalibrationRecord, type NullModelKind } from './records.js';

/** A generator configuration to calibrate. */
export interface GeneratorConfig {
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
  readonly generators: readonly GeneratorConfig[];
  /** Backdoors per secret. */
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

/** The label of a generator configuration: its id, then its explicitly given options. */
export function generatorLabel(g: GeneratorConfig): string {
  if (g.label) return g.label;
  const entries = Object.entries(g.options ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? `${g.id}(${entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',')})` : g.id;
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
  if (o.generators.length === 0) throw new ConfigError('calibrate: give at least one generator');
  if (typeof o.seed !== 'string' || o.seed.length === 0) throw new ConfigError("calibrate: option 'seed' must be a non-empty string");
}

/** Runs (or resumes) the null trials and appends their records to `deps.outFile`. */
export async function runCalibration(options: CalibrationOptions, deps: CalibrationDeps): Promise<CalibrationResult> {
  checkOptions(options);
  if (deps.nullModels.length === 0) throw new ConfigError('calibrate: no null model to verify against');
  // Validate every generator configuration before any work.
  const gens = options.generators.map((g) => ({ config: g, label: generatorLabel(g), generator: generators.get(g.id)({ ...(g.options ?? {}) }) }));
  const t0 = performance.now();
  const load = deps.loadDataset ?? loadDataset;
  const dataset = await load(options.dataset.spec, { seed: new Rng(`calibrate|${options.seed}|dataset`).seed31(), ...(options.dataset.size !== undefined ? { size: options.dataset.size } : {}) });
  if (dataset.train.length < options.count) {
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

  const records: CalibrationRecord[] = [];
  let ran = 0;
  let reused = 0;
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
    for (const nm of deps.nullModels) {
      // The first record of a trial wins (a trial recorded twice by two overlapping runs counts once).
      const mine = new Map<number, CalibrationRecord>();
      for (const r of existing) if (r.config === config && r.nullModel === nm.label && r.trial < options.trials && !mine.has(r.trial)) mine.set(r.trial, r);
      const done = new Set(mine.keys());
      records.push(...[...mine.values()].sort((a, b) => a.trial - b.trial));
      reused += done.size;
      const todo = Array.from({ length: options.trials }, (_, i) => i).filter((i) => !done.has(i));
      const model = wrap(nm.model);
      for (let w = 0; w < todo.length; w += options.batch) {
        const wave = todo.slice(w, w + options.batch);
        const out = await Promise.all(
          wave.map(async (trial): Promise<CalibrationRecord> => {
            const seed = sha(`calibrate|${options.seed}|${config}|${nm.label}|${trial}`).slice(0, 16);
            const { secret } = await plantBackdoors(
              dataset.train,
              { generator: g.generator, count: options.count, placement: 'suffix', insertion: 'copy', empiricalM: options.empiricalM, seed },
              ctx,
            );
            const verdict = await verifyBackdoors(model, secret, { alpha: 1e-3, nullMode: mode, slack: options.slack, ctx });
            return {
              kind: 'calibration',
              schemaVersion: CALIBRATION_SCHEMA_VERSION,
              config,
              generator: { id: g.generator.id, options: g.generator.options, label: g.label },
              count: options.count,
              dataset: options.dataset.spec,
              nullModel: nm.label,
              nullModelKind: nm.kind,
              baseModel: deps.baseLabel,
              trial,
              seed,
              n: verdict.n,
              k: verdict.k,
              empiricalM: options.empiricalM,
              log10pByNullMode: { ...verdict.log10pByNullMode } as Record<string, number>,
            };
          }),
        );
        appendCalibrationRecords(deps.outFile, out);
        records.push(...out);
        ran += out.length;
        deps.onProgress?.({
          generator: g.label,
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
