/**
 * The `fast` scenario (the test-memorizer TEST DOUBLE: seconds, not a language model) through the queue with
 * real processes: a coordinator (`run fast --queue`) and three `worker`s, against a real redis-server. Each
 * fault is made to land in the middle of a job deterministically: the first worker runs with the test-only
 * VTUNE_QUEUE_TEST_HOLD_AFTER_CELLS=2, so it sends two cell results and then holds its job (lock still renewed)
 * until the test kills it. In every case each cell is recorded exactly once and the report tables equal a
 * single-process `run fast` byte for byte (the tables hold no timings).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportTables } from '../report/helpers.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { findRecordsFiles, readRecordsFile } from '../../src/records/store.js';
import { repoRoot } from '../../src/shared-path.js';
import { redisUnavailable, startRedis, type TestRedis } from './redis-server.js';

const CELLS = 21; // fast: 7 attacks × 3 seeds, in 3 training groups of 7
const skip = redisUnavailable(true);

/** A CLI process with its output collected and a way to wait for a line. */
class Cli {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`never printed ${re}; output:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

const lines = (p: string): number => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).length : 0);

async function recordsPathOnce(dir: string, minLines: number): Promise<string> {
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const found = existsSync(dir) ? findRecordsFiles(dir) : [];
    if (found.length && lines(found[0]!) >= minLines) return found[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no records file with ${minLines} lines under ${dir}`);
}

function expectEachCellOnce(recordsPath: string): void {
  const records = readRecordsFile(recordsPath).records;
  expect(records[0]!.kind).toBe('manifest');
  expect(records.filter((r) => r.kind === 'manifest')).toHaveLength(1);
  expect(records.filter((r) => r.kind === 'failure')).toEqual([]);
  const trials = records.filter((r): r is TrialRecord => r.kind === 'trial');
  expect(trials).toHaveLength(CELLS);
  expect(new Set(trials.map((t) => t.cellKey)).size).toBe(CELLS);
}

describe.skipIf(skip)(`fast through the queue, with faults${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let root: string;
  let baseline: string;
  let redis: TestRedis;
  const procs: Cli[] = [];
  const cli = (args: string[], env: Record<string, string> = {}): Cli => {
    const c = new Cli(args, env);
    procs.push(c);
    return c;
  };
  const worker = (url: string, cache: string, hold?: number): Cli =>
    cli(['worker', '--queue', url, '--lock-ms', '2000'], { VTUNE_CACHE: cache, ...(hold !== undefined && { VTUNE_QUEUE_TEST_HOLD_AFTER_CELLS: String(hold) }) });
  const coordinator = (url: string, results: string): Cli => cli(['run', 'fast', '--queue', url, '--results', results, '--no-report']);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vtune-queue-'));
    redis = await startRedis();
    const single = new Cli(['run', 'fast', '--results', join(root, 'single'), '--no-report'], { VTUNE_CACHE: join(root, 'cache-single') });
    const r = await single.exited;
    expect(r.code, single.out).toBe(0);
    baseline = reportTables([join(root, 'single')]);
  });

  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await redis?.stop();
  });

  /** A run on Redis db `db` whose first worker holds its first job after 2 cells (so a fault lands mid-job). */
  const heldRun = async (db: number) => {
    const url = `${redis.url}/${db}`;
    const cache = join(root, `cache-${db}`);
    const results = join(root, `q${db}`);
    const w1 = worker(url, cache, 2);
    await w1.waitFor(/listening/);
    const coord = coordinator(url, results);
    const [, heldJob] = await w1.waitFor(/holding job (\S+) after 2 cell/);
    return { url, cache, results, w1, coord, heldJob: heldJob! };
  };
  /** The coordinator finished with `summary`, every cell recorded once, and the single-process run's tables. */
  const expectCompleted = async (coord: Cli, results: string, summary: RegExp, recordsPath = findRecordsFiles(results)[0]!) => {
    const done = await coord.exited;
    expect(done.code, coord.out).toBe(0);
    expect(coord.out).toMatch(summary);
    expectEachCellOnce(recordsPath);
    expect(reportTables([results])).toBe(baseline);
  };
  const allCells = new RegExp(`${CELLS}/${CELLS} cells recorded`);

  it('a worker killed with SIGKILL mid-job: its job moves to another worker, each cell recorded once, same tables', async () => {
    const { url, cache, results, w1, coord, heldJob } = await heldRun(1);
    const w2 = worker(url, cache);
    const w3 = worker(url, cache);
    await w1.kill('SIGKILL');
    await expectCompleted(coord, results, allCells);
    // The held job was taken over by a surviving worker (BullMQ's stalled-job check).
    expect(w2.out + w3.out).toContain(`job ${heldJob}:`);
    await Promise.all([w2.kill('SIGTERM'), w3.kill('SIGTERM')]);
  });

  it('the coordinator killed with SIGKILL and run again: resumes from the records and the queue, no cell twice', async () => {
    const { url, cache, results, w1, coord: first } = await heldRun(2);
    const recordsPath = await recordsPathOnce(results, 3); // manifest + the held job's two cells
    await first.kill('SIGKILL');
    const before = readRecordsFile(recordsPath).records.filter((r) => r.kind === 'trial').length;
    expect(before).toBeLessThan(CELLS);
    // While no coordinator runs, other workers finish jobs; their results wait in Redis.
    const w2 = worker(url, cache);
    const w3 = worker(url, cache);
    // Either may take both free jobs (one starts listening first on a loaded machine): wait for whichever runs one.
    await Promise.any([w2, w3].map((w) => w.waitFor(/job \S+: 7 cell/)));
    const second = coordinator(url, results);
    await w1.kill('SIGKILL');
    await expectCompleted(second, results, new RegExp(`${CELLS}/${CELLS} cells recorded \\(${before} from an earlier run`), recordsPath);
    await Promise.all([w2.kill('SIGTERM'), w3.kill('SIGTERM')]);
  });

  it('Redis restarted mid-run: workers and coordinator reconnect and the run completes, no cell twice', async () => {
    const { url, cache, results, w1, coord } = await heldRun(3);
    await recordsPathOnce(results, 3);
    await redis.restart();
    const w2 = worker(url, cache);
    const w3 = worker(url, cache);
    await w1.kill('SIGKILL');
    await expectCompleted(coord, results, allCells);
    await Promise.all([w2.kill('SIGTERM'), w3.kill('SIGTERM')]);
  });
});
