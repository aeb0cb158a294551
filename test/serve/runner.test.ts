/**
 * The runner over the `openai` provider against `serve`: a fine-tuning job that ends `failed` (its message
 * echoing the API key) becomes a failure record — redacted, with the provider's reason — not a crash; the
 * same scenario against an honest serve records a verified trial. Configuration through the environment
 * only (OPENAI_BASE_URL, OPENAI_API_KEY), as a user would run it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FailureRecord, TrialRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { runOneOpenAICell } from '../fixtures/loopback/openai-run.js';

const KEY = 'runnerLEAK_marker_0a1b2c3d4e';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'serve-runner-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function runAgainst(failWith: string | undefined) {
  const serve = await startServe({ trainer: honestTrainer(memorizerProvider(failWith ? { failWith } : {}), 'base', quiet), dataDir: tmp(), token: KEY });
  try {
    const summary = await runOneOpenAICell({ name: 'serve-runner', baseUrl: serve.url, apiKey: KEY, resultsRoot: tmp(), log: quiet });
    return { summary, text: readFileSync(summary.recordsPath, 'utf8'), records: readRecordsFile(summary.recordsPath).records };
  } finally {
    await serve.close();
  }
}

describe('runner × openai provider × serve', () => {
  it('a failed hosted job is a redacted failure record; an honest one a verified trial', async () => {
    const failed = await runAgainst(`quota exceeded for key ${KEY}`);
    expect(failed.summary).toMatchObject({ failed: 1, succeeded: 0 });
    const f = failed.records.find((r): r is FailureRecord => r.kind === 'failure')!;
    expect(f.errorCode).toBe('provider');
    expect(f.message).toMatch(/fine-tuning job ftjob-\w+ ended failed: quota exceeded for key \*\*\*/);
    expect(failed.text).not.toContain(KEY);

    const ok = await runAgainst(undefined);
    expect(ok.summary).toMatchObject({ failed: 0, succeeded: 1 });
    const t = ok.records.find((r): r is TrialRecord => r.kind === 'trial')!;
    expect(t.verdict.verified).toBe(true);
    expect(ok.text).not.toContain(KEY);
    console.log(`runner via serve: failure record stage=${f.stage} code=${f.errorCode} "${f.message}"; honest trial k=${t.verdict.k}/${t.verdict.n} log10p=${t.verdict.log10p.toFixed(2)}`);
  }, 60_000);
});
