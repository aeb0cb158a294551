/**
 * The report's Type-I cells come from calibration records (per null mode, with n), found in the results
 * root's `calibration` folder; the Type-I table and the calibration plot join the report and the leaderboard.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendCalibrationRecords, loadCalibration } from '../../src/calibrate/records.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { defenseRows } from '../../src/report/analyze.js';
import { calibrationFor, matchingCalibration, rivalCalibrationMatches, typeIByMode } from '../../src/report/calibration.js';
import { buildReport, defaultCalibrationPaths, loadRecords, publishLeaderboard } from '../../src/report/index.js';
import { displayRows, ratesTable, toMarkdown } from '../../src/report/tables.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { rec } from '../calibrate/helpers.js';
import { trial } from './helpers.js';

/** Trials of a random-tokens defense with 8 backdoors on local:tiny / builtin:tiny (as the report helper makes them). */
function trials(): TrialRecord[] {
  return [0, 1, 2].flatMap((seed) =>
    [
      trial({ key: `h${seed}`, attack: 'honest', goal: 'baseline', verified: true, log10p: -30, defenseWon: true, seed }),
      trial({ key: `r${seed}`, attack: 'return-base', goal: 'baseline', verified: false, log10p: 0, defenseWon: true, backdoorRowsTrained: 0, seed }),
    ].map((t) => ({ ...t, cell: { ...t.cell, defense: { id: 'vtune', options: { generator: 'random-tokens', count: 8 } } } })),
  );
}

/** The validated options `calibrate` records for random-tokens given no options. */
const RANDOM_TOKENS_OPTIONS = generators.get('random-tokens')({}).options;

/** 3000 null trials: generator never reaches 1e-3, base-model does in 30 of them (inflated ×10). */
function calibration(over: Parameters<typeof rec>[2] = {}) {
  return Array.from({ length: 3000 }, (_, i) =>
    rec(i, { generator: 0, empirical: i < 2 ? -3 : -0.5, 'base-model': i < 30 ? -3.5 : -0.2 }, { generator: { id: 'random-tokens', options: RANDOM_TOKENS_OPTIONS, label: 'random-tokens' }, count: 8, baseModel: 'local:tiny', dataset: 'builtin:tiny', ...over }),
  );
}

describe('Type-I cells from calibration records', () => {
  it('match the headline row by generator, validated options, count, base model and dataset, and count per mode with n', () => {
    const [row] = defenseRows(trials());
    const good = calibration();
    const others = [
      ...calibration({ count: 4 }).slice(0, 10),
      ...calibration({ baseModel: 'local:other' }).slice(0, 10),
      ...calibration({ generator: { id: 'random-tokens', options: { signatureLength: 3 }, label: 'x' } }).slice(0, 10),
    ];
    expect(matchingCalibration([...good, ...others], row!)).toHaveLength(3000);
    const byMode = typeIByMode(good, 1e-3);
    expect(byMode.get('generator')).toMatchObject({ k: 0, n: 3000 });
    expect(byMode.get('empirical')).toMatchObject({ k: 2, n: 3000 });
    expect(byMode.get('base-model')).toMatchObject({ k: 30, n: 3000 });
    const shown = displayRows(ratesTable([row!], [...good, ...others]))[0]!;
    expect(shown['Type-I ↓ (calibration, decision mode)']).toBe('0/3000 = 0 [0, 0.0012]');
    expect(shown['Type-I by null mode (calibration)']).toContain("base-model (paper's, anti-conservative) 30/3000 = 0.01 [");
    expect(shown['Type-I by null mode (calibration)']).toContain('*generator 0/3000');
    // 30 of 3000 at α = 1e-3 is above Binomial(3000, 1e-3)'s 99th percentile (8): labelled; 0 and 2 are not
    expect(shown['Type-I by null mode (calibration)']).toMatch(/anti-conservative\) 30\/3000 = 0\.01 \[[^\]]+\] ✗ exceeds α/);
    expect(shown['Type-I by null mode (calibration)']).not.toMatch(/(generator|empirical) \d+\/3000 = [^;]+exceeds/);
    // the run's own null baselines stay beside it, with their (small) n
    expect(shown['Type-I in run (null baselines)']).toBe('0.00 [0.00, 0.71] n=3');
  });

  it('without calibration records the cell says so', () => {
    const shown = displayRows(ratesTable(defenseRows(trials()), []))[0]!;
    expect(shown['Type-I by null mode (calibration)']).toBe('— (no calibration records)');
    expect(shown['Type-I ↓ (calibration, decision mode)']).toBe('—');
  });
});

describe('finding calibration records', () => {
  function layout() {
    const root = mkdtempSync(join(tmpdir(), 'vtb-results-'));
    const runDir = join(root, 'default', 'run1');
    mkdirSync(runDir, { recursive: true });
    const manifest = { kind: 'manifest', schemaVersion: 1, runId: 'run1', scenario: { name: 'default', hash: 'h', definition: {} }, seeds: [0, 1, 2], cellCount: 6, packageVersions: {}, machine: { platform: 'linux', arch: 'x64', cpuModel: 'cpu', cpuCount: 2, memoryBytes: 1, node: 'v20' }, startedAt: '2026-01-01T00:00:00Z' };
    writeFileSync(join(runDir, 'records.jsonl'), [manifest, ...trials()].map((r) => `${JSON.stringify(r)}\n`).join(''));
    const calDir = join(root, 'calibration', 'random-tokens-n8');
    mkdirSync(calDir, { recursive: true });
    appendCalibrationRecords(join(calDir, 'calibration.jsonl'), calibration());
    return { root, runDir, calDir };
  }

  it("looks in the results root's calibration folder (run → scenario → results root)", () => {
    const { root, runDir } = layout();
    expect(defaultCalibrationPaths([runDir], [join(runDir, 'records.jsonl')])).toContain(join(root, 'calibration'));
    const loaded = loadRecords([runDir]);
    expect(loaded.calibration.records).toHaveLength(3000);
    const report = buildReport(loaded);
    expect(report.tables.map((t) => t.id)).toContain('type-i');
    expect(report.charts.map((c) => c.id)).toContain('calibration');
    expect(report.summary).toContain('Type-I from 3000 calibration trials in 1 file(s)');
    // an explicit (empty) list turns it off
    expect(loadRecords([runDir], { calibration: [] }).calibration.records).toHaveLength(0);
  });

  it('the published leaderboard carries Type-I cells with n in the thousands and the Type-I section', async () => {
    const { root, runDir } = layout();
    const out = join(root, 'published');
    await publishLeaderboard(loadRecords([runDir]), out);
    // The page is named after the scenario: results/<scenario>.md.
    const md = readFileSync(join(out, 'default.md'), 'utf8');
    const headline = md.split('\n').find((l) => l.startsWith('|builtin:tiny|local:tiny|'))!;
    expect(headline).toContain('|0/3000 = 0 [0, 0.0012]|');
    expect(headline).toContain('*generator 0/3000');
    expect(md).toContain('### Type-I error per null mode');
    expect(md).toContain('default-calibration.png');
    expect(toMarkdown(buildReport(loadRecords([runDir])).tables.find((t) => t.id === 'type-i')!)).toMatch(/\|random-tokens\|8\|local:vtb-base \(base\)\|base-model \(paper's; anti-conservative\)\|3000\|/);
  }, 60_000);
});

describe('a report keeps only the calibration of the configurations its records ran', () => {
  const fixture = join(import.meta.dirname, '..', 'fixtures', 'leaderboard', 'results');
  const lb = loadRecords([join(fixture, 'leaderboard', 'fixture-leaderboard')]);

  it("the leaderboard's Type-I table and chart leave out the rival verifier's calibration, and the summary counts it", () => {
    // The fixture's calibration folder holds 200 wordlist and 200 data-watermark null trials; the leaderboard ran wordlist only.
    expect(lb.calibration.records).toHaveLength(400);
    const kept = calibrationFor(lb.calibration.records, lb.trials);
    expect(kept).toHaveLength(200);
    expect(new Set(kept.map((r) => r.generator.id))).toEqual(new Set(['wordlist']));
    const content = buildReport(lb);
    expect(toMarkdown(content.tables.find((t) => t.id === 'type-i')!)).not.toContain('data-watermark');
    expect(JSON.stringify(content.charts.find((c) => c.id === 'calibration')!.spec)).not.toContain('data-watermark');
    expect(content.summary).toContain('Type-I from 200 of the 400 calibration trials in 1 file(s); the other 200 are of configurations not in these records.');
  });

  it('a rival matches by defense id, options apart from α, dataset and base model: the committed data-watermark calibration (nulls 99) is not that of its default (999)', () => {
    // results/calibration/rivals-n1000-local_vtb-base: 1000 null trials each of cue-reply, utility-gain and data-watermark(nulls=99) on stories.
    const { records } = loadCalibration([join(import.meta.dirname, '..', '..', 'results', 'calibration', 'rivals-n1000-local_vtb-base')]);
    const t = (id: string, options: Record<string, unknown>, dataset = 'stories'): TrialRecord => {
      const x = trial({ key: id, attack: 'honest', goal: 'honest', verified: true, log10p: -3, defenseWon: true });
      return { ...x, cell: { ...x.cell, dataset: { spec: dataset }, model: 'local:vtb-base', defense: { id, options } } };
    };
    const count = (x: TrialRecord): number => records.filter((r) => rivalCalibrationMatches(r, x)).length;
    expect(count(t('cue-reply', { alpha: 0.01 }))).toBe(1000);
    expect(count(t('data-watermark', { alpha: 0.01 }))).toBe(0);
    expect(count(t('data-watermark', { alpha: 0.01, nulls: 99 }))).toBe(1000);
    expect(count(t('cue-reply', { alpha: 0.01 }, 'math'))).toBe(0);
    expect(count(t('cue-reply', { alpha: 0.01, cues: 8 }))).toBe(0);
  });
});
