/**
 * The queue worker (`vtune-bench worker --queue …`): takes training-group jobs from every provider's work
 * queue, runs their cells with the same pipeline as a local run (both sides of the information barrier run here,
 * see protocol.ts), and sends one record per cell back on the run's results queue. It never writes records
 * itself: the coordinator is the single writer.
 *
 * Faults are BullMQ's: the job lock is renewed while the worker lives; a worker killed mid-job stops renewing,
 * and another worker's stalled-job check moves the job back to the queue (at most `maxStalls` times, then the
 * job fails and the coordinator records a `failure` per cell). A job from a coordinator at another commit or
 * with other package versions is refused (put back for another worker) and the refusal is reported.
 */
import { hostname } from 'node:os';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { describeError, registerSecret } from '../errors.js';
import { cellPlugins, type Catalog } from '../runner/catalog.js';
import { gitSha, packageVersions } from '../runner/manifest.js';
import { failureRecord, trialRecord } from '../runner/run.js';
import { DiskTrainCache } from '../runner/train-cache.js';
import type { Logger, Provider } from '../types.js';
import { identityMismatch, PROTOCOL_VERSION, restoredCell, workerOnlyOptionsIn, QUEUE_PREFIX, resultsQueueName, workQueueName, type CodeIdentity, type GroupJob, type GroupProgress, type ResultMessage } from './protocol.js';
import { redisOptions, type QueueAddress } from './url.js';

/** Options of a worker process. */
export interface WorkerOptions {
  readonly address: QueueAddress;
  readonly catalog: Catalog;
  readonly log: Logger;
  /** Jobs run at once per provider queue (default 1). */
  readonly concurrency?: number;
  /** Training threads of the embedded engine (`local` provider's `threads` option). */
  readonly threads?: number;
  /** How long a job's lock lasts without renewal: how soon a lost worker's job moves on (default 60 s). */
  readonly lockMs?: number;
  /** Times a job may be lost with its worker before it fails (default 2). */
  readonly maxStalls?: number;
  /** This worker's code identity (default: this checkout's commit and installed packages). */
  readonly identity?: CodeIdentity;
  /**
   * Values of secret options this worker holds (`worker --key-file`, $VTUNE_KEY): jobs carry only their
   * fingerprints (protocol.ts withheldCell), and a job needing one not held here fails its attempt.
   */
  readonly secrets?: readonly string[];
  /** Shown in refusals and results (default host:pid). */
  readonly name?: string;
  /**
   * FAULT INJECTION FOR TESTS (VTUNE_QUEUE_TEST_HOLD_AFTER_CELLS): after sending this many cell results, hold the
   * job forever (the lock keeps being renewed), so a test can kill the worker in the middle of a job.
   */
  readonly holdAfterCells?: number;
}

/** A running worker. */
export interface RunningWorker {
  /** Stops taking jobs and waits for the running ones to finish. */
  close(): Promise<void>;
  /** Stops at once without finishing or releasing the running jobs (as a lost machine would): they stall. */
  forceClose(): Promise<void>;
  /** Jobs finished and cells run so far. */
  readonly stats: { jobs: number; cells: number; refused: number };
}

/** How long a refused job waits before another worker may take it. */
const REFUSE_DELAY_MS = 2000;

/** Starts a worker on every provider's queue. Resolves once it is listening. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const { catalog, log } = opts;
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const identity = opts.identity ?? { gitSha: gitSha(), packageVersions: packageVersions() };
  const lockMs = opts.lockMs ?? 60_000;
  const secrets = opts.secrets ?? [];
  // Masked in every message from here on, whatever quotes them (src/errors.ts).
  for (const s of secrets) registerSecret(s);
  const connection = new Redis(redisOptions(opts.address));
  connection.on('error', () => undefined);
  const cache = new DiskTrainCache(undefined, log);
  const providers = new Map<string, Promise<Provider>>();
  const resultQueues = new Map<string, Queue>();
  const refusedRuns = new Set<string>();
  const stats = { jobs: 0, cells: 0, refused: 0 };
  let held = 0;

  const openProvider = (id: string, options: Readonly<Record<string, unknown>>): Promise<Provider> => {
    // The local provider's own concurrency chooses its threading (providers/local.ts): a worker runs
    // `concurrency` jobs at once, so that is the provider's unless the scenario sets it.
    const merged = id === 'local' ? { concurrency: opts.concurrency ?? 1, ...options, ...(opts.threads !== undefined && { threads: opts.threads }) } : options;
    const key = `${id} ${JSON.stringify(merged)}`;
    let p = providers.get(key);
    if (!p) {
      p = catalog.openProvider(id, merged);
      // A provider that failed to open (a missing key on this machine) is retried on the next job.
      p.catch(() => providers.delete(key));
      providers.set(key, p);
    }
    return p;
  };
  const results = (runId: string): Queue => {
    let q = resultQueues.get(runId);
    if (!q) {
      q = new Queue(resultsQueueName(runId), { connection, prefix: QUEUE_PREFIX });
      q.on('error', () => undefined);
      resultQueues.set(runId, q);
    }
    return q;
  };
  const send = (runId: string, message: ResultMessage): Promise<unknown> => results(runId).add(message.kind, message, { removeOnComplete: true, removeOnFail: 1000 });

  // When each idle job slot of each provider queue became free (for the queue-overhead measurement).
  const freeSince = new Map<string, number[]>();
  const processJob = async (job: Job<GroupJob>, token?: string): Promise<void> => {
    const jobStartedAt = Date.now();
    const slots = freeSince.get(job.queueName) ?? [];
    slots.sort((a, b) => a - b);
    const idleSince = slots.shift() ?? jobStartedAt;
    freeSince.set(job.queueName, slots);
    try {
      await runJob(job, token, jobStartedAt, idleSince);
    } finally {
      slots.push(Date.now());
    }
  };
  const runJob = async (job: Job<GroupJob>, token: string | undefined, jobStartedAt: number, idleSince: number): Promise<void> => {
    const data = job.data;
    const mismatch = data.v !== PROTOCOL_VERSION ? `job format v${String(data.v)}, this worker reads v${PROTOCOL_VERSION}` : identityMismatch(data.code, identity);
    const forbidden = workerOnlyOptionsIn(data.providers ?? {});
    if (forbidden.length > 0) {
      // Not a job a real coordinator sends (it refuses such scenarios): fail it without running anything.
      throw new UnrecoverableError(`job ${job.id} sets ${forbidden.join(', ')}, which only a worker's own environment may set; refused`);
    }
    if (mismatch) {
      stats.refused++;
      if (!refusedRuns.has(data.runId)) {
        refusedRuns.add(data.runId);
        log.warn(`refusing jobs of run ${data.runId}: ${mismatch}`);
        await send(data.runId, { v: PROTOCOL_VERSION, kind: 'refused', worker: name, reason: mismatch });
      }
      // Back to the queue for a worker at the coordinator's version; a refusal is not a failed attempt.
      await job.moveToDelayed(Date.now() + REFUSE_DELAY_MS, token);
      throw new DelayedError();
    }
    // A secret this worker does not hold, or a provider it cannot open (its API key missing here), fails the
    // attempt, not the cells: the job is retried, on another worker if one can take it, and only when every
    // attempt fails become failures.
    const cells = data.cells.map((cell) => restoredCell(cell, secrets));
    await openProvider(data.provider, data.providers[data.provider] ?? {});
    log.info(`job ${job.id}: ${cells.length} cell(s) of ${data.scenario} (attempt ${job.attemptsMade + 1})`);
    for (const cell of cells) {
      const cellStarted = Date.now();
      let stage = 'setup';
      let lastSent = 0;
      let tokens = 0;
      let record;
      // Counted per cell (not from the shared cache's totals), so concurrent jobs do not blur the counts.
      const fineTunes = { trained: 0, reused: 0 };
      try {
        const outcome = await catalog.runCell(cell.spec, {
          ...cellPlugins(catalog),
          openProvider: (id) => openProvider(id, data.providers[id] ?? {}),
          trainCache: {
            getOrTrain: async (key, provider, train) => {
              const r = await cache.getOrTrain(key, provider, train);
              fineTunes[r.cached ? 'reused' : 'trained']++;
              return r;
            },
          },
          log,
          onProgress: (p) => {
            if (p.tokens !== undefined && p.stage === 'train') tokens += p.tokens;
            const now = Date.now();
            // Throttled: progress is for the display, not worth a Redis round trip per optimizer step.
            if (p.stage === stage && now - lastSent < 500) return;
            stage = p.stage;
            lastSent = now;
            const progress: GroupProgress = { cellKey: cell.spec.key, stage: p.stage, done: p.done, ...(p.total !== undefined && { total: p.total }), ...(tokens > 0 && { tokens }) };
            tokens = 0;
            job.updateProgress(progress as unknown as object).catch(() => undefined);
          },
        });
        record = trialRecord(cell, outcome, Date.now() - cellStarted);
      } catch (err) {
        record = failureRecord(cell, stage, err, Date.now() - cellStarted);
        log.warn(`cell ${cell.recorded.labels.attack} / seed ${cell.spec.seed} failed in ${stage}: ${describeError(err)}`);
      }
      const cellEndedAt = Date.now();
      await send(data.runId, { v: PROTOCOL_VERSION, kind: 'record', record, jobId: String(job.id), worker: name, idleSince, jobStartedAt, workMs: cellEndedAt - cellStarted, cellEndedAt, fineTunes });
      stats.cells++;
      held++;
      if (opts.holdAfterCells !== undefined && held === opts.holdAfterCells) {
        log.info(`test fault injection: holding job ${job.id} after ${held} cell(s)`);
        await new Promise<never>(() => undefined);
      }
    }
    stats.jobs++;
  };

  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const workers = catalog.providers.ids.map((provider) => {
    freeSince.set(workQueueName(provider), Array.from({ length: concurrency }, () => Date.now()));
    const w = new Worker<GroupJob>(workQueueName(provider), processJob, {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.round(lockMs / 2)),
      maxStalledCount: opts.maxStalls ?? 2,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 10_000 },
      autorun: false,
    });
    w.on('error', (err) => log.debug(`queue ${provider}: ${describeError(err)}`));
    w.on('failed', (job, err) => {
      if (job && !(err instanceof DelayedError)) log.warn(`job ${job.id} failed: ${describeError(err)}`);
    });
    return w;
  });
  for (const w of workers) void w.run().catch((err: unknown) => log.warn(`worker stopped: ${describeError(err)}`));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info(`worker ${name} listening on ${opts.address.shown} (${workers.length} provider queues, concurrency ${concurrency}${secrets.length ? `, holding ${secrets.length} key(s)` : ''})`);

  return {
    stats,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...resultQueues.values()].map((q) => q.close()));
      const opened = await Promise.allSettled(providers.values());
      await Promise.all(opened.map((r) => (r.status === 'fulfilled' ? r.value.close?.() : undefined)));
      connection.disconnect();
    },
    async forceClose() {
      await Promise.all(workers.map((w) => w.close(true)));
      await Promise.all([...resultQueues.values()].map((q) => q.close()));
      connection.disconnect();
    },
  };
}
