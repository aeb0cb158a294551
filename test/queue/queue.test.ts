/**
 * The queue's rules, in process against a real Redis (VTUNE_TEST_REDIS_URL from .ci/run, else a private
 * redis-server): version refusal, bounded retries ending in failure records, a password never shown, the
 * training groups. Cells run on the test-memorizer TEST DOUBLE (scenarios/fast.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ConfigError } from '../../src/errors.js';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runScenarioOnQueue } from '../../src/queue/coordinator.js';
import { groupJobId, identityMismatch, PROTOCOL_VERSION, QUEUE_PREFIX, resultsQueueName, trainingGroups, workQueueName, type GroupJob } from '../../src/queue/protocol.js';
import { parseQueueUrl } from '../../src/queue/url.js';
import { startWorker } from '../../src/queue/worker.js';
import type { FailureRecord, TrialRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { gitSha, packageVersions } from '../../src/runner/manifest.js';
import type { Catalog } from '../../src/runner/catalog.js';
import { defaultRunId } from '../../src/runner/run.js';
import { loadScenario, validateScenario } from '../../src/runner/scenario.js';
import { catalog as fakeCatalog } from '../runner/fake-catalog.js';
import type { Logger } from '../../src/types.js';
import { redisUnavailable, useRedisBase } from './redis-server.js';

const skip = redisUnavailable();

function captureLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), debug: (m) => lines.push(m) };
}

describe('training groups', () => {
  it('puts every attack of one (dataset, model, defense, hyper, seed) in one group: fast has 3 groups of 7', async () => {
    const { scenario } = await loadScenario('fast', projectCatalog);
    const cells = expandCells(scenario, projectCatalog.cellKey);
    const groups = [...trainingGroups(cells).values()];
    expect(groups.map((g) => g.length)).toEqual([7, 7, 7]);
    for (const g of groups) expect(new Set(g.map((c) => c.spec.seed)).size).toBe(1);
    expect(new Set(groups.flat().map((c) => c.spec.key)).size).toBe(cells.length);
  });
});

describe('identityMismatch', () => {
  it('names the commit and each package that differs, and nothing when equal (Node patch releases aside)', () => {
    const a = { gitSha: 'aaa', packageVersions: { bullmq: '6.7.0', node: '20.20.2' } };
    expect(identityMismatch(a, a)).toBeNull();
    expect(identityMismatch(a, { ...a, packageVersions: { ...a.packageVersions, node: '20.19.0' } })).toBeNull();
    const msg = identityMismatch(a, { gitSha: 'bbb', packageVersions: { bullmq: '6.6.0', node: '20.20.2', extra: '1.0.0' } });
    expect(msg).toBe('commit aaa on the coordinator, bbb here; bullmq 6.7.0 on the coordinator, 6.6.0 here; extra (missing) on the coordinator, 1.0.0 here');
  });
});

describe.skipIf(skip)(`the queue against Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const redisBase = useRedisBase();

  it('a worker at another commit refuses the job, says which, and leaves it for another worker (not failed)', async () => {
    const url = `${redisBase()}/6`;
    const address = parseQueueUrl(url);
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    await connection.flushdb();
    const { scenario } = await loadScenario('fast', projectCatalog);
    const cells = expandCells(scenario, projectCatalog.cellKey).slice(0, 7);
    const runId = 'refusal-test';
    const queue = new Queue<GroupJob>(workQueueName('test-memorizer'), { connection, prefix: QUEUE_PREFIX });
    const jobId = groupJobId(runId, 'g1');
    const code = { gitSha: 'f'.repeat(40), packageVersions: { ...packageVersions(), bullmq: '0.0.1' } };
    await queue.add('g1', { v: PROTOCOL_VERSION, runId, scenario: 'fast', code, provider: 'test-memorizer', providers: {}, cells, enqueuedAt: Date.now() }, { jobId });
    const log = captureLog();
    const worker = await startWorker({ address, catalog: projectCatalog, log, lockMs: 2000 });
    const results = new Queue(resultsQueueName(runId), { connection, prefix: QUEUE_PREFIX });
    try {
      let waiting: { data: { kind: string; reason?: string } }[] = [];
      for (const until = Date.now() + 20_000; Date.now() < until && waiting.length === 0; await new Promise((r) => setTimeout(r, 100))) {
        waiting = (await results.getJobs(['waiting'])) as never;
      }
      expect(waiting).toHaveLength(1);
      expect(waiting[0]!.data.kind).toBe('refused');
      expect(waiting[0]!.data.reason).toContain(`commit ${'f'.repeat(40)} on the coordinator, ${gitSha()} here`);
      expect(waiting[0]!.data.reason).toContain('bullmq 0.0.1 on the coordinator, 6.7.0 here');
      expect(log.lines.join('\n')).toContain('refusing jobs of run refusal-test');
      const state = await (await queue.getJob(jobId))!.getState();
      expect(['delayed', 'waiting', 'active']).toContain(state);
      expect(worker.stats.cells).toBe(0);
    } finally {
      await worker.close();
      await results.close();
      await queue.close();
      connection.disconnect();
    }
  });

  it('a forged job setting the command provider\'s template fails without running anything; a coordinator refuses such a scenario', async () => {
    const url = `${redisBase()}/9`;
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    await connection.flushdb();
    const { scenario, file } = await loadScenario('fast', projectCatalog);
    const cells = expandCells(scenario, projectCatalog.cellKey).slice(0, 7);
    const queue = new Queue<GroupJob>(workQueueName('test-memorizer'), { connection, prefix: QUEUE_PREFIX });
    const jobId = groupJobId('forged', 'g1');
    const code = { gitSha: gitSha(), packageVersions: packageVersions() };
    await queue.add('g1', { v: PROTOCOL_VERSION, runId: 'forged', scenario: 'fast', code, provider: 'test-memorizer', providers: { command: { template: 'touch /tmp/pwned' } }, cells, enqueuedAt: Date.now() }, { jobId, attempts: 3 });
    const worker = await startWorker({ address: parseQueueUrl(url), catalog: projectCatalog, log: captureLog(), lockMs: 2000 });
    try {
      let state = '';
      for (const until = Date.now() + 20_000; state !== 'failed' && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        state = await (await queue.getJob(jobId))!.getState();
      }
      const job = (await queue.getJob(jobId))!;
      expect(state).toBe('failed');
      expect(job.failedReason).toContain('sets providers.command.template, which only a worker\'s own environment may set');
      expect(job.attemptsMade).toBe(1);
      expect(worker.stats.cells).toBe(0);
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
    }
    await expect(
      runScenarioOnQueue({ scenario: { ...scenario, providers: { command: { template: 'python train.py {train}' } } }, file, catalog: projectCatalog, queue: url, log: captureLog() }),
    ).rejects.toThrow('providers.command.template: with --queue, a command to run is set on each worker (VTUNE_COMMAND_TEMPLATE in its environment)');
  });

  it("a hosted provider's concurrency holds across the whole pool (BullMQ global concurrency), not per worker", async () => {
    // FAKE pipeline (test/runner/fake-catalog.ts): provider 'fake' stands for a hosted one; cells take 150 ms.
    const raw = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'runner', 'fixtures', 'fake-fast.json'), 'utf8'));
    raw.attacks = ['return-base']; // trains nothing, so every cell takes the delay (no cache hit)
    let active = 0;
    let maxActive = 0;
    const counting: Catalog = {
      ...fakeCatalog,
      runCell: async (spec, deps) => {
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          return await fakeCatalog.runCell(spec, deps);
        } finally {
          active--;
        }
      },
    };
    process.env.FAKE_CELL_DELAY_MS = '150';
    const maxWith = async (limit: number, db: number): Promise<number> => {
      const url = `${redisBase()}/${db}`;
      const flush = new Redis(url);
      await flush.flushdb();
      flush.disconnect();
      const scenario = validateScenario({ ...raw, concurrency: { fake: limit } }, fakeCatalog, 'fixture');
      const address = parseQueueUrl(url);
      // Two workers, each willing to run 3 jobs at once.
      const workers = await Promise.all([0, 1].map(() => startWorker({ address, catalog: counting, log: captureLog(), concurrency: 3, lockMs: 2000 })));
      maxActive = 0;
      try {
        const summary = await runScenarioOnQueue({ scenario, file: 'fixture', catalog: counting, resultsRoot: mkdtempSync(join(tmpdir(), 'vtune-pool-')), queue: url, log: captureLog() });
        expect(summary.succeeded).toBe(6);
      } finally {
        await Promise.all(workers.map((w) => w.close()));
      }
      return maxActive;
    };
    try {
      expect(await maxWith(1, 10)).toBe(1);
      // The same pool without the limit does run jobs side by side: the limit above is what held them to one.
      expect(await maxWith(6, 11)).toBeGreaterThan(1);
    } finally {
      delete process.env.FAKE_CELL_DELAY_MS;
    }
  });

  it('a job left waiting by a coordinator at another commit is replaced when the run is started again, so it completes', async () => {
    const url = `${redisBase()}/12`;
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    await connection.flushdb();
    const { scenario, file } = await loadScenario('fast', projectCatalog);
    const cells = expandCells(scenario, projectCatalog.cellKey);
    const [groupKey, groupCells] = [...trainingGroups(cells).entries()][0]!;
    const runId = defaultRunId(scenario);
    const queue = new Queue<GroupJob>(workQueueName('test-memorizer'), { connection, prefix: QUEUE_PREFIX });
    const old = { gitSha: '0'.repeat(40), packageVersions: packageVersions() };
    await queue.add(groupKey, { v: PROTOCOL_VERSION, runId, scenario: 'fast', code: old, provider: 'test-memorizer', providers: {}, cells: groupCells, enqueuedAt: Date.now() }, { jobId: groupJobId(runId, groupKey) });
    const results = mkdtempSync(join(tmpdir(), 'vtune-queue-stale-'));
    process.env.VTUNE_CACHE = join(results, 'cache');
    const log = captureLog();
    const worker = await startWorker({ address: parseQueueUrl(url), catalog: projectCatalog, log, lockMs: 2000 });
    try {
      // Without the replacement the worker refuses the old job forever and the run never ends.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      const summary = await runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: results, queue: url, log, signal: controller.signal });
      clearTimeout(timer);
      expect(summary.interrupted).toBe(false);
      expect(summary.succeeded).toBe(21);
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
    }
  });

  it('a worker that cannot open the provider (its key missing there) fails the attempt, not the cells; retries are bounded', async () => {
    // FAKE pipeline; the worker's catalog stands for a machine without the provider's API key.
    const url = `${redisBase()}/13`;
    const flush = new Redis(url);
    await flush.flushdb();
    flush.disconnect();
    const raw = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'runner', 'fixtures', 'fake-fast.json'), 'utf8'));
    const scenario = validateScenario({ ...raw, attacks: ['honest'], seeds: [1], defenses: raw.defenses.slice(0, 1) }, fakeCatalog, 'fixture');
    let opens = 0;
    const keyless: Catalog = {
      ...fakeCatalog,
      openProvider: async () => {
        opens++;
        throw new ConfigError('FAKE_API_KEY is not set on this machine');
      },
    };
    const worker = await startWorker({ address: parseQueueUrl(url), catalog: keyless, log: captureLog(), lockMs: 2000 });
    try {
      const summary = await runScenarioOnQueue({ scenario, file: 'fixture', catalog: fakeCatalog, resultsRoot: mkdtempSync(join(tmpdir(), 'vtune-keyless-')), queue: url, log: captureLog(), attempts: 2, pollMs: 200 });
      expect(summary.failed).toBe(1);
      const failure = readRecordsFile(summary.recordsPath).records.find((r): r is FailureRecord => r.kind === 'failure')!;
      expect(failure.stage).toBe('queue');
      expect(failure.message).toContain('failed after 2 attempt(s) and 0 lost worker(s): FAKE_API_KEY is not set on this machine');
      expect(opens).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it('a job lost with its worker more often than allowed becomes one failure record per unrecorded cell, naming it', async () => {
    const url = `${redisBase()}/7`;
    const flush = new Redis(url);
    await flush.flushdb();
    flush.disconnect();
    const address = parseQueueUrl(url);
    const { scenario, file } = await loadScenario('fast', projectCatalog);
    const results = mkdtempSync(join(tmpdir(), 'vtune-queue-fail-'));
    process.env.VTUNE_CACHE = join(results, 'cache');
    // The first worker sends two results, then holds its job; it is then closed by force, as if its machine
    // died: no more lock renewals. maxStalls 0: the first loss fails the job.
    const lost = await startWorker({ address, catalog: projectCatalog, log: captureLog(), lockMs: 1000, maxStalls: 0, holdAfterCells: 2 });
    const log = captureLog();
    const run = runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: results, queue: url, log, pollMs: 200 });
    for (const until = Date.now() + 20_000; lost.stats.cells < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    expect(lost.stats.cells).toBe(2);
    await lost.forceClose();
    const survivor = await startWorker({ address, catalog: projectCatalog, log: captureLog(), lockMs: 1000, maxStalls: 0 });
    try {
      const summary = await run;
      expect(summary.succeeded).toBe(21 - 5);
      expect(summary.failed).toBe(5);
      const records = readRecordsFile(summary.recordsPath).records;
      const failures = records.filter((r): r is FailureRecord => r.kind === 'failure');
      const trials = records.filter((r): r is TrialRecord => r.kind === 'trial');
      expect(failures).toHaveLength(5);
      expect(new Set([...failures, ...trials].map((r) => r.cellKey)).size).toBe(21);
      for (const f of failures) {
        expect(f.stage).toBe('queue');
        expect(f.errorCode).toBe('queue');
        expect(f.message).toContain(`cell ${f.cell.labels.attack} / ${f.cell.labels.defense} / seed ${f.cell.seed} (${f.cellKey}) not run`);
        expect(f.message).toMatch(/1 lost worker\(s\): job stalled more than allowable limit/);
      }
    } finally {
      await survivor.close();
    }
  });

  it('a queue URL with a password: never printed, recorded or put in a job; a wrong one fails without echoing it; progress flows back', async () => {
    const admin = new Redis(`${redisBase()}/8`);
    await admin.flushdb();
    const password = 'pa55-Very-Secret-9';
    await admin.call('ACL', 'SETUSER', 'vtb-test', 'on', `>${password}`, '~*', '&*', '+@all');
    const url = `${redisBase().replace('redis://', 'redis://vtb-test:' + password + '@')}/8`;
    const { scenario, file } = await loadScenario('fast', projectCatalog);
    const results = mkdtempSync(join(tmpdir(), 'vtune-queue-pw-'));
    process.env.VTUNE_CACHE = join(results, 'cache');
    const log = captureLog();
    const address = parseQueueUrl(url);
    expect(address.shown).not.toContain(password);
    expect(address.shown).toContain('vtb-test:***@');
    const monitor = new Redis(`${redisBase()}/8`);
    const jobsSeen = new Queue<GroupJob>(workQueueName('test-memorizer'), { connection: monitor, prefix: QUEUE_PREFIX });
    // The coordinator enqueues first; the jobs are read before any worker exists to take them.
    const seen = { start: 0, total: 0, progress: 0, finishedOk: 0 };
    const progress = {
      start: (i: { total: number }) => ((seen.start += 1), (seen.total = i.total)),
      cellProgress: () => void (seen.progress += 1),
      cellFinished: (_c: unknown, r: { ok: boolean }) => void (seen.finishedOk += r.ok ? 1 : 0),
      stop: () => undefined,
    };
    const run = runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: results, queue: url, log, progress });
    let waiting: Awaited<ReturnType<typeof jobsSeen.getJobs>> = [];
    for (const until = Date.now() + 20_000; waiting.length < 3 && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      waiting = await jobsSeen.getJobs(['waiting']);
    }
    expect(waiting).toHaveLength(3);
    const payloads = waiting.map((j) => JSON.stringify(j.data));
    const worker = await startWorker({ address, catalog: projectCatalog, log, lockMs: 2000 });
    try {
      const summary = await run;
      expect(summary.succeeded).toBe(21);
      // The same progress display as a local run: stages arrive from the workers through BullMQ job progress.
      expect(seen).toMatchObject({ start: 1, total: 21, finishedOk: 21 });
      expect(seen.progress).toBeGreaterThan(0);
      const recordsText = readFileSync(summary.recordsPath, 'utf8');
      expect(recordsText).not.toContain(password);
      expect(log.lines.join('\n')).not.toContain(password);
      expect(log.lines.join('\n')).toContain('redis://vtb-test:***@');
      for (const p of payloads) expect(p).not.toContain(password);
      await expect(
        runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: join(results, 'wrong'), queue: url.replace(password, 'wrong-Password-77'), log }),
      ).rejects.toThrow(/--queue redis:\/\/vtb-test:\*\*\*@127\.0\.0\.1:\d+\/8: cannot reach Redis: WRONGPASS/);
    } finally {
      await worker.close();
      await jobsSeen.close();
      monitor.disconnect();
      admin.disconnect();
    }
  });
});

describe('parseQueueUrl', () => {
  it('accepts redis:// and rediss:// (TLS), with a database number', () => {
    expect(parseQueueUrl('redis://10.0.0.5:6380/3')).toMatchObject({ tls: false, host: '10.0.0.5', port: 6380, db: 3, shown: 'redis://10.0.0.5:6380/3' });
    expect(parseQueueUrl('rediss://queue.lab.example')).toMatchObject({ tls: true, host: 'queue.lab.example', port: 6379, db: 0 });
  });
  it('takes the password from VTUNE_QUEUE_PASSWORD when the URL has none, and never shows it', () => {
    const a = parseQueueUrl('redis://redis.internal:6379/0', '--queue', { VTUNE_QUEUE_PASSWORD: 'env-Secret-123' });
    expect(a.password).toBe('env-Secret-123');
    expect(a.shown).toBe('redis://redis.internal:6379/0');
    expect(parseQueueUrl('redis://u:inline-Secret-4@h/0', '--queue', { VTUNE_QUEUE_PASSWORD: 'other' }).password).toBe('inline-Secret-4');
  });
  it('rejects other schemes, hosts-less URLs and non-numeric databases, naming --queue and never the password', () => {
    expect(() => parseQueueUrl('http://u:hunter2-secret@h:1')).toThrow("--queue: expected a redis:// or rediss:// URL, got 'http://u:***@h:1'");
    expect(() => parseQueueUrl('redis://u:hunter2-secret@h:1/zero')).toThrow("--queue: the database in 'redis://u:***@h:1/zero' must be a number");
    expect(() => parseQueueUrl('not a url')).toThrow('--queue: expected redis://host:port[/db]');
  });
});
