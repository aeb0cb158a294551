/**
 * Test helper: a real `redis-server` (Debian's, installed by .ci/run) on 127.0.0.1 and a free port, with an
 * append-only file so that a restart keeps the queue, as a production Redis for BullMQ must. `redisUnavailable`
 * says why the queue tests skip when there is no redis-server binary.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/**
 * Why Redis tests cannot run here, or undefined when they can. `ownServer`: the test starts (and restarts) its
 * own redis-server, so VTUNE_TEST_REDIS_URL is not enough.
 */
export function redisUnavailable(ownServer = false): string | undefined {
  if (process.env.VTUNE_TEST_REDIS_URL && !ownServer) return undefined;
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server; .ci/run does it) and VTUNE_TEST_REDIS_URL is not set';
}

/** A redis-server process owned by a test. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it (SHUTDOWN saves the append-only file) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

/** Starts a private redis-server (bound to 127.0.0.1, append-only persistence in a temp folder). */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vtune-redis-'));
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'], { stdio: 'ignore' });
    await waitForPing(port);
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((res) => c.once('exit', res));
    c.kill('SIGTERM');
    await exited;
  };
  await launch();
  return { url: `redis://127.0.0.1:${port}`, port, restart: async () => (await halt(), await launch()), stop: halt };
}

/**
 * Registers the suite's Redis: VTUNE_TEST_REDIS_URL's server (without its db number) when set, else a private
 * redis-server started before the suite and stopped after it. Returns the base URL (append `/<db>`), read inside tests.
 */
export function useRedisBase(): () => string {
  let own: TestRedis | undefined;
  let base: string | undefined;
  beforeAll(async () => {
    if (process.env.VTUNE_TEST_REDIS_URL) base = process.env.VTUNE_TEST_REDIS_URL.replace(/\/\d+$/, '');
    else {
      own = await startRedis();
      base = own.url;
    }
  });
  afterAll(async () => {
    await own?.stop();
  });
  return () => {
    if (base === undefined) throw new Error('useRedisBase: the Redis URL is read before the suite started');
    return base;
  };
}

