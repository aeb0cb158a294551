/**
 * Secret options through the queue (src/queue/protocol.ts withheldCell/restoredCell): a keyed scenario's user
 * key never enters a job or anything else in Redis (jobs hold its fingerprint); a worker holding the key
 * records what a local run records; a worker with another key or none fails the job with a message naming the
 * option and the fingerprint it needs, never a key; the leaderboard's published key travels as written.
 * Against a real Redis (VTUNE_TEST_REDIS_URL, else a private redis-server); cells run on the test-memorizer
 * TEST DOUBLE (a deterministic word-level "model", never a result) with the real vtune defense and keyed
 * generator.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyFingerprint, PUBLISHED_BENCHMARK_KEY } from '../../defenses/vtune/generators/keyed.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { runScenarioOnQueue } from '../../src/queue/coordinator.js';
import { QUEUE_PREFIX, restoredCell, withheldCell, workQueueName, type GroupJob } from '../../src/queue/protocol.js';
import { parseQueueUrl } from '../../src/queue/url.js';
import { startWorker, type RunningWorker } from '../../src/queue/worker.js';
import type { FailureRecord, RunRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario, type Scenario } from '../../src/runner/scenario.js';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import { repoRoot } from '../../src/shared-path.js';
import type { Logger } from '../../src/types.js';
import { redisUnavailable, useRedisBase } from './redis-server.js';

const SECRET = 'q1-queue-user-secret-7d41b2';
const WRONG = 'q1-another-users-secret-0c9e55';
const skip = redisUnavailable();

function captureLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), debug: (m) => lines.push(m) };
}

/** fast's dataset and model with one keyed defense, two attacks, one seed: one training group of 2 cells. */
function keyedScenario(key: string): Scenario {
  return validateScenario(
    {
      name: 'keyed-queue',
      description: 'test-memorizer TEST DOUBLE: a keyed defense through the queue',
      seeds: 1,
      datasets: [{ spec: 'qa', size: 60, heldOut: 10 }],
      models: ['test-memorizer:base'],
      defenses: [{ options: { generator: 'keyed', generatorOptions: { key }, nullMode: 'generator', count: 6, alpha: 1e-3 } }],
      attacks: ['honest', 'train-without-backdoors'],
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      utility: { maxRows: 5 },
    },
    projectCatalog,
    'keyed-queue.json',
  );
}

/** Every value of every key in the database, as text (type by type: DUMP's encoding may compress strings). */
async function redisText(r: Redis): Promise<string> {
  const parts: string[] = [];
  for (const key of await r.keys('*')) {
    parts.push(key);
    const type = await r.type(key);
    if (type === 'string') parts.push(String(await r.get(key)));
    else if (type === 'hash') parts.push(JSON.stringify(await r.hgetall(key)));
    else if (type === 'list') parts.push(...(await r.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(...(await r.smembers(key)));
    else if (type === 'zset') parts.push(...(await r.zrange(key, 0, -1)));
    else if (type === 'stream') parts.push(JSON.stringify(await r.xrange(key, '-', '+')));
    else parts.push(`(unread type ${type})`);
  }
  return parts.join('\n');
}

/** A record without what varies between two runs of the same cell (wall-clock timings). */
function comparable(r: RunRecord): string {
  const { timingsMs: _t, durationMs: _d, ...rest } = r as RunRecord & { timingsMs?: unknown; durationMs?: unknown };
  return canonicalJson(rest);
}

async function waitingJobs(url: string, count: number): Promise<GroupJob[]> {
  const monitor = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue<GroupJob>(workQueueName('test-memorizer'), { connection: monitor, prefix: QUEUE_PREFIX });
  try {
    let waiting: Awaited<ReturnType<typeof queue.getJobs>> = [];
    for (const until = Date.now() + 30_000; waiting.length < count && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      waiting = await queue.getJobs(['waiting']);
    }
    return waiting.map((j) => j.data);
  } finally {
    await queue.close();
    monitor.disconnect();
  }
}

describe('withheldCell / restoredCell', () => {
  it('a cell without a secret travels as the same object; a keyed cell carries the fingerprint and comes back equal', () => {
    const plain = expandCells(validateScenario({ ...plainScenarioRaw(), defenses: [{ options: { generator: 'wordlist', count: 6 } }] }, projectCatalog), projectCatalog.cellKey)[0]!;
    expect(withheldCell(plain)).toBe(plain);
    const cell = expandCells(keyedScenario(SECRET), projectCatalog.cellKey)[0]!;
    const sent = withheldCell(cell);
    expect(JSON.stringify(sent)).not.toContain(SECRET);
    expect(sent.spec.defense.options.generatorOptions).toEqual({ key: { $secret: { keyFingerprint: keyFingerprint(SECRET) } } });
    expect(sent.spec.key).toBe(cell.spec.key);
    expect(sent.recorded).toBe(cell.recorded);
    expect(restoredCell(sent, [WRONG, SECRET])).toEqual(cell);
    expect(() => restoredCell(sent, [WRONG])).toThrow(
      `defense 'vtune' option generatorOptions.key is a secret the coordinator does not send: it needs the key with keyFingerprint=${keyFingerprint(SECRET)} and this worker holds only keyFingerprint=${keyFingerprint(WRONG)}`,
    );
  });
});

function plainScenarioRaw(): Record<string, unknown> {
  return { name: 'plain', seeds: 1, datasets: [{ spec: 'qa', size: 60, heldOut: 10 }], models: ['test-memorizer:base'], attacks: ['honest'], hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 } };
}

describe.skipIf(skip)(`secret options through the queue against Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const redisBase = useRedisBase();

  const fresh = async (db: number): Promise<{ url: string; admin: Redis }> => {
    const url = `${redisBase()}/${db}`;
    const admin = new Redis(url, { maxRetriesPerRequest: null });
    await admin.flushdb();
    return { url, admin };
  };

  it('jobs in Redis hold the key\'s fingerprint, never the key; a worker holding it records what a local run records', async () => {
    const { url, admin } = await fresh(2);
    const scenario = keyedScenario(SECRET);
    const root = mkdtempSync(join(tmpdir(), 'vtune-queue-keyed-'));
    process.env.VTUNE_CACHE = join(root, 'queue-cache');
    const log = captureLog();
    const run = runScenarioOnQueue({ scenario, file: 'keyed-queue.json', catalog: projectCatalog, resultsRoot: join(root, 'queue'), queue: url, log });
    // Read before any worker exists to take them.
    const jobs = await waitingJobs(url, 1);
    expect(jobs).toHaveLength(1);
    const payload = JSON.stringify(jobs[0]);
    expect(payload).not.toContain(SECRET);
    expect(payload).toContain(`"key":{"$secret":{"keyFingerprint":"${keyFingerprint(SECRET)}"}}`);
    expect(await redisText(admin)).not.toContain(SECRET);
    const workerLog = captureLog();
    const worker = await startWorker({ address: parseQueueUrl(url), catalog: projectCatalog, log: workerLog, lockMs: 2000, secrets: [WRONG, SECRET] });
    let summary;
    try {
      summary = await run;
    } finally {
      await worker.close();
    }
    expect(summary.succeeded).toBe(2);
    const queued = readRecordsFile(summary.recordsPath);
    expect(readFileSync(summary.recordsPath, 'utf8')).not.toContain(SECRET);
    expect([...log.lines, ...workerLog.lines].join('\n')).not.toContain(SECRET);
    expect(await redisText(admin)).not.toContain(SECRET);
    admin.disconnect();

    const local = await runScenario({ scenario, file: 'keyed-queue.json', catalog: projectCatalog, resultsRoot: join(root, 'local'), trainCache: new DiskTrainCache(join(root, 'local-cache')), log: captureLog() });
    const localRecords = readRecordsFile(local.recordsPath);
    const byKey = (rs: readonly RunRecord[]) => rs.filter((r) => r.kind !== 'manifest').map(comparable).sort();
    expect(byKey(queued.records)).toEqual(byKey(localRecords.records));
    // Cell keys hash the options as written, as in a local run.
    const keys = expandCells(scenario, projectCatalog.cellKey).map((c) => c.spec.key).sort();
    expect(queued.records.filter((r) => r.kind === 'trial').map((r) => (r as { cellKey: string }).cellKey).sort()).toEqual(keys);
  }, 120_000);

  const failedWith = async (db: number, secrets: readonly string[]): Promise<{ failures: FailureRecord[]; text: string; redis: string }> => {
    const { url, admin } = await fresh(db);
    const root = mkdtempSync(join(tmpdir(), 'vtune-queue-keyless-'));
    process.env.VTUNE_CACHE = join(root, 'cache');
    const log = captureLog();
    const worker = await startWorker({ address: parseQueueUrl(url), catalog: projectCatalog, log, lockMs: 2000, secrets });
    try {
      const summary = await runScenarioOnQueue({ scenario: keyedScenario(SECRET), file: 'keyed-queue.json', catalog: projectCatalog, resultsRoot: root, queue: url, log, attempts: 2, pollMs: 200 });
      expect(summary.failed).toBe(2);
      expect(worker.stats.cells).toBe(0);
      const text = `${readFileSync(summary.recordsPath, 'utf8')}\n${log.lines.join('\n')}`;
      const failures = readRecordsFile(summary.recordsPath).records.filter((r): r is FailureRecord => r.kind === 'failure');
      return { failures, text, redis: await redisText(admin) };
    } finally {
      await worker.close();
      admin.disconnect();
    }
  };

  it('a worker holding another key fails the job: each cell a failure naming the option and the fingerprint, never a key', async () => {
    const { failures, text, redis } = await failedWith(3, [WRONG]);
    expect(failures).toHaveLength(2);
    for (const f of failures) {
      expect(f.stage).toBe('queue');
      expect(f.message).toContain(
        `failed after 2 attempt(s) and 0 lost worker(s): defense 'vtune' option generatorOptions.key is a secret the coordinator does not send: it needs the key with keyFingerprint=${keyFingerprint(SECRET)} and this worker holds only keyFingerprint=${keyFingerprint(WRONG)}; start the worker with that key (--key-file, or $VTUNE_KEY)`,
      );
    }
    for (const key of [SECRET, WRONG]) {
      expect(text).not.toContain(key);
      expect(redis).not.toContain(key);
    }
  }, 120_000);

  it('a worker holding no key fails the job the same way, saying it holds none', async () => {
    const { failures, text, redis } = await failedWith(4, []);
    expect(failures).toHaveLength(2);
    for (const f of failures) expect(f.message).toContain(`it needs the key with keyFingerprint=${keyFingerprint(SECRET)} and this worker holds no key; start the worker with that key`);
    expect(text).not.toContain(SECRET);
    expect(redis).not.toContain(SECRET);
  }, 120_000);

  it('the published benchmark key is public: it travels as written and a worker without any key runs its cells', async () => {
    const { url, admin } = await fresh(5);
    const scenario = keyedScenario(PUBLISHED_BENCHMARK_KEY);
    const root = mkdtempSync(join(tmpdir(), 'vtune-queue-published-'));
    process.env.VTUNE_CACHE = join(root, 'cache');
    const run = runScenarioOnQueue({ scenario, file: 'keyed-queue.json', catalog: projectCatalog, resultsRoot: root, queue: url, log: captureLog() });
    const jobs = await waitingJobs(url, 1);
    expect(jobs[0]!.cells[0]!.spec.defense.options.generatorOptions).toEqual({ key: PUBLISHED_BENCHMARK_KEY });
    expect(JSON.stringify(jobs)).not.toContain('$secret');
    const worker: RunningWorker = await startWorker({ address: parseQueueUrl(url), catalog: projectCatalog, log: captureLog(), lockMs: 2000 });
    try {
      const summary = await run;
      expect(summary.succeeded).toBe(2);
    } finally {
      await worker.close();
      admin.disconnect();
    }
  }, 120_000);

  it('`vtune-bench worker --key-file F` holds the key in F and runs the keyed cells; an empty key file is refused, naming it', async () => {
    const { url, admin } = await fresh(15);
    const root = mkdtempSync(join(tmpdir(), 'vtune-queue-keyfile-'));
    const keyFile = join(root, 'user.key');
    writeFileSync(keyFile, `${SECRET}\n`, { mode: 0o600 });
    const empty = join(root, 'empty.key');
    writeFileSync(empty, '\n');
    const cli = (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--queue', url, '--lock-ms', '2000', ...args], {
        cwd: repoRoot,
        env: { ...process.env, VTUNE_CACHE: join(root, 'cache'), VTUNE_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, out: () => out };
    };
    const refused = cli(['--key-file', empty]);
    expect(await refused.exited).not.toBe(0);
    expect(refused.out()).toContain(`${empty}: the key file is empty (expected one key)`);

    const worker = cli(['--key-file', keyFile]);
    try {
      for (const until = Date.now() + 60_000; !worker.out().includes('listening') && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      expect(worker.out()).toContain('holding 1 key(s)');
      const summary = await runScenarioOnQueue({ scenario: keyedScenario(SECRET), file: 'keyed-queue.json', catalog: projectCatalog, resultsRoot: root, queue: url, log: captureLog() });
      expect(summary.succeeded).toBe(2);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      admin.disconnect();
    }
    expect(worker.out()).not.toContain(SECRET);
  }, 120_000);
});
