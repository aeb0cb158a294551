/**
 * One run per run folder at a time. Two processes appending to one records file each run the cells the other
 * is running (measured before this lock: 38 trial records for 21 cells), so a run takes `run.lock` in its
 * folder with O_EXCL before it reads anything. The lock holds the owner's pid and host; a second run fails at
 * once naming the folder and that process. A crash (kill -9, power loss) cannot strand the folder: a lock
 * whose pid is no longer alive on this host is taken over, with a message. Takeovers are serialised by a
 * second O_EXCL file, so two runs that find the same stale lock cannot both win.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../types.js';

/** The lock file's name inside a run folder. */
export const LOCK_FILE = 'run.lock';

/** What a lock file holds. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/** A held lock; `release` is idempotent. */
export interface RunLock {
  readonly path: string;
  release(): void;
}

/** A takeover guard older than this was left by a process that died mid-takeover (a takeover takes microseconds). */
const STALE_GUARD_MS = 10_000;

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Whether process `pid` exists on this machine (EPERM: it exists but belongs to another user). */
function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { text: string; owner?: LockOwner } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { text, owner: { pid: v.pid, host: v.host, startedAt: String(v.startedAt) } };
  } catch {
    // empty or torn: the owner died between creating and writing it (the write is one small syscall)
  }
  return { text };
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock of run folder `dir` (created if missing). Throws a ConfigError naming the folder and the
 * owner when another live process holds it; takes over (and says so on `log.warn`) a lock left by a dead one.
 */
export function lockRunFolder(dir: string, log: Pick<Logger, 'warn'>): RunLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const guard = `${path}.takeover`;
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const content = `${JSON.stringify(me)}\n`;

  for (let attempt = 0; ; attempt++) {
    if (createExclusive(path, content)) return held(path, content);
    const found = readOwner(path);
    if (!found) continue; // released between our open and our read: try again
    const { owner } = found;
    if (owner && owner.host !== me.host) {
      throw new ConfigError(
        `run folder ${dir} is locked by process ${owner.pid} on host ${owner.host} (since ${owner.startedAt}); this host cannot tell whether it still runs. If it does not, delete ${path}`,
      );
    }
    if (owner && pidAlive(owner.pid)) {
      throw new ConfigError(
        `run folder ${dir} is in use by another run: process ${owner.pid} (since ${owner.startedAt}). Wait for it to finish, or give this run another --results folder or --run-id`,
      );
    }
    if (!owner && attempt < 5) {
      sleepSync(20); // give a process that just created the file the time to write its pid
      continue;
    }
    // Stale: take it over under the guard, and only if it is still the stale lock we read.
    if (!createExclusive(guard, content)) {
      const age = Date.now() - (statSafe(guard) ?? Date.now());
      if (age > STALE_GUARD_MS) unlinkSafe(guard);
      else sleepSync(20);
      if (attempt > 500) throw new ConfigError(`run folder ${dir}: cannot take over its stale lock (${guard} stays in place); delete it`);
      continue;
    }
    try {
      const again = readOwner(path);
      if (again && again.text === found.text) {
        unlinkSafe(path);
        if (createExclusive(path, content)) {
          log.warn(
            owner
              ? `run folder ${dir}: took over the lock of process ${owner.pid} (since ${owner.startedAt}), which is no longer running`
              : `run folder ${dir}: took over an empty lock file left by a process that died while taking it`,
          );
          return held(path, content);
        }
      }
    } finally {
      unlinkSafe(guard);
    }
  }
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * The live process holding run folder `dir`'s lock, if any (a stale lock counts as free). For readers that
 * must not take a half-written run for a finished one, such as `merge`.
 */
export function liveLockOwner(dir: string): LockOwner | undefined {
  const owner = readOwner(join(dir, LOCK_FILE))?.owner;
  return owner && (owner.host !== hostname() || pidAlive(owner.pid)) ? owner : undefined;
}

/** A held lock: released explicitly, or when the process exits (process.exit skips `finally` blocks). */
function held(path: string, content: string): RunLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Remove it only while it is still ours (never another process's lock that took over a folder we left).
    const now = readOwner(path);
    if (now?.text === content) unlinkSafe(path);
  };
  process.on('exit', release);
  return { path, release };
}
