import { appendFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecords } from '../../src/report/index.js';
import { reportTables } from '../report/helpers.js';
import { registerSecret } from '../../src/errors.js';
import { mergeRecords } from '../../src/records/merge.js';
import type { FailureRecord, TrialRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { runScenario, StageClock, withStages } from '../../src/runner/run.js';
import { loadScenario, validateScenario } from '../../src/runner/scenario.js';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import type { Logger } from '../../src/types.js';
import { catalog, fakeTrainings } from './fake-catalog.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const fixture = join(import.meta.dirname, 'fixtures', 'fake-fast.json');

/** Every table of a report in every format, concatenated: what "same tables" means. */
describe('runScenario with the fake pipeline', () => {
  it('runs every cell once, resumes without re-running, and reuses training', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-run-'));
    const { scenario, file } = await loadScenario(fixture, catalog);
    const trainCache = new DiskTrainCache(join(root, 'cache'));
    const first = await runScenario({ scenario, file, catalog, resultsRoot: root, trainCache, log: quiet });
    expect(first).toMatchObject({ total: 36, skipped: 0, succeeded: 36, failed: 0, interrupted: false });
    const recs = readRecordsFile(first.recordsPath);
    expect(recs.records[0]!.kind).toBe('manifest');
    expect(recs.manifest).toMatchObject({ scenario: { name: 'fake-fast' }, seeds: [0, 1, 2], cellCount: 36 });
    expect(recs.manifest!.packageVersions.arquero).toMatch(/^\d+\./);
    const trials = recs.records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(new Set(trials.map((t) => t.cellKey)).size).toBe(36);
    // No model output (which may contain a signature) reaches the records.
    expect(readFileSync(first.recordsPath, 'utf8')).not.toContain('SIGNATURE-NEVER-RECORDED');
    // honest and drop-flagged… share fine-tunes across defenses: fewer trainings than training cells.
    expect(trainCache.stats.reused).toBeGreaterThan(0);

    const before = fakeTrainings.count;
    const again = await runScenario({ scenario, file, catalog, resultsRoot: root, trainCache: new DiskTrainCache(join(root, 'cache')), log: quiet });
    expect(again).toMatchObject({ total: 36, skipped: 36, succeeded: 0 });
    expect(fakeTrainings.count).toBe(before);
    expect(readRecordsFile(first.recordsPath).records).toHaveLength(37);
  });

  it("records each cell's stage spans in timingsMs beside the pipeline's own, and sums them per run", async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-run-'));
    const { scenario, file } = await loadScenario(fixture, catalog);
    const r = await runScenario({ scenario, file, catalog, resultsRoot: root, trainCache: new DiskTrainCache(join(root, 'cache')), log: quiet });
    const trials = readRecordsFile(r.recordsPath).records.filter((x): x is TrialRecord => x.kind === 'trial');
    // The fake pipeline reports plant → (train) → verify and times itself as { total }: that key is kept as is.
    for (const t of trials) {
      expect(Object.keys(t.timingsMs)).toEqual(expect.arrayContaining(['open', 'plant', 'verify', 'total']));
      expect(t.timingsMs.total).toBe(0);
    }
    expect(trials.some((t) => 'train' in t.timingsMs)).toBe(true);
    expect(trials.some((t) => !('train' in t.timingsMs))).toBe(true); // cells that never train have no train span
    for (const stage of ['open', 'plant', 'train', 'verify']) {
      expect(r.stageMs![stage]).toBe(trials.reduce((a, t) => a + (t.timingsMs[stage] ?? 0), 0));
    }
  });

  it('StageClock gives the time from one reported stage to the next different one to the first', () => {
    const clock = new StageClock();
    for (const s of ['plant', 'train', 'train', 'verify', 'plant']) clock.report(s);
    const spans = clock.finish();
    expect(Object.keys(spans).sort()).toEqual(['open', 'plant', 'train', 'verify']);
    expect(Object.values(spans).every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    expect(withStages({ verify: 7, provider: 3 }, { open: 1, verify: 99, train: 2 })).toEqual({ open: 1, train: 2, verify: 7, provider: 3 });
  });

  it('tolerates a torn last line and re-runs exactly that cell', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-torn-'));
    const { scenario, file } = await loadScenario(fixture, catalog);
    const run1 = await runScenario({ scenario, file, catalog, resultsRoot: root, log: quiet });
    const full = reportTables([run1.runDir]);
    // Simulate a kill mid-write of a 37th record: a partial line without its newline.
    const lines = readFileSync(run1.recordsPath, 'utf8').trimEnd().split('\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(run1.recordsPath, `${lines.slice(0, -1).join('\n')}\n${lines.at(-1)!.slice(0, 40)}`);
    expect(readRecordsFile(run1.recordsPath)).toMatchObject({ tornBytes: 40 });
    const warnings: string[] = [];
    const run2 = await runScenario({ scenario, file, catalog, resultsRoot: root, log: { ...quiet, warn: (m) => warnings.push(m) } });
    expect(run2).toMatchObject({ skipped: 35, succeeded: 1 });
    expect(warnings.join()).toMatch(/torn last line/);
    const after = readRecordsFile(run1.recordsPath);
    expect(after.tornBytes).toBe(0);
    expect(after.records.filter((r) => r.kind === 'trial')).toHaveLength(36);
    expect(reportTables([run1.runDir])).toBe(full);
  });

  it('two shards merged give byte-identical tables to one unsharded run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-shard-'));
    const { scenario, file } = await loadScenario(fixture, catalog);
    const whole = await runScenario({ scenario, file, catalog, resultsRoot: join(root, 'whole'), log: quiet });
    const s1 = await runScenario({ scenario, file, catalog, resultsRoot: join(root, 'sharded'), shard: { index: 1, count: 2 }, log: quiet });
    const s2 = await runScenario({ scenario, file, catalog, resultsRoot: join(root, 'sharded'), shard: { index: 2, count: 2 }, log: quiet });
    expect(s1.total + s2.total).toBe(36);
    expect(s1.runDir).toMatch(/-shard-1of2$/);
    const mergedPath = join(root, 'merged', 'records.jsonl');
    const merged = mergeRecords([s1.recordsPath, s2.recordsPath], mergedPath);
    expect(merged).toMatchObject({ trials: 36, failures: 0 });
    expect(merged.manifest.mergedFrom).toEqual([s1.runDir.split('/').at(-1), s2.runDir.split('/').at(-1)]);
    expect(reportTables([join(root, 'merged')])).toBe(reportTables([whole.runDir]));
    expect(() => mergeRecords([s1.recordsPath], mergedPath)).toThrow(/already exists/);
  });

  it('records a failing cell as a redacted failure record and retries it on resume', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-fail-'));
    registerSecret('sk-test-SUPERSECRET-123456');
    const raw = JSON.parse(readFileSync(fixture, 'utf8'));
    raw.attacks = ['honest'];
    raw.seeds = [0];
    raw.defenses = raw.defenses.slice(0, 1);
    const s = validateScenario(raw, catalog, 'fixture');
    const crashing = {
      ...catalog,
      runCell: async () => {
        throw new Error('provider said: bad key sk-test-SUPERSECRET-123456');
      },
    };
    const r1 = await runScenario({ scenario: s, file: 'fixture', catalog: crashing, resultsRoot: root, log: quiet });
    expect(r1).toMatchObject({ failed: 1, succeeded: 0 });
    const text = readFileSync(r1.recordsPath, 'utf8');
    expect(text).not.toContain('SUPERSECRET');
    const failure = readRecordsFile(r1.recordsPath).records[1] as FailureRecord;
    expect(failure).toMatchObject({ kind: 'failure', stage: 'setup', errorCode: 'internal' });
    expect(failure.message).toContain('bad key ***');
    const r2 = await runScenario({ scenario: s, file: 'fixture', catalog, resultsRoot: root, log: quiet });
    expect(r2).toMatchObject({ skipped: 0, succeeded: 1 });
    expect(loadRecords([r2.runDir])).toMatchObject({ failures: [] });
  });

  it('an aborted run records nothing for interrupted cells', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-abort-'));
    const { scenario, file } = await loadScenario(fixture, catalog);
    const controller = new AbortController();
    let finished = 0;
    const r = await runScenario({
      scenario,
      file,
      catalog,
      resultsRoot: root,
      signal: controller.signal,
      log: quiet,
      progress: { start: () => {}, cellProgress: () => {}, stop: () => {}, cellFinished: () => { if (++finished === 5) controller.abort(); } },
    });
    expect(r.interrupted).toBe(true);
    const trials = readRecordsFile(r.recordsPath).records.filter((x) => x.kind === 'trial');
    expect(trials.length).toBeGreaterThanOrEqual(5);
    expect(trials.length).toBeLessThan(36);
    expect(readRecordsFile(r.recordsPath).records.filter((x) => x.kind === 'failure')).toHaveLength(0);
    expect(readdirSync(r.runDir)).toEqual(['records.jsonl']);
    appendFileSync(r.recordsPath, '');
  });
});
