import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRecords, writeReport } from '../../src/report/index.js';
import { runScenario } from '../../src/runner/run.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { catalog } from '../runner/fake-catalog.js';

const CHROMIUM = '/usr/bin/chromium';
const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

async function report(): Promise<{ html: string; outDir: string }> {
  const root = mkdtempSync(join(tmpdir(), 'vtune-html-'));
  const { scenario, file } = await loadScenario(join(import.meta.dirname, '..', 'runner', 'fixtures', 'fake-fast.json'), catalog);
  const run = await runScenario({ scenario, file, catalog, resultsRoot: root, log: quiet });
  const written = await writeReport(loadRecords([run.runDir]), join(run.runDir, 'report'));
  return { html: written.html, outDir: written.outDir };
}

describe('report files', () => {
  it('writes every table format, deterministic PNG charts and a self-contained HTML file', async () => {
    const a = await report();
    const b = await report();
    for (const id of ['rates', 'attacks', 'leaderboard-attacks', 'leaderboard-generators']) {
      for (const ext of ['md', 'csv', 'json', 'tex']) expect(existsSync(join(a.outDir, 'tables', `${id}.${ext}`))).toBe(true);
    }
    for (const id of ['defense-wins', 'log10p', 'power', 'roc', 'frontier']) {
      const png = readFileSync(join(a.outDir, 'charts', `${id}.png`));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.equals(readFileSync(join(b.outDir, 'charts', `${id}.png`)))).toBe(true);
    }
    const html = readFileSync(a.html, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']https?:/); // nothing fetched
    expect(statSync(a.html).size).toBeGreaterThan(500_000); // the inlined vega bundles
  });
});

describe('HTML report in headless Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))('shows every chart with no console errors (skipped: /usr/bin/chromium absent)', async () => {
    const { chromium } = await import('playwright-core');
    const { html, outDir } = await report();
    // A fresh --user-data-dir: playwright passes it itself through launchPersistentContext.
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'vtune-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector('body[data-charts-done="true"]', { timeout: 60_000 });
      const charts = await page.$$eval('div.chart', (divs) => divs.map((d) => ({ id: d.id, svgs: d.querySelectorAll('svg').length, marks: d.querySelectorAll('svg path, svg line, svg circle, svg text').length })));
      expect(charts.map((c) => c.id)).toEqual(['chart-defense-wins', 'chart-log10p', 'chart-power', 'chart-roc', 'chart-frontier']);
      for (const c of charts) {
        expect(c.svgs, c.id).toBeGreaterThan(0);
        expect(c.marks, c.id).toBeGreaterThan(10);
      }
      expect(await page.evaluate(() => (globalThis as unknown as { __chartErrors: string[] }).__chartErrors)).toEqual([]);
      expect(await page.$$eval('table', (t) => t.length)).toBe(4);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const shot = join(outDir, 'report-screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(50_000);
      process.stdout.write(`report screenshot: ${shot}\n`);
    } finally {
      await browser.close();
    }
  });
});
