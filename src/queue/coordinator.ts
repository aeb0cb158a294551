/**
 * The queue coordinator (`vtune-bench run <scenario> --queue redis://…`): expands and validates the scenario
 * once, enqueues its training groups (protocol.ts) on BullMQ, and stays the single writer of `records.jsonl`
 * (manifest first), with the same resume, progress and summary as a local run (src/runner/run.ts).
 *
 * Faults: every result travels as a durable message on the run's results queue, acknowledged only after its
 * record is on disk; a coordinator killed mid-run leaves them in Redis and the same command picks them up,
 * skipping cells already recorded (late and duplicate results are dropped by cell key). A work job that BullMQ
 * gives up on (lost with its worker too often, or failing to start) becomes a `failure` record per cell. Redis
 * restarts are waited out (url.ts reconnects forever); Redis must keep its data across the restart (appendonly).
 */
import { join } from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigError, describeError, QueueError } from '../errors.js';
import type { FailureRecord, TrialRecord } from '../records/schema.js';
import { RECORDS_FILE, RecordWriter } from '../records/store.js';
import type { CellOutcome } from '../runner/contract.js';
import { expandCells, preflight, type PlannedCell } from '../runner/expand.js';
import { gitSha, makeManifest, packageVersions } from '../runner/manifest.js';
import { defaultRunId, failureRecord, recordedCells, type RunOptions, type RunSummary } from '../runner/run.js';
import { repoRoot } from '../shared-path.js';
import { groupJobId, identityMismatch, IN_WORKER_PROVIDERS, PROTOCOL_VERSION, QUEUE_PREFIX, resultsQueueName, trainingGroups, withheldCell, workerOnlyOptionsIn, workQueueName, type GroupJob, type GroupProgress, type ResultMessage } from './protocol.js';
import { connect, parseQueueUrl } from './url.js';

/** Options of a queued run: a local run's, plus the queue. */
export interface QueueRunOptions extends RunOptions {
  /** `redis://host:port[/db]` or `rediss://…`. */
  readonly queue: string;
  /** Counts fine-tunes trained and reused by the workers (as each worker's training cache saw them). */
  readonly fineTunes?: { trained: number; reused: number };
  /** Attempts of a work job that throws before its cells run (a provider failing to open), default 3. */
  readonly attempts?: number;
  /** How often failed work jobs are looked for (default 1000 ms). */
  readonly pollMs?: number;
  /** Called for each record written (bench/queue.ts measures the queue's overhead with it). */
  readonly onRecorded?: (info: RecordedInfo) => void;
}

/** One record written, with the worker's timings (absent for failure records the coordinator writes itself). */
export interface RecordedInfo {
  readonly record: TrialRecord | FailureRecord;
  readonly jobId: string;
  readonly enqueuedAt: number;
  readonly recordedAt: number;
  readonly timing?: { readonly idleSince: number; readonly jobStartedAt: number; readonly workMs: number; readonly cellEndedAt: number };
}

/** Results-queue lock: a coordinator killed while writing a record hands the message on after this long. */
const RESULT_LOCK_MS = 5000;

/** Runs (or resumes) a scenario through the queue; resolves once every cell of the run has a record. */
export async function runScenarioOnQueue(opts: QueueRunOptions): Promise<RunSummary> {
  const started = Date.now();
  const { scenario, catalog, log } = opts;
  const address = parseQueueUrl(opts.queue);
  if (opts.shard) throw new ConfigError('--queue and --shard do not combine: the queue hands cells to workers as they free up; use one or the other');
  const workerOnly = workerOnlyOptionsIn(scenario.providers ?? {});
  if (workerOnly.length > 0) {
    throw new ConfigError(`${opts.file}: ${workerOnly.join(', ')}: with --queue, a command to run is set on each worker (VTUNE_COMMAND_TEMPLATE in its environment), never sent through the queue`);
  }
  const runId = opts.runId ?? defaultRunId(scenario);
  const runDir = join(opts.resultsRoot ?? join(repoRoot, 'results'), scenario.name, runId);
  const recordsPath = join(runDir, RECORDS_FILE);

  const all = expandCells(scenario, catalog.cellKey);
  const byKey = new Map(all.map((c) => [c.spec.key, c]));
  // Validated once, here: a worker would otherwise discover a bad scenario cell by cell.
  const opened = await preflight(scenario, catalog, opts.file);
  const poolLimits = new Map<string, number>();
  for (const [id, provider] of opened) poolLimits.set(id, Math.max(1, scenario.concurrency?.[id] ?? provider.concurrency));
  await Promise.all([...opened.values()].map((p) => p.close?.()));

  const { done, hasManifest } = recordedCells(recordsPath, scenario, log);
  const outstanding = new Set(all.filter((c) => !done.has(c.spec.key)).map((c) => c.spec.key));
  const skipped = all.length - outstanding.size;

  const connection = await connect(address);
  const writer = RecordWriter.open(recordsPath);
  const queues = new Map<string, Queue<GroupJob>>();
  const closers: (() => Promise<unknown>)[] = [];
  let succeeded = 0;
  let failed = 0;
  let finish!: () => void;
  const allRecorded = new Promise<void>((resolve) => (finish = resolve));
  const refusals = new Set<string>();
  try {
    if (!hasManifest) {
      writer.append(makeManifest({ scenario, file: opts.file, runId, cellCount: all.length }));
    }
    opts.progress?.start({ total: all.length, alreadyDone: skipped, runDir });
    if (outstanding.size === 0) finish();

    const record = (cell: PlannedCell, rec: TrialRecord | FailureRecord, meta: Omit<RecordedInfo, 'record' | 'recordedAt'>, fineTunes?: { trained: number; reused: number }): void => {
      // First record wins: a late result from a worker presumed lost, or a retried job's repeat, is dropped.
      if (!outstanding.has(rec.cellKey)) return;
      writer.append(rec);
      if (opts.fineTunes && fineTunes) {
        opts.fineTunes.trained += fineTunes.trained;
        opts.fineTunes.reused += fineTunes.reused;
      }
      outstanding.delete(rec.cellKey);
      if (rec.kind === 'trial') {
        succeeded++;
        // The display reads only the measured tokens, costs and cache flag, which the record carries.
        const outcome = { truth: rec.truth, cost: rec.cost, trainCached: rec.trainCached } as unknown as CellOutcome;
        opts.progress?.cellFinished(cell, { ok: true, outcome });
      } else {
        failed++;
        log.warn(`cell ${cell.recorded.labels.attack} / ${cell.recorded.labels.defense} / seed ${cell.spec.seed} failed in ${rec.stage}: ${rec.message}`);
        opts.progress?.cellFinished(cell, { ok: false });
      }
      opts.onRecorded?.({ record: rec, ...meta, recordedAt: Date.now() });
      if (outstanding.size === 0) finish();
    };

    // ── results: one consumer, so records are appended one at a time by this process only ──
    const enqueuedAt = new Map<string, number>();
    const resultsWorker = new Worker<ResultMessage>(
      resultsQueueName(runId),
      async (job: Job<ResultMessage>) => {
        const m = job.data;
        if (m.v !== PROTOCOL_VERSION) return;
        if (m.kind === 'refused') {
          if (!refusals.has(`${m.worker} ${m.reason}`)) log.warn(`worker ${m.worker} refuses this run's jobs: ${m.reason}`);
          refusals.add(`${m.worker} ${m.reason}`);
          return;
        }
        const cell = byKey.get(m.record.cellKey);
        if (!cell) return;
        const timing = { idleSince: m.idleSince, jobStartedAt: m.jobStartedAt, workMs: m.workMs, cellEndedAt: m.cellEndedAt };
        record(cell, m.record, { enqueuedAt: enqueuedAt.get(m.jobId) ?? NaN, jobId: m.jobId, timing }, m.fineTunes);
      },
      { connection, prefix: QUEUE_PREFIX, concurrency: 1, lockDuration: RESULT_LOCK_MS, stalledInterval: RESULT_LOCK_MS / 2, maxStalledCount: 1000, removeOnComplete: { count: 0 }, autorun: false },
    );
    resultsWorker.on('error', (err) => log.debug(`results queue: ${describeError(err)}`));
    closers.push(() => resultsWorker.close());
    void resultsWorker.run().catch((err: unknown) => log.warn(`results consumer stopped: ${describeError(err)}`));
    await resultsWorker.waitUntilReady();

    // Results a previous coordinator left behind are taken in first, so their groups are not enqueued again.
    const resultsQueue = new Queue(resultsQueueName(runId), { connection, prefix: QUEUE_PREFIX });
    closers.push(() => resultsQueue.close());
    const drainUntil = Date.now() + 3 * RESULT_LOCK_MS;
    for (;;) {
      const c = await resultsQueue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
      if (Object.values(c).every((n) => n === 0) || Date.now() > drainUntil || opts.signal?.aborted) break;
      await sleep(100);
    }

    // ── work: one job per training group with cells still to record ──
    const queueFor = async (provider: string): Promise<Queue<GroupJob>> => {
      let q = queues.get(provider);
      if (!q) {
        q = new Queue<GroupJob>(workQueueName(provider), { connection, prefix: QUEUE_PREFIX });
        q.on('error', (err) => log.debug(`queue ${provider}: ${describeError(err)}`));
        queues.set(provider, q);
        closers.push(() => q!.close());
        // A hosted provider's limit holds across the whole pool; an in-worker provider's is per worker.
        if (!IN_WORKER_PROVIDERS.has(provider)) await q.setGlobalConcurrency(poolLimits.get(provider) ?? 1);
        const eventsConnection = connection.duplicate();
        eventsConnection.on('error', () => undefined);
        closers.push(() => quit(eventsConnection));
        const events = new QueueEvents(workQueueName(provider), { connection: eventsConnection, prefix: QUEUE_PREFIX });
        events.on('error', () => undefined);
        events.on('progress', ({ jobId, data }) => {
          if (!jobId.startsWith(groupJobId(runId, ''))) return;
          const p = data as unknown as GroupProgress;
          const cell = byKey.get(p.cellKey);
          if (cell && outstanding.has(p.cellKey)) opts.progress?.cellProgress(cell, { stage: p.stage, done: p.done, ...(p.total !== undefined && { total: p.total }), ...(p.tokens !== undefined && { tokens: p.tokens }) });
        });
        closers.push(() => events.close());
      }
      return q;
    };
    const code = { gitSha: gitSha(), packageVersions: packageVersions() };
    const jobCells = new Map<string, { provider: string; cells: PlannedCell[] }>();
    for (const [groupKey, cells] of trainingGroups(all.filter((c) => outstanding.has(c.spec.key)))) {
      if (opts.signal?.aborted) break;
      const provider = cells[0]!.provider;
      const queue = await queueFor(provider);
      const id = groupJobId(runId, groupKey);
      jobCells.set(id, { provider, cells });
      const existing = await queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        // Left waiting by a coordinator at another commit: no worker at this commit would take it; replace it.
        const stale = state !== 'active' && (!existing.data?.code || identityMismatch(existing.data.code, code) !== null);
        // Waiting, delayed or active: still in flight from an earlier coordinator; its results come here.
        if (!stale && state !== 'failed' && state !== 'completed' && state !== 'unknown') {
          enqueuedAt.set(id, existing.timestamp);
          continue;
        }
        // A job given up on in an earlier run: resuming retries it, as a local resume retries failed cells.
        await existing.remove();
      }
      const payload: GroupJob = { v: PROTOCOL_VERSION, runId, scenario: scenario.name, code, provider, providers: scenario.providers ?? {}, cells: cells.map(withheldCell), enqueuedAt: Date.now() };
      enqueuedAt.set(id, payload.enqueuedAt);
      await queue.add(groupKey, payload, { jobId: id, attempts: opts.attempts ?? 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: false });
    }

    // ── jobs BullMQ gave up on become failure records (kept in Redis until recorded, so none is lost) ──
    const sweep = async (): Promise<void> => {
      for (const queue of queues.values()) {
        const failedJobs = await queue.getJobs(['failed'], 0, -1);
        for (const job of failedJobs) {
          if (!job?.id || !jobCells.has(job.id)) continue;
          const reason = `work job ${job.id} failed after ${job.attemptsMade} attempt(s) and ${job.stalledCounter ?? 0} lost worker(s): ${job.failedReason}`;
          for (const cell of jobCells.get(job.id)!.cells) {
            const named = `cell ${cell.recorded.labels.attack} / ${cell.recorded.labels.defense} / seed ${cell.spec.seed} (${cell.spec.key}) not run: ${reason}`;
            record(cell, failureRecord(cell, 'queue', new QueueError(named), 0), { enqueuedAt: job.timestamp, jobId: job.id });
          }
          await job.remove();
        }
      }
    };
    const onAbort = (): void => finish();
    opts.signal?.addEventListener('abort', onAbort);
    const pollMs = opts.pollMs ?? 1000;
    while (outstanding.size > 0 && !opts.signal?.aborted) {
      await Promise.race([allRecorded, sleep(pollMs)]);
      if (outstanding.size === 0 || opts.signal?.aborted) break;
      await sweep().catch((err: unknown) => log.debug(`checking failed jobs: ${describeError(err)}`));
    }
    opts.signal?.removeEventListener('abort', onAbort);
    const interrupted = outstanding.size > 0;
    return { runDir, recordsPath, total: all.length, skipped, succeeded, failed, interrupted, durationMs: Date.now() - started };
  } finally {
    opts.progress?.stop();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    writer.close();
    await quit(connection);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function quit(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
