/**
 * `kill -9` in the middle of a run, then the same command: every cell exactly once, and the same tables as an
 * uninterrupted run. Drives the real CLI (node --import tsx) on the test-memorizer double.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportTables } from '../report/helpers.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { findRecordsFiles, readRecordsFile } from '../../src/records/store.js';
import { repoRoot } from '../../src/shared-path.js';

const fixture = join(import.meta.dirname, 'fixtures', 'memorizer-kill.json');
const CELLS = 5 * 6;

function cli(results: string, cache: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'run', fixture, '--results', results, '--no-report'], {
    cwd: repoRoot,
    env: { ...process.env, VTUNE_CACHE: cache },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exit(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: string | null; out: string }> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
}

const lines = (p: string): number => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).length : 0);

describe('kill -9 and resume (CLI)', () => {
  it('completes every cell exactly once with the same tables as an uninterrupted run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-kill-'));
    const cache = join(root, 'cache');

    const whole = await exit(cli(join(root, 'whole'), cache));
    expect(whole.code, whole.out).toBe(0);

    const killedDir = join(root, 'killed');
    const child = cli(killedDir, join(root, 'cache-killed'));
    const done = exit(child);
    let recordsPath = '';
    // Kill once a few cells are recorded, well before the end.
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      const found = existsSync(killedDir) ? findRecordsFiles(killedDir) : [];
      if (found.length && lines(found[0]!) >= 4) {
        recordsPath = found[0]!;
        child.kill('SIGKILL');
        break;
      }
      if (child.exitCode !== null) throw new Error('the run finished before it could be killed');
    }
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const partial = readRecordsFile(recordsPath).records.filter((r) => r.kind === 'trial').length;
    expect(partial).toBeLessThan(CELLS);

    const resumed = await exit(cli(killedDir, join(root, 'cache-killed')));
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`${CELLS}/${CELLS} cells recorded \\(${partial} from an earlier run`));

    const trials = readRecordsFile(recordsPath).records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials).toHaveLength(CELLS);
    expect(new Set(trials.map((t) => t.cellKey)).size).toBe(CELLS);
    expect(reportTables([killedDir])).toBe(reportTables([join(root, 'whole')]));
  });

  it('Ctrl-C (SIGINT) stops after the record being written, exits 130 and resumes cleanly', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-sigint-'));
    const dir = join(root, 'run');
    const child = cli(dir, join(root, 'cache'));
    const done = exit(child);
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      const found = existsSync(dir) ? findRecordsFiles(dir) : [];
      if (found.length && lines(found[0]!) >= 3) {
        child.kill('SIGINT');
        break;
      }
      if (child.exitCode !== null) throw new Error('the run finished before it could be interrupted');
    }
    const stopped = await done;
    expect(stopped.code, stopped.out).toBe(130);
    // The hint names the results folder and the other non-default options the run used, and it resumes.
    const hint = /interrupted: run `vtune-bench (run .*)` to resume/.exec(stopped.out)?.[1];
    expect(hint).toBe(`run ${fixture} --results ${dir} --no-report`);
    const path = findRecordsFiles(dir)[0]!;
    const file = readRecordsFile(path);
    expect(file.tornBytes).toBe(0);
    expect(file.records.filter((r) => r.kind === 'failure')).toHaveLength(0);
    const resumed = await exit(
      spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...hint!.split(' ')], {
        cwd: repoRoot,
        env: { ...process.env, VTUNE_CACHE: join(root, 'cache') },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(resumed.code, resumed.out).toBe(0);
    expect(new Set(readRecordsFile(path).records.filter((r) => r.kind === 'trial').map((r) => (r as TrialRecord).cellKey)).size).toBe(CELLS);
  });
});
