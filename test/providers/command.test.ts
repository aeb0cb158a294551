/**
 * The `command` trainer with a loopback training script: plant → the script trains and serves (TGI-like or
 * OpenAI-compatible) → SERVED line → verify through the hf / openai provider. Failures, timeouts and aborts
 * end in a ProviderError and leave no process behind.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ProviderError } from '../../src/errors.js';
import { createCommandProvider, parseServed, splitCommand } from '../../src/providers/command.js';
import type { Model } from '../../src/types.js';
import { plant, verify } from '../fixtures/loopback/vtune-helpers.js';

const script = new URL('../fixtures/loopback/train-command.ts', import.meta.url).pathname;
const node = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(script)}`;
const userRows = Array.from({ length: 10 }, (_, i) => ({ prompt: `Recipe ${i}: list an ingredient.`, completion: ` flour ${i}` }));
const hyper = { epochs: 2, learningRate: 1e-3, batchSize: 4 };
const fastHttp = { retry: { timeoutMs: 5000, maxTotalMs: 8000, baseDelayMs: 20 } };

async function runFlow(serve: 'tgi' | 'openai') {
  const provider = await createCommandProvider({
    template: `${node} --data {train} --epochs {epochs} --seed {seed} --serve ${serve}`,
    env: { VTUNE_COMMAND_API_KEY: 'command-token-e2e-123' },
    timeoutMs: 30_000,
    hf: { env: {}, ...fastHttp },
    openai: { env: { VTUNE_COMMAND_API_KEY: 'command-token-e2e-123' }, ...fastHttp },
  });
  const { rows, secret } = await plant(userRows, 5, `command-${serve}`);
  const progress: number[] = [];
  let model: Model | undefined;
  try {
    const r = await provider.train!(await provider.model('base'), { rows, hyper, seed: 3, onProgress: (p) => progress.push(p.done) });
    model = r.model;
    const v = await verify(r.model, secret);
    return { r, v, progress };
  } finally {
    await model?.dispose?.();
    await provider.close?.();
  }
}

describe('command trainer over loopback', () => {
  it('SERVED tgi: verified through the hf provider', async () => {
    const { r, v, progress } = await runFlow('tgi');
    expect(v).toMatchObject({ verified: true, k: 5, n: 5 });
    expect(r.stepsRun).toBe(Math.ceil((15 * 2) / 4)); // from the TRAINED line
    expect(r.tokensTrained).toBeGreaterThan(0);
    expect(progress.length).toBe(r.stepsRun);
    expect(r.model.capabilities.has('logprobs')).toBe(true);
    console.log(`command→tgi: k=${v.k}/${v.n} log10p=${v.log10p.toFixed(2)} steps=${r.stepsRun} tokens=${r.tokensTrained}`);
  }, 60_000);

  it('SERVED openai: verified through the openai provider', async () => {
    const { r, v } = await runFlow('openai');
    expect(v).toMatchObject({ verified: true, k: 5, n: 5 });
    expect(r.model.id).toBe('command:openai:trained');
    console.log(`command→openai: k=${v.k}/${v.n} log10p=${v.log10p.toFixed(2)}`);
  }, 60_000);

  it('a failing command: ProviderError with its exit code and stderr', async () => {
    const provider = await createCommandProvider({ template: `${node} --fail --data {train}` });
    const err = await provider.train!(await provider.model('b'), { rows: userRows, hyper, seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/exited \(code 3\) before printing a SERVED line; stderr: CUDA error: out of memory \(simulated\)/);
  }, 40_000);

  it('a command that never serves: killed at the timeout; abort kills it too', async () => {
    const provider = await createCommandProvider({ template: `${node} --hang --data {train}`, timeoutMs: 4000 });
    const t0 = Date.now();
    const err = await provider.train!(await provider.model('b'), { rows: userRows, hyper, seed: 1 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no SERVED line within 4 s/);
    expect(Date.now() - t0).toBeLessThan(8000);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('SIGINT')), 1500);
    const err2 = await provider.train!(await provider.model('b'), { rows: userRows, hyper, seed: 1, signal: ctl.signal }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/cancelled: SIGINT/);
    await provider.close?.();
  }, 40_000);

  it('templates: quoting, unknown placeholders, SERVED parsing', async () => {
    expect(splitCommand(`python "my script.py" --data {train} --name 'a b' x\\ y`)).toEqual(['python', 'my script.py', '--data', '{train}', '--name', 'a b', 'x y']);
    await expect(createCommandProvider({ template: 'train --data {training}' })).rejects.toThrow(/unknown placeholder \{training\}.*\{train\}/);
    await expect(createCommandProvider({ template: 'train "oops' })).rejects.toThrow(ConfigError);
    await expect(createCommandProvider({})).rejects.toThrow(/VTUNE_COMMAND_TEMPLATE/);
    expect(parseServed('SERVED openai http://127.0.0.1:8000/v1 my-model')).toEqual({ kind: 'openai', url: 'http://127.0.0.1:8000/v1', model: 'my-model' });
    expect(parseServed('SERVED tgi http://127.0.0.1:8080')).toEqual({ kind: 'tgi', url: 'http://127.0.0.1:8080' });
    expect(parseServed('served at http://x')).toBeUndefined();
  });
});
