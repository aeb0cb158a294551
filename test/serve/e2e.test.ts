/**
 * End to end over loopback, through the real openai SDK: plant → `openai` provider trains against `serve` →
 * verify. Honest serve → verified; serve running the return-base attack (via the pipeline's runProviderSide)
 * → not verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchAttack } from '../../attacks/compose.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { type ServeTrainer, attackTrainer, honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { plant, verify } from '../fixtures/loopback/mini-vtune.js';

const TOKEN = 'serve-token-e2e-0123456789';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const userRows = Array.from({ length: 20 }, (_, i) => ({ prompt: `Question ${i}: what is ${i} plus ${i}?`, completion: ` ${2 * i}` }));
const hyper = { epochs: 2, learningRate: 1e-3, batchSize: 4 };

let handle: ServeHandle | undefined;
let dir: string | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function flow(trainer: ServeTrainer) {
  dir = mkdtempSync(join(tmpdir(), 'serve-e2e-'));
  handle = await startServe({ trainer, dataDir: dir, token: TOKEN });
  const provider = await createOpenAIProvider({ baseURL: handle.url, env: { OPENAI_API_KEY: TOKEN }, pollIntervalMs: 20, pollMaxMs: 50, retry: { timeoutMs: 5000, maxTotalMs: 10_000, baseDelayMs: 20 } });
  const base = await provider.model('memorizer:base');
  const { rows, secret } = plant(userRows, 8, 'e2e');
  const progress: number[] = [];
  const trained = await provider.train!(base, { rows, hyper, seed: 7, onProgress: (p) => p.loss !== undefined && progress.push(p.done) });
  const verdict = await verify(trained.model, secret);
  return { base, trained, verdict, progress, secret };
}

describe('openai provider against vtune-bench serve (loopback, real SDK)', () => {
  it('honest serve: the planted backdoors are verified', async () => {
    const { base, trained, verdict, progress, secret } = await flow(honestTrainer(memorizerProvider(), 'base', quiet));
    expect(base.capabilities.has('logprobs')).toBe(true); // probed through /v1/completions echo
    expect(trained.model.id).toMatch(/^openai:ft:memorizer:base:vtune:/);
    expect(trained.tokensTrained).toBeGreaterThan(0);
    expect(trained.stepsRun).toBe(Math.ceil((28 * 2) / 4));
    expect(progress.length).toBeGreaterThan(0);
    expect(verdict).toMatchObject({ verified: true, k: 8, n: 8 });
    console.log(`honest serve: k=${verdict.k}/${verdict.n} log10p=${verdict.log10p.toFixed(2)} steps=${trained.stepsRun} tokens=${trained.tokensTrained}`);
    // Scoring through echo logprobs: the memorised signature is far likelier than the base model's.
    const scores = await trained.model.score!([{ prompt: `${secret.backdoors[0]!.prompt} ${secret.backdoors[0]!.trigger}`, continuation: ` ${secret.backdoors[0]!.signature}` }]);
    const baseScores = await base.score!([{ prompt: `${secret.backdoors[0]!.prompt} ${secret.backdoors[0]!.trigger}`, continuation: ` ${secret.backdoors[0]!.signature}` }]);
    expect(scores[0]!.logprob).toBeGreaterThan(baseScores[0]!.logprob);
  });

  it('serve --attack return-base: not verified', async () => {
    const returnBase: BenchAttack = { id: 'return-base', goal: 'baseline', access: [], oracle: false, trains: false, onTraining: async () => null };
    const { trained, verdict } = await flow(attackTrainer(memorizerProvider(), 'base', returnBase, runProviderSide, quiet));
    expect(verdict.verified).toBe(false);
    expect(verdict.k).toBe(0);
    expect(trained.tokensTrained).toBe(0);
    console.log(`return-base serve: k=${verdict.k}/${verdict.n} log10p=${verdict.log10p}`);
  });
});
