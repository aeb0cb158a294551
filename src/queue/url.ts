/**
 * The `--queue` URL: `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). Parsed and validated once
 * here; the password is registered as a secret (so no message ever shows it) and `shownUrl` is the only form
 * that is printed. Connections reconnect forever (a restarted Redis is waited for, not fatal), as BullMQ
 * workers require (`maxRetriesPerRequest: null`).
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, describeError, registerSecret } from '../errors.js';

/** A validated queue address. */
export interface QueueAddress {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** The URL with any password replaced by `***`: the only form ever printed or recorded. */
  readonly shown: string;
}

/**
 * Parses `--queue`. Throws ConfigError naming the option and what was expected (never echoing a password).
 * A URL without a password takes `VTUNE_QUEUE_PASSWORD` from the environment when set, so the password need
 * not appear on a command line (where `ps` would show it).
 */
export function parseQueueUrl(text: string, option = '--queue', env: NodeJS.ProcessEnv = process.env): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The raw text may hold a password: show only its scheme-less shape.
    throw new ConfigError(`${option}: expected redis://host:port[/db] or rediss://host:port[/db], got something that is not a URL`);
  }
  const shown = shownUrl(url);
  const password = url.password ? decodeURIComponent(url.password) : env.VTUNE_QUEUE_PASSWORD || undefined;
  registerSecret(password);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`${option}: expected a redis:// or rediss:// URL, got '${shown}'`);
  }
  if (!url.hostname) throw new ConfigError(`${option}: the URL '${shown}' names no host; expected redis://host:port[/db]`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) {
    throw new ConfigError(`${option}: the database in '${shown}' must be a number (e.g. redis://host:6379/2), got '${dbText}'`);
  }
  if (url.search || url.hash) throw new ConfigError(`${option}: '${shown}' has a query or fragment; expected redis://host:port[/db]`);
  return {
    tls: url.protocol === 'rediss:',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: dbText === '' ? 0 : Number(dbText),
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(password && { password }),
    shown,
  };
}

function shownUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href.replace(/\/$/, '');
}

/**
 * ioredis options for an address. `rediss://` verifies the server's certificate against Node's CAs, plus the
 * PEM file named by `VTUNE_QUEUE_TLS_CA` when set (a private CA).
 */
export function redisOptions(addr: QueueAddress, env: NodeJS.ProcessEnv = process.env): RedisOptions {
  let ca: Buffer | undefined;
  if (addr.tls && env.VTUNE_QUEUE_TLS_CA) {
    try {
      ca = readFileSync(env.VTUNE_QUEUE_TLS_CA);
    } catch (err) {
      throw new ConfigError(`VTUNE_QUEUE_TLS_CA: cannot read the CA file '${env.VTUNE_QUEUE_TLS_CA}': ${describeError(err)}`, { cause: err });
    }
  }
  return {
    host: addr.host,
    port: addr.port,
    db: addr.db,
    ...(addr.username && { username: addr.username }),
    ...(addr.password && { password: addr.password }),
    ...(addr.tls && { tls: { servername: addr.host, ...(ca && { ca }) } }),
    // BullMQ's blocking commands must wait through a Redis restart instead of failing after 20 retries.
    maxRetriesPerRequest: null,
    // Reconnect with a capped back-off, forever: a restarted Redis is waited for.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
}

/** Opens a connection and checks Redis answers within `timeoutMs`, else a ConfigError naming the shown URL. */
export async function connect(addr: QueueAddress, timeoutMs = 10_000): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(addr), lazyConnect: true });
  // Errors during reconnection are expected (a restarting Redis); ioredis would print them unhandled. The last
  // one says why a first connection failed (WRONGPASS, ECONNREFUSED) better than "Connection is closed".
  let lastError: unknown;
  redis.on('error', (err) => (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = lastError ?? err;
    throw new ConfigError(`--queue ${addr.shown}: cannot reach Redis: ${describeError(why)}`, { cause: why });
  } finally {
    clearTimeout(timer);
  }
}
