/**
 * The work queue's cost and payoff (issue #18), on one machine: a private redis-server (or --queue URL), the
 * coordinator in this process, workers as `vtune-bench worker` processes. Two layouts run the same scenario
 * from a cold training cache:
 *   A. 2 worker processes × 1 engine thread each (concurrency 1)
 *   B. 1 worker process × 2 engine threads (concurrency 1)
 * and for each it prints JSON lines: the wall time, cells per minute, fine-tunes trained and reused, and the
 * queue overhead per cell: for each training-group job, (last record on disk − the moment the job could have
 * started: max(enqueued, its worker slot free)) − the cells' own runCell time, summed over jobs and divided by
 * the cells. That is enqueue → result recorded minus the work, with the wait for a busy worker taken out.
 * Timestamps of worker and coordinator share one clock (one machine). Long on `default`: not a test.
 *
 *   npm run bench:queue -- [--scenario default] [--layouts A,B] [--queue redis://127.0.0.1:6379/9]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runScenarioOnQueue, type RecordedInfo } from '../src/queue/coordinator.js';
import { projectCatalog } from '../src/runner/catalog.js';
import { loadScenario } from '../src/runner/scenario.js';
import { repoRoot } from '../src/shared-path.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const scenarioName = opt('scenario', 'default');
const layouts = opt('layouts', 'A,B').split(',');
const LAYOUTS: Record<string, { processes: number; threads: number }> = { A: { processes: 2, threads: 1 }, B: { processes: 1, threads: 2 } };
const log = { info: () => {}, warn: (m: string) => process.stderr.write(`warning: ${m}\n`), debug: () => {} };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function ownRedis(): Promise<{ url: string; stop: () => void }> {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server) and no --queue was given');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vtune-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
    r.disconnect();
    if (ok) return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
    await new Promise((res) => setTimeout(res, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** Starts the workers and resolves once each listens, so process start-up stays out of the wall time. */
async function startWorkers(url: string, n: number, threads: number, cache: string): Promise<ChildProcess[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--queue', url, '--threads', String(threads), '--concurrency', '1'], {
      cwd: repoRoot,
      env: { ...process.env, VTUNE_CACHE: cache },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          let err = '';
          c.stderr!.on('data', (d: Buffer) => {
            err += d;
            if (err.includes('listening on')) resolve();
          });
          c.on('exit', (code) => reject(new Error(`a worker exited (${code}) before listening:\n${err}`)));
        }),
    ),
  );
  return children;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

const own = opt('queue', '') === '' ? await ownRedis() : undefined;
const base = (own?.url ?? opt('queue', '')).replace(/\/\d+$/, '');
try {
  const { scenario, file } = await loadScenario(scenarioName, projectCatalog);
  for (const [i, name] of layouts.entries()) {
    const layout = LAYOUTS[name];
    if (!layout) throw new Error(`--layouts: unknown layout '${name}' (A or B)`);
    const url = `${base}/${10 + i}`;
    const flush = new Redis(url);
    await flush.flushdb();
    flush.disconnect();
    const root = mkdtempSync(join(tmpdir(), `vtune-bench-queue-${name}-`));
    const workers = await startWorkers(url, layout.processes, layout.threads, join(root, 'cache'));
    const recorded: RecordedInfo[] = [];
    const fineTunes = { trained: 0, reused: 0 };
    const t0 = Date.now();
    try {
      const summary = await runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: join(root, 'results'), queue: url, log, fineTunes, onRecorded: (r) => recorded.push(r) });
      const wallMs = Date.now() - t0;
      // Per job: from the moment it could start to its last record, minus the work.
      const jobs = new Map<string, RecordedInfo[]>();
      for (const r of recorded) if (r.timing) jobs.set(r.jobId, [...(jobs.get(r.jobId) ?? []), r]);
      let overheadMs = 0;
      let cells = 0;
      const perJob: number[] = [];
      for (const rs of jobs.values()) {
        const t = rs[0]!.timing!;
        const ready = Math.max(rs[0]!.enqueuedAt, t.idleSince);
        const span = Math.max(...rs.map((r) => r.recordedAt)) - ready;
        const work = rs.reduce((a, r) => a + r.timing!.workMs, 0);
        overheadMs += span - work;
        cells += rs.length;
        perJob.push((span - work) / rs.length);
      }
      const transport = recorded.filter((r) => r.timing).map((r) => r.recordedAt - r.timing!.cellEndedAt);
      console.log(
        JSON.stringify({
          kind: 'layout',
          scenario: scenario.name,
          layout: name,
          ...layout,
          cells: summary.total,
          failed: summary.failed,
          wallMs,
          cellsPerMinute: Number(((summary.succeeded + summary.failed) / (wallMs / 60_000)).toFixed(2)),
          fineTunesTrained: fineTunes.trained,
          fineTunesReused: fineTunes.reused,
          jobs: jobs.size,
          overheadMsPerCell: Number((overheadMs / cells).toFixed(1)),
          overheadMsPerCellMedianJob: Number(median(perJob).toFixed(1)),
          resultToRecordMsMedian: median(transport),
        }),
      );
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
  }
} finally {
  own?.stop();
}
