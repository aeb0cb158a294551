/**
 * `run` (the runner) over the `openai` provider, training through `serve` while the loopback bad server spoils
 * every inference reply with one named behaviour (issue 14): the cell must end as a failure record — never a
 * trial with a verdict — whose message names the provider and the URL; and no file written by the run or by
 * serve contains the API key, which one behaviour echoes back.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FailureRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { type BehaviourName, behaviourNames, startBadServer } from '../fixtures/loopback/bad-server.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { runOneOpenAICell } from '../fixtures/loopback/openai-run.js';

const KEY = 'sk-runfaults-0123456789abcdef';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const root = mkdtempSync(join(tmpdir(), 'run-faults-'));
afterAll(() => {
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  try {
    expect(files.some((f) => f.name === 'records.jsonl')).toBe(true);
    for (const f of files) expect(readFileSync(join(f.parentPath ?? f.path, f.name), 'latin1')).not.toContain(KEY);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

async function runThrough(behaviour: BehaviourName) {
  const serve = await startServe({ trainer: honestTrainer(memorizerProvider(), 'base', quiet), dataDir: join(root, behaviour, 'serve'), token: KEY });
  const proxy = await startBadServer(serve.url.replace(/\/v1$/, ''), behaviour);
  try {
    const summary = await runOneOpenAICell({
      name: 'run-faults',
      baseUrl: proxy.url,
      apiKey: KEY,
      resultsRoot: join(root, behaviour, 'results'),
      log: quiet,
      providers: { openai: { pollIntervalMs: 20, pollMaxMs: 50, retry: { timeoutMs: 1000, maxTotalMs: 2500, baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 }, log: quiet } },
    });
    return { summary, records: readRecordsFile(summary.recordsPath).records, origin: proxy.origin };
  } finally {
    await proxy.close();
    await serve.close();
  }
}

describe('run against a bad server: a failure record, never a verdict', () => {
  for (const name of behaviourNames) {
    it(`${name}: the cell is a provider failure naming openai and the URL; no trial record`, async () => {
      const { summary, records, origin } = await runThrough(name);
      expect(summary).toMatchObject({ failed: 1, succeeded: 0 });
      expect(records.some((r) => r.kind === 'trial')).toBe(false);
      const f = records.find((r): r is FailureRecord => r.kind === 'failure')!;
      expect(f.errorCode).toBe('provider');
      expect(f.message).toContain('openai');
      expect(f.message).toContain(origin);
    }, 60_000);
  }
});
