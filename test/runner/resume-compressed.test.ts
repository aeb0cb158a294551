/**
 * A committed part-done run (only `records.jsonl.gz` in its folder, as on a fresh clone) resumes from it: the
 * cells it recorded are not run again, and an existing `records.jsonl` is never replaced. The runScenario test
 * uses the runner tests' FAKE pipeline (test/runner/fake-catalog.ts: a test double, millisecond cells).
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../src/records/schema.js';
import { COMPRESSED_RECORDS_FILE, deterministicGzip, readRecordsFile } from '../../src/records/store.js';
import type { Catalog } from '../../src/runner/catalog.js';
import { resumeFromCompressed, runScenario } from '../../src/runner/run.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { catalog } from './fake-catalog.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

describe('resuming a run from its committed records.jsonl.gz', () => {
  it('copies the compressed records into a new records.jsonl, and leaves an existing one alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-resume-gz-'));
    const lines = '{"kind":"manifest","n":1}\n{"kind":"trial","key":"a"}\n';
    writeFileSync(join(dir, 'records.jsonl.gz'), deterministicGzip(lines));
    const live = join(dir, 'records.jsonl');
    resumeFromCompressed(live, quiet);
    expect(readFileSync(live, 'utf8')).toBe(lines);
    writeFileSync(live, lines + '{"kind":"trial","key":"b"}\n');
    resumeFromCompressed(live, quiet);
    expect(readFileSync(live, 'utf8')).toContain('"key":"b"');
    const empty = mkdtempSync(join(tmpdir(), 'vtb-resume-gz-'));
    resumeFromCompressed(join(empty, 'records.jsonl'), quiet);
    expect(existsSync(join(empty, 'records.jsonl'))).toBe(false);
  });

  it('runScenario itself resumes from a committed records.jsonl.gz when records.jsonl is absent: recorded cells are not run again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtb-resume-gz-'));
    const ran: string[] = [];
    const counting: Catalog = { ...catalog, runCell: async (spec, deps) => (ran.push(spec.key), catalog.runCell(spec, deps)) };
    const { scenario, file } = await loadScenario(join(import.meta.dirname, 'fixtures', 'fake-fast.json'), counting);
    const first = await runScenario({ scenario, file, catalog: counting, resultsRoot: root, log: quiet });
    expect(first).toMatchObject({ total: 36, succeeded: 36 });
    // What a fresh clone of a part-done run holds: the manifest and the first 10 trials, compressed; no records.jsonl.
    const lines = readFileSync(first.recordsPath, 'utf8').trimEnd().split('\n');
    const committed = `${lines.slice(0, 11).join('\n')}\n`;
    const gz = join(first.runDir, COMPRESSED_RECORDS_FILE);
    writeFileSync(gz, deterministicGzip(committed));
    rmSync(first.recordsPath);
    const committedKeys = lines.slice(1, 11).map((l) => (JSON.parse(l) as TrialRecord).cellKey);
    ran.length = 0;
    const infos: string[] = [];
    const again = await runScenario({ scenario, file, catalog: counting, resultsRoot: root, log: { ...quiet, info: (m: string) => infos.push(m) } });
    expect(again).toMatchObject({ total: 36, skipped: 10, succeeded: 26, failed: 0 });
    expect(ran).toHaveLength(26);
    expect(ran.filter((k) => committedKeys.includes(k))).toEqual([]);
    expect(infos.some((m) => m.startsWith(`resuming from ${gz}`))).toBe(true);
    // records.jsonl starts with the committed lines (one manifest, not two), then the 26 new trials; the .gz is untouched.
    const resumed = readFileSync(again.recordsPath, 'utf8');
    expect(resumed.startsWith(committed)).toBe(true);
    const records = readRecordsFile(again.recordsPath).records;
    expect(records.filter((r) => r.kind === 'manifest')).toHaveLength(1);
    expect(new Set(records.filter((r): r is TrialRecord => r.kind === 'trial').map((t) => t.cellKey)).size).toBe(36);
    expect(readFileSync(gz)).toEqual(deterministicGzip(committed));
  });
});
