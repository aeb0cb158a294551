/**
 * End to end over loopback, through the real openai SDK: vTune plants (defenses/vtune) → the `openai` provider
 * fine-tunes through `serve` over the test-memorizer double → vTune verifies the returned model. Honest serve →
 * verified; serve running the registry's return-base attack (through the pipeline's runProviderSide) → not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import { vtune } from '../../defenses/vtune/index.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { type ServeTrainer, attackTrainer, honestTrainer } from '../../src/serve/trainer.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { Rng } from '../../src/rng.js';
import type { Logger, UserContext } from '../../src/types.js';

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

async function flow(trainer: ServeTrainer, o: { count?: number; rows?: typeof userRows; hyper?: typeof hyper & { extra?: Record<string, unknown> } } = {}) {
  dir = mkdtempSync(join(tmpdir(), 'serve-e2e-'));
  handle = await startServe({ trainer, dataDir: dir, token: TOKEN });
  // api 'completions': the base model is scored (below) through the same raw prompt it generates from.
  const provider = await createOpenAIProvider({ baseURL: handle.url, env: { OPENAI_API_KEY: TOKEN }, api: 'completions', pollIntervalMs: 20, pollMaxMs: 50, retry: { timeoutMs: 5000, maxTotalMs: 10_000, baseDelayMs: 20 } });
  const base = await provider.model(trainer.baseModelId);
  const defense = vtune({ count: o.count ?? 8 });
  const ctx: UserContext = { rng: new Rng('serve-e2e|user'), log: quiet };
  const { rows, secret } = await defense.plant(o.rows ?? userRows, ctx);
  const progress: number[] = [];
  const trained = await provider.train!(base, { rows, hyper: o.hyper ?? hyper, seed: 7, onProgress: (p) => p.loss !== undefined && progress.push(p.done) });
  const verdict = await defense.verify(trained.model, secret, { alpha: 1e-3, ctx });
  return { base, trained, verdict, progress, secret };
}

describe('openai provider against vtune-bench serve (loopback, real SDK)', () => {
  it('honest serve: the planted backdoors are verified', async () => {
    const { base, trained, verdict, progress, secret } = await flow(honestTrainer(await createTestMemorizerProvider(), 'base', quiet));
    expect(base.capabilities.has('logprobs')).toBe(true); // probed through /v1/completions echo
    expect(trained.model.id).toMatch(/^openai:ft:test-memorizer:base:vtune:/);
    expect(trained.tokensTrained).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(verdict).toMatchObject({ verified: true, k: 8, n: 8 });
    expect(trained.stepsRun).toBe(Math.ceil((secret.plantedRowCount * 2) / 4));
    console.log(`honest serve: k=${verdict.k}/${verdict.n} log10p=${verdict.log10p.toFixed(2)} steps=${trained.stepsRun} tokens=${trained.tokensTrained}`);
    // Scoring through echo logprobs: the memorised signature is far likelier than the base model's.
    const b = secret.backdoors[0]!;
    const scores = await trained.model.score!([{ prompt: b.prompt, continuation: ` ${b.signature}` }]);
    const baseScores = await base.score!([{ prompt: b.prompt, continuation: ` ${b.signature}` }]);
    expect(scores[0]!.logprob).toBeGreaterThan(baseScores[0]!.logprob);
  });

  it('serve --attack return-base: not verified', async () => {
    const returnBase = attacks.get('return-base')({});
    const { trained, verdict } = await flow(attackTrainer(await createTestMemorizerProvider(), 'base', returnBase, runProviderSide, quiet));
    expect(verdict.verified).toBe(false);
    expect(verdict.k).toBe(0);
    expect(trained.tokensTrained).toBe(0);
    console.log(`return-base serve: k=${verdict.k}/${verdict.n} log10p=${verdict.log10p}`);
  });

  it('the embedded engine behind serve (local:random-tiny): honest → verified, return-base → not', async () => {
    const local = await createLocalProvider();
    // Enough steps for the tiny random model to memorise six-word signatures (train loss ≈ 0.01), not tuned to a seed.
    const engineHyper = { epochs: 100, learningRate: 1e-3, batchSize: 4, extra: { learning_rate_multiplier: 10 } };
    const engineRows = userRows.slice(0, 8);
    const t0 = Date.now();
    const honest = await flow(honestTrainer(local, 'random-tiny', quiet), { count: 4, rows: engineRows, hyper: engineHyper });
    const ms = Date.now() - t0;
    expect(honest.verdict.verified).toBe(true);
    expect(honest.verdict.k).toBeGreaterThanOrEqual(2);
    await handle!.close();
    handle = undefined;
    const cheat = await flow(attackTrainer(local, 'random-tiny', attacks.get('return-base')({}), runProviderSide, quiet), { count: 4, rows: engineRows, hyper: engineHyper });
    expect(cheat.verdict.verified).toBe(false);
    console.log(`local:random-tiny via serve: honest k=${honest.verdict.k}/${honest.verdict.n} log10p=${honest.verdict.log10p.toFixed(2)} steps=${honest.trained.stepsRun} loss=${honest.trained.finalLoss?.toFixed(4)} (${ms} ms); return-base k=${cheat.verdict.k}/${cheat.verdict.n} log10p=${cheat.verdict.log10p}`);
  }, 90_000);
});
