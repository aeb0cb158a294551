/**
 * Run folders are locked (issue 14 item 10): one run per folder, a second one fails at once naming the folder
 * and the process holding it, and a lock left by a dead process is taken over. The last tests use real
 * processes: a lock holder and the real CLI, then two CLI runs started together into one folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { mergeCommand } from '../../src/cli/commands/merge.js';
import { RECORD_SCHEMA_VERSION, type ManifestRecord } from '../../src/records/schema.js';
import { findRecordsFiles, readRecordsFile, RecordWriter } from '../../src/records/store.js';
import { LOCK_FILE, lockRunFolder } from '../../src/runner/lock.js';
import { repoRoot } from '../../src/shared-path.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'vtune-lock-'));
const fixture = join(repoRoot, 'test/runner/fixtures/memorizer-kill.json');
const CELLS = 5 * 6;

function collect(): { warn: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => lines.push(m) };
}

/** A pid that existed a moment ago and no longer does. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lockRunFolder', () => {
  it('refuses a second holder, naming the folder and the holding process; released, it can be taken again', () => {
    const dir = join(tmp(), 'run');
    const first = lockRunFolder(dir, collect());
    expect(() => lockRunFolder(dir, collect())).toThrow(ConfigError);
    expect(() => lockRunFolder(dir, collect())).toThrow(`run folder ${dir} is in use by another run: process ${process.pid}`);
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = lockRunFolder(dir, collect());
    again.release();
    again.release(); // idempotent
  });

  it('takes over a lock left by a dead process, and says so', () => {
    const dir = tmp();
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
    const log = collect();
    const lock = lockRunFolder(dir, log);
    expect(log.lines).toEqual([`run folder ${dir}: took over the lock of process ${pid} (since 2026-01-01T00:00:00.000Z), which is no longer running`]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an empty lock file (its owner died between creating and writing it)', () => {
    const dir = tmp();
    writeFileSync(join(dir, LOCK_FILE), '');
    const log = collect();
    lockRunFolder(dir, log).release();
    expect(log.lines[0]).toMatch(/took over an empty lock file/);
  });

  it('refuses a lock held on another host (its pid cannot be checked from here) and says how to clear it', () => {
    const dir = tmp();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: 'x' }));
    expect(() => lockRunFolder(dir, collect())).toThrow(/locked by process 1 on host elsewhere\.example .* delete .*run\.lock/);
  });
});

describe('merge and a shard still running', () => {
  it('refuses a shard folder whose run still holds its lock, naming the folder and the process; merges it once released', async () => {
    const shard = join(tmp(), 's', 'abc-shard-1of1');
    const manifest = { kind: 'manifest', schemaVersion: RECORD_SCHEMA_VERSION, runId: 'abc-shard-1of1', scenario: { name: 's', hash: 'h', definition: {} }, seeds: [0], cellCount: 1, shard: { index: 1, count: 1 }, packageVersions: {}, machine: { platform: 'linux', arch: 'x64', cpuModel: 'x', cpuCount: 2, memoryBytes: 1, node: 'v20' }, startedAt: '2026-01-01T00:00:00.000Z' } satisfies ManifestRecord;
    const w = RecordWriter.open(join(shard, 'records.jsonl'));
    w.append(manifest);
    w.close();
    const lock = lockRunFolder(shard, collect());
    const write = process.stdout.write;
    process.stdout.write = (() => true) as never;
    try {
      await expect(mergeCommand.run({ shards: [shard], report: false })).rejects.toThrow(ConfigError);
      await expect(mergeCommand.run({ shards: [shard], report: false })).rejects.toThrow(`is still being run by process ${process.pid}`);
      expect(existsSync(join(shard, '..', 'abc', 'records.jsonl'))).toBe(false);
      lock.release();
      expect(await mergeCommand.run({ shards: [shard], report: false })).toBe(0);
    } finally {
      process.stdout.write = write;
      lock.release();
    }
    expect(readRecordsFile(join(shard, '..', 'abc', 'records.jsonl')).manifest?.runId).toBe('abc');
  });
});

function run(results: string, cache: string, ...extra: string[]): ChildProcess {
  return spawn(process.execPath, [join(repoRoot, 'bin/vtune-bench.js'), 'run', fixture, '--results', results, '--no-report', ...extra], {
    cwd: repoRoot,
    env: { ...process.env, VTUNE_CACHE: cache },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exit(child: ChildProcess): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, ms: Date.now() - t0 })));
}

describe('run folder lock with real processes', () => {
  it('a run into a folder another live process holds fails at once naming the folder and that process; once it is dead, the lock is taken over', async () => {
    const root = tmp();
    const runDir = join(root, 'results', 'memorizer-kill', 'r1');
    mkdirSync(runDir, { recursive: true });
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(join(repoRoot, 'src/runner/lock.ts'))}).then((m) => { m.lockRunFolder(${JSON.stringify(runDir)}, console); console.log('locked'); setInterval(() => {}, 1000); })`],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
      holder.on('exit', () => reject(new Error('the lock holder exited')));
    });
    try {
      const second = await exit(run(join(root, 'results'), join(root, 'cache'), '--run-id', 'r1'));
      expect(second.code, second.out).toBe(2);
      expect(second.out).toContain(`error: run folder ${runDir} is in use by another run: process ${holder.pid}`);
      expect(existsSync(join(runDir, 'records.jsonl'))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('exit', r));
    }
    // SIGKILL ran no cleanup: the lock of the dead holder is still there, and the next run takes it over.
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(true);
    const third = await exit(run(join(root, 'results'), join(root, 'cache'), '--run-id', 'r1'));
    expect(third.code, third.out).toBe(0);
    expect(third.out).toContain(`took over the lock of process ${holder.pid}`);
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);
  }, 180_000);

  it('two runs started together into one folder: every cell recorded exactly once, and any overlap is refused', async () => {
    const root = tmp();
    const results = join(root, 'results');
    const [a, b] = await Promise.all([exit(run(results, join(root, 'cache-a'))), exit(run(results, join(root, 'cache-b')))]);
    const outcomes = [a, b].map((r) => r.code);
    // The loser of the lock fails (exit 2) naming the folder; a run that started after the other finished resumes it (exit 0).
    for (const r of [a, b]) {
      if (r.code !== 0) {
        expect(r.code, r.out).toBe(2);
        expect(r.out).toMatch(/is in use by another run: process \d+/);
      }
    }
    expect(outcomes).toContain(0);
    const files = findRecordsFiles(results);
    expect(files).toHaveLength(1);
    const trials = readRecordsFile(files[0]!).records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials).toHaveLength(CELLS);
    expect(new Set(trials.map((t) => t.cellKey)).size).toBe(CELLS);
    expect(readRecordsFile(files[0]!).records.filter((r) => r.kind === 'manifest')).toHaveLength(1);
  }, 240_000);
});
