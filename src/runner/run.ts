/**
 * Runs a scenario's cells (DESIGN.md §4, §8): skips cells already recorded (resume), runs the rest under
 * per-provider concurrency limits, and appends one durable trial or failure record per cell. A failed cell
 * becomes a `failure` record, never a crash (STYLE rule 11); an aborted run records nothing for the cells it
 * interrupted, so the same command later runs exactly those.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { ConfigError, describeError, VerdictError, VtuneError } from '../errors.js';
import { finiteForRecord, finiteMapForRecord } from '../records/finite.js';
import type { FailureRecord, TrialRecord } from '../records/schema.js';
import { COMPRESSED_RECORDS_FILE, latestByCell, readRecordsFile, RECORDS_FILE, RecordWriter } from '../records/store.js';
import { gunzipSync } from 'node:zlib';
import { repoRoot } from '../shared-path.js';
import type { Logger, Progress, Provider } from '../types.js';
import { cellPlugins, type Catalog } from './catalog.js';
import type { CellOutcome, TrainCache } from './contract.js';
import { expandCells, preflight, shardCells, type PlannedCell } from './expand.js';
import { lockRunFolder } from './lock.js';
import { makeManifest } from './manifest.js';
import { scenarioHash, type Scenario } from './scenario.js';

/** Receives the run's progress (the CLI draws it; tests may collect it). */
export interface ProgressSink {
  start(info: { total: number; alreadyDone: number; runDir: string }): void;
  cellProgress(cell: PlannedCell, p: Progress): void;
  cellFinished(cell: PlannedCell, result: { ok: boolean; outcome?: CellOutcome }): void;
  stop(): void;
}

/** Options of one run. */
export interface RunOptions {
  readonly scenario: Scenario;
  /** The scenario file, as shown in messages and the manifest. */
  readonly file: string;
  readonly catalog: Catalog;
  /** Where `<scenario>/<run-id>/records.jsonl` goes (default `<repo>/results`). */
  readonly resultsRoot?: string;
  /** Default: derived from the scenario's content (and the shard), so the same command resumes the same run. */
  readonly runId?: string;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly trainCache?: TrainCache;
  readonly signal?: AbortSignal;
  readonly log: Logger;
  readonly progress?: ProgressSink;
}

/** What a run did. */
export interface RunSummary {
  readonly runDir: string;
  readonly recordsPath: string;
  /** Cells of this run (this shard). */
  readonly total: number;
  readonly skipped: number;
  readonly succeeded: number;
  readonly failed: number;
  /** True when stopped by the signal before every cell finished. */
  readonly interrupted: boolean;
  readonly durationMs: number;
  /**
   * Wall milliseconds per stage, summed over the cells run (trials and failures): see StageClock. With more
   * than one cell at a time the stages of different cells overlap, so these add up to more than durationMs.
   * (The queue coordinator, whose cells run in workers, leaves it out.)
   */
  readonly stageMs?: Readonly<Record<string, number>>;
}

/**
 * Splits a cell's wall time into stages as its progress reports them: the time from one reported stage to the
 * next different one belongs to the first. The cell's own stages ('dataset', 'plant', 'verify', 'utility')
 * and the provider side's ('data': the attack's row scoring, 'train': fine-tuning or the training cache,
 * 'tokenize', 'model', 'inference') are named as reported; the time before the first report is 'open'
 * (opening the provider's base model).
 */
export class StageClock {
  private stage = 'open';
  private since = performance.now();
  readonly spans: Record<string, number> = {};

  /** A progress report of the cell. */
  report(stage: string): void {
    if (stage === this.stage) return;
    this.close();
    this.stage = stage;
  }

  /** Ends the current stage (at the cell's end); returns the spans in whole milliseconds. */
  finish(): Record<string, number> {
    this.close();
    return Object.fromEntries(Object.entries(this.spans).map(([k, v]) => [k, Math.round(v)]));
  }

  private close(): void {
    const now = performance.now();
    this.spans[this.stage] = (this.spans[this.stage] ?? 0) + (now - this.since);
    this.since = now;
  }
}

/** The default run id: the scenario's content hash, plus the shard. */
export function defaultRunId(scenario: Scenario, shard?: { index: number; count: number }): string {
  return shard ? `${scenarioHash(scenario)}-shard-${shard.index}of${shard.count}` : scenarioHash(scenario);
}

/**
 * Checks a run id: it names one folder inside `<results>/<scenario>/`, so it is a plain name (letters, digits,
 * `.`, `_`, `-`, starting with a letter or digit, no `..`) that can never point outside that folder.
 * `what` names the option in the message (e.g. `--run-id`).
 */
export function checkRunId(runId: string, what = 'run id'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId) || runId.includes('..')) {
    throw new ConfigError(
      `${what} must be a plain folder name (letters, digits, '.', '_' or '-', starting with a letter or digit, no '..', at most 128 characters), got ${JSON.stringify(runId)}: it names a folder inside <results>/<scenario>/`,
    );
  }
  return runId;
}

/**
 * What a run folder's records file already holds: the cells with a trial (resume: they are skipped) and whether
 * it has its manifest (a new or empty file gets one first). Warns when its last line was torn (that cell runs
 * again) or when another version of the scenario wrote it. Shared by the local runner and the queue coordinator.
 */
export function recordedCells(recordsPath: string, scenario: Scenario, log: Logger): { done: Set<string>; hasManifest: boolean } {
  if (!existsSync(recordsPath)) return { done: new Set(), hasManifest: false };
  const existing = readRecordsFile(recordsPath);
  if (existing.tornBytes > 0) log.warn(`${recordsPath}: dropped a torn last line (${existing.tornBytes} bytes); its cell runs again`);
  if (existing.manifest && existing.manifest.scenario.hash !== scenarioHash(scenario)) {
    log.warn(`${recordsPath} was written by a different version of scenario '${scenario.name}'; cells no longer in it are ignored by the report`);
  }
  // readRecordsFile refuses a non-empty file whose first record is not the manifest.
  return { done: new Set(latestByCell(existing.records).trials.map((t) => t.cellKey)), hasManifest: existing.records.length > 0 };
}

/**
 * A run folder that holds only the committed `records.jsonl.gz` (a published or part-done run on a fresh clone)
 * resumes from it: its records are copied into a new `records.jsonl`, which the run then appends to. An
 * existing `records.jsonl` is never touched.
 */
export function resumeFromCompressed(recordsPath: string, log: Logger): void {
  const gz = join(dirname(recordsPath), COMPRESSED_RECORDS_FILE);
  if (existsSync(recordsPath) || !existsSync(gz)) return;
  writeFileSync(recordsPath, gunzipSync(readFileSync(gz)), { flag: 'wx' });
  log.info(`resuming from ${gz} (its records copied into ${recordsPath})`);
}

/**
 * Runs (or resumes) a scenario. Throws ConfigError before any cell when the scenario cannot run, or when
 * another live process is running into the same run folder (see ./lock.ts).
 */
export async function runScenario(opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const { scenario, catalog, log } = opts;
  const runId = checkRunId(opts.runId ?? defaultRunId(scenario, opts.shard));
  const runDir = join(opts.resultsRoot ?? join(repoRoot, 'results'), scenario.name, runId);
  const recordsPath = join(runDir, RECORDS_FILE);

  const all = expandCells(scenario, catalog.cellKey);
  const mine = shardCells(all, opts.shard);
  const lock = lockRunFolder(runDir, log);
  let providers = new Map<string, Provider>();
  let writer: RecordWriter | undefined;
  try {
    providers = await preflight(scenario, catalog, opts.file);
    resumeFromCompressed(recordsPath, log);
    const { done, hasManifest } = recordedCells(recordsPath, scenario, log);
    const pending = mine.filter((c) => !done.has(c.spec.key));
    const w = RecordWriter.open(recordsPath);
    writer = w;
    if (!hasManifest) {
      w.append(makeManifest({ scenario, file: opts.file, runId, cellCount: mine.length, ...(opts.shard && { shard: opts.shard }) }));
    }
    opts.progress?.start({ total: mine.length, alreadyDone: mine.length - pending.length, runDir });

    const limits = new Map<string, ReturnType<typeof pLimit>>();
    const limitFor = (providerId: string, provider: Provider | undefined): ReturnType<typeof pLimit> => {
      let l = limits.get(providerId);
      if (!l) {
        l = pLimit(Math.max(1, scenario.concurrency?.[providerId] ?? provider?.concurrency ?? 1));
        limits.set(providerId, l);
      }
      return l;
    };
    // A provider preflight did not open (a judge's, say) opens once, even when concurrent cells ask at once.
    const opening = new Map<string, Promise<Provider>>();
    const openProvider = (id: string): Promise<Provider> => {
      const ready = providers.get(id);
      if (ready) return Promise.resolve(ready);
      let p = opening.get(id);
      if (!p) {
        p = catalog.openProvider(id, scenario.providers?.[id]).then((opened) => (providers.set(id, opened), opened));
        opening.set(id, p);
      }
      return p;
    };

    let succeeded = 0;
    let failed = 0;
    const stageMs: Record<string, number> = {};
    const addStages = (spans: Record<string, number>): void => {
      for (const [k, v] of Object.entries(spans)) stageMs[k] = (stageMs[k] ?? 0) + v;
    };
    await Promise.all(
      pending.map((cell) =>
        limitFor(cell.provider, providers.get(cell.provider))(async () => {
          if (opts.signal?.aborted) return;
          const cellStarted = Date.now();
          let stage = 'setup';
          const clock = new StageClock();
          try {
            const outcome = await catalog.runCell(cell.spec, {
              ...cellPlugins(catalog),
              openProvider,
              ...(opts.trainCache && { trainCache: opts.trainCache }),
              log,
              onProgress: (p) => {
                stage = p.stage;
                clock.report(p.stage);
                opts.progress?.cellProgress(cell, p);
              },
              ...(opts.signal && { signal: opts.signal }),
            });
            const spans = clock.finish();
            addStages(spans);
            w.append(trialRecord(cell, { ...outcome, timingsMs: withStages(outcome.timingsMs, spans) }, Date.now() - cellStarted));
            succeeded++;
            opts.progress?.cellFinished(cell, { ok: true, outcome });
          } catch (err) {
            // Interrupted cells leave no record: the next run of the same command runs them from scratch.
            if (opts.signal?.aborted) return;
            addStages(clock.finish());
            const failure = failureRecord(cell, stage, err, Date.now() - cellStarted);
            w.append(failure);
            failed++;
            log.warn(`cell ${cell.recorded.labels.attack} / ${cell.recorded.labels.defense} / seed ${cell.spec.seed} failed in ${failure.stage}: ${failure.message}`);
            opts.progress?.cellFinished(cell, { ok: false });
          }
        }),
      ),
    );
    const interrupted = Boolean(opts.signal?.aborted) && succeeded + failed < pending.length;
    return { runDir, recordsPath, total: mine.length, skipped: mine.length - pending.length, succeeded, failed, interrupted, durationMs: Date.now() - started, stageMs };
  } finally {
    opts.progress?.stop();
    writer?.close();
    await Promise.all([...providers.values()].map((p) => p.close?.()));
    lock.release();
  }
}

/**
 * A cell's timings: the pipeline's own (dataset, plant, provider, verify, utility) and, under names it does not
 * use, the runner's finer stages (open, data, train, tokenize, model, inference: the provider side split up).
 */
export function withStages(pipeline: Readonly<Record<string, number>>, spans: Readonly<Record<string, number>>): Record<string, number> {
  return { ...Object.fromEntries(Object.entries(spans).filter(([k]) => !(k in pipeline))), ...pipeline };
}

/**
 * The trial record of a finished cell: the outcome minus model outputs (they may contain signatures). Numbers
 * go through src/records/finite.ts: ±Infinity becomes ±MAX_VALUE; a NaN in the verdict throws a VerdictError
 * naming the defense and the field, and the cell is recorded as a failure (see failureRecord), never a verdict.
 */
export function trialRecord(cell: PlannedCell, o: CellOutcome, durationMs: number): TrialRecord {
  const v = o.verdict;
  const at = `defense '${v.defense}' returned verdict`;
  return {
    kind: 'trial',
    cellKey: cell.spec.key,
    cell: cell.recorded,
    attack: { id: o.attack.id, goal: o.attack.goal, oracle: o.attack.oracle },
    verdict: {
      defense: v.defense,
      verified: v.verified,
      log10p: finiteForRecord(v.log10p, `${at}.log10p`),
      alpha: v.alpha,
      nullMode: String(v.nullMode),
      k: v.k,
      n: v.n,
      containsCount: v.containsCount,
      queries: v.queries,
      log10q: v.perBackdoor.map((b, i) => finiteForRecord(b.log10q, `${at}.perBackdoor[${i}].log10q`)),
      hits: v.perBackdoor.map((b) => b.hit),
      ...(v.log10pByNullMode && { log10pByNullMode: finiteMapForRecord(v.log10pByNullMode, `${at}.log10pByNullMode`) }),
      ...(v.statistic && {
        statistic: {
          name: v.statistic.name,
          value: finiteForRecord(v.statistic.value, `${at}.statistic.value`),
          ...(v.statistic.detail && { detail: finiteMapForRecord(v.statistic.detail, `${at}.statistic.detail`) }),
        },
      }),
    },
    truth: o.truth,
    defenseWon: o.defenseWon,
    utility: {
      ...(o.utility?.heldOutLossNatsPerToken !== undefined && { heldOutLossNatsPerToken: o.utility.heldOutLossNatsPerToken }),
      ...(o.utility?.taskMetric !== undefined && { taskMetric: o.utility.taskMetric }),
    },
    cost: o.cost,
    ...(o.detection && { detection: o.detection }),
    ...(o.warnings && { warnings: o.warnings }),
    timingsMs: o.timingsMs,
    trainCached: o.trainCached,
    durationMs,
  };
}

/**
 * The failure record of a cell that threw: its stage and a redacted one-line message. A verdict the records
 * cannot hold (VerdictError from trialRecord, raised after the pipeline finished) is the defense's fault: its
 * stage is `verify`.
 */
export function failureRecord(cell: PlannedCell, stage: string, err: unknown, durationMs: number): FailureRecord {
  return {
    kind: 'failure',
    cellKey: cell.spec.key,
    cell: cell.recorded,
    stage: err instanceof VerdictError ? 'verify' : stage,
    errorCode: err instanceof VtuneError ? err.code : 'internal',
    message: describeError(err),
    durationMs,
  };
}
