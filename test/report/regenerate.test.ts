/**
 * Byte-identical regeneration (issue 17): the committed fixture records (test/fixtures/leaderboard/, synthetic)
 * regenerate every table, chart (spec, SVG, PNG), report.md/html, published page and its records.jsonl.gz with
 * exactly the SHA-256 committed in expected/<page>/sha256.txt. After a deliberate change to the report, rewrite
 * the expected files with `npx tsx test/fixtures/leaderboard/make-fixture.ts --expected` and review the diff of
 * expected/<page>/*.md.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { hashTree, PAGES, regenerate, type Page } from '../fixtures/leaderboard/expected.js';
import { loadCalibration } from '../../src/calibrate/records.js';
import { calibrationChart } from '../../src/report/calibration.js';
import { loadRecords, writeReport } from '../../src/report/index.js';
import { renderSvg } from '../../src/report/render.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'leaderboard');
const tmps: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vtb-regen-'));
  tmps.push(d);
  return d;
};
afterAll(() => tmps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const expected = (page: Page, file: string): string => readFileSync(join(FIXTURE, 'expected', page, file), 'utf8');

describe.each(Object.keys(PAGES) as Page[])('the %s fixture regenerates byte-identically from its records', (page) => {
  it('every file of the report and the published page has the committed SHA-256', async () => {
    const out = tmp();
    await regenerate(page, out);
    const got = hashTree(out);
    // The Markdown first, so a difference reads as a diff rather than as two hashes.
    expect(readFileSync(join(out, 'results', `${page}.md`), 'utf8')).toBe(expected(page, `${page}.md`));
    expect(readFileSync(join(out, 'report', 'report.md'), 'utf8')).toBe(expected(page, 'report.md'));
    expect(got).toBe(expected(page, 'sha256.txt'));
    // Charts are in it: vega-lite specs, SVGs and PNGs.
    for (const ext of ['.vl.json', '.svg', '.png']) expect(got).toMatch(new RegExp(`  report/charts/[\\w-]+${ext.replace('.', '\\.')}\\n`));
    expect(got).toMatch(new RegExp(`  results/${page}-defense-wins\\.png\\n`));
  }, 180_000);

  it('publishing re-writes the records.jsonl.gz it read, bit for bit', async () => {
    const out = tmp();
    await regenerate(page, out);
    const runId = page === 'leaderboard' ? 'fixture-leaderboard' : 'fixture-verifiers';
    expect(readFileSync(join(out, 'results', page, runId, 'records.jsonl.gz')).equals(readFileSync(PAGES[page]))).toBe(true);
  }, 180_000);
});

describe('.jsonl and .jsonl.gz records give the same report', () => {
  it('the leaderboard fixture decompressed to records.jsonl gives the committed report files', async () => {
    const root = tmp();
    cpSync(join(FIXTURE, 'results'), join(root, 'results'), { recursive: true });
    const run = join(root, 'results', 'leaderboard', 'fixture-leaderboard');
    writeFileSync(join(run, 'records.jsonl'), gunzipSync(readFileSync(join(run, 'records.jsonl.gz'))));
    rmSync(join(run, 'records.jsonl.gz'));
    const out = join(root, 'out');
    await writeReport(loadRecords([run]), join(out, 'report'));
    const reportLines = expected('leaderboard', 'sha256.txt')
      .split('\n')
      .filter((l) => l.includes('  report/'));
    expect(hashTree(out).trimEnd().split('\n')).toEqual(reportLines);
  }, 180_000);
});

describe('chart SVGs do not depend on what the process rendered before', () => {
  it('the calibration chart (clip paths) renders to the same bytes before and after another chart', async () => {
    const { records } = loadCalibration([join(FIXTURE, 'results', 'calibration')]);
    const chart = calibrationChart(records);
    const first = await renderSvg(chart.spec);
    await renderSvg(calibrationChart(records.slice(0, 200)).spec);
    const again = await renderSvg(chart.spec);
    expect(first).toMatch(/clip-path="url\(#clip1\)"/);
    expect(again).toBe(first);
  }, 60_000);
});
