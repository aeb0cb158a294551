/**
 * The `openai` provider's contract details over loopback: configuration errors, capability probing (a server
 * without echo logprobs → no 'logprobs'; the chat API never scores: issue 13 item 7), the training-cache round trip (saveModel/loadModel keep the model id
 * and never the key), row weights, and the exact wire format of a job.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ProviderError } from '../../src/errors.js';
import { providers } from '../../src/providers/index.js';
import { createOpenAIProvider, toChatJsonl } from '../../src/providers/openai.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { type ServeTrainer, honestTrainer } from '../../src/serve/trainer.js';
import type { Model } from '../../src/types.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/loopback/fault-proxy.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';

const TOKEN = 'openai-unit-token-123456';
let serve: ServeHandle | undefined;
let proxy: FaultProxy | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await proxy?.close();
  await serve?.close();
  proxy = serve = undefined;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openai-unit-'));
  dirs.push(d);
  return d;
};
async function up(trainer: ServeTrainer = honestTrainer(memorizerProvider(), 'base')) {
  serve = await startServe({ trainer, dataDir: tmp(), token: TOKEN });
  proxy = await startFaultProxy(serve.url.replace(/\/v1$/, ''));
  return proxy.url;
}

describe('openai provider', () => {
  it('chat and completions requests carry the same sampling fields: seed 0 unless given, top_p only when set, at most 4 stop sequences', async () => {
    const url = await up();
    const bodies = (path: string) => proxy!.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body.toString()) as Record<string, unknown>);
    for (const [api, path, maxField] of [['chat', '/v1/chat/completions', 'max_completion_tokens'], ['completions', '/v1/completions', 'max_tokens']] as const) {
      const m = await (await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, api, logprobs: false })).model('memorizer:base');
      await m.generate(['The capital of France is'], { maxTokens: 3, topP: 0.5, stop: ['1', '2', '3', '4', '5'] });
      await m.generate(['The capital of France is'], { maxTokens: 2, temperature: 0.7, seed: 42 });
      const [first, second] = bodies(path);
      expect(first, api).toMatchObject({ model: 'memorizer:base', temperature: 0, top_p: 0.5, seed: 0, [maxField]: 3, stop: ['1', '2', '3', '4'] });
      expect(second, api).toMatchObject({ temperature: 0.7, seed: 42, [maxField]: 2 });
      expect(second, api).not.toHaveProperty('top_p');
      expect(second, api).not.toHaveProperty('stop');
    }
  });

  it('is registered, loads lazily, and names the missing key variable', async () => {
    expect(providers.ids).toEqual(expect.arrayContaining(['openai', 'hf', 'command']));
    await expect(createOpenAIProvider({ env: {} })).rejects.toThrow(/set the OPENAI_API_KEY environment variable/);
    await expect(createOpenAIProvider({ env: {}, apiKeyEnv: 'MY_KEY' })).rejects.toThrow(/MY_KEY/);
    await expect(createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789' }, baseURL: 'ftp://x' })).rejects.toThrow(ConfigError);
    await expect(createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789' }, pollIntervalMs: -1 })).rejects.toThrow(/pollIntervalMs/);
    const retry = (await createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789' }, retry: { maxAttempts: 0 } }).catch((e: unknown) => e)) as ConfigError;
    // The declaration validates (src/providers/openai.ts openaiOptions): no rewrap, the path is data.
    expect(retry.message).toBe("provider 'openai': retry.maxAttempts: expected an integer ≥ 1, got 0");
    expect(retry.problems).toEqual([{ path: ['retry', 'maxAttempts'], message: 'expected an integer ≥ 1, got 0' }]);
    expect(retry.subject).toBe("provider 'openai'");
    // What the declaration cannot see, values from the environment, is checked when the provider opens.
    await expect(createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789', OPENAI_BASE_URL: 'ftp://x' } })).rejects.toThrow("openai provider: OPENAI_BASE_URL must be an http(s) URL, got 'ftp://x'");
    await expect(createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789', VTUNE_OPENAI_API: 'messages' } })).rejects.toThrow("openai provider: VTUNE_OPENAI_API must be 'chat' or 'completions', got 'messages'");
    await expect(createOpenAIProvider({ env: { OPENAI_API_KEY: 'k-123456789' }, pollIntervalMS: 5 } as never)).rejects.toThrow(/unknown option 'pollIntervalMS'\. Did you mean 'pollIntervalMs'/);
    const p = await providers.get('openai')({ env: { OPENAI_API_KEY: 'k-123456789', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
    expect(p.id).toBe('openai');
  });

  it("api 'completions' probes echo logprobs: declared when the server answers, absent when it refuses", async () => {
    const url = await up();
    const p = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, api: 'completions' });
    expect((await p.model('memorizer:base')).capabilities.has('logprobs')).toBe(true);
    const probe = JSON.parse(proxy!.requests.find((r) => r.path === '/v1/completions')!.body.toString());
    expect(probe).toMatchObject({ echo: true, logprobs: 1, max_tokens: 0, temperature: 0 });
    await proxy!.close();
    await serve!.close();

    // a model without score(): serve answers 400 to logprobs, so the capability is not declared
    const inner = memorizerProvider();
    const noScore: ServeTrainer = {
      baseModelId: 'plain',
      mode: 'honest',
      base: async () => {
        const m = await inner.model('base');
        return { id: m.id, capabilities: new Set(['generate']), generate: m.generate } satisfies Model;
      },
      train: async () => {
        throw new Error('no');
      },
      restore: async () => {
        throw new Error('no');
      },
    };
    const url2 = await up(noScore);
    const p2 = await createOpenAIProvider({ baseURL: url2, env: { OPENAI_API_KEY: TOKEN }, api: 'completions' });
    const m2 = await p2.model('plain');
    expect([...m2.capabilities]).toEqual(['generate']);
    expect(m2.score).toBeUndefined();
    const forced = await createOpenAIProvider({ baseURL: url2, env: { OPENAI_API_KEY: TOKEN }, api: 'completions', logprobs: false });
    expect((await forced.model('plain')).capabilities.has('logprobs')).toBe(false);
  });

  it("scores the event it generates: api 'chat' declares no 'logprobs' and says why; api 'completions' generates and scores one raw prompt", async () => {
    const url = await up();
    // chat (the default): the server's chat template is unknown to the client and the API scores no given continuation.
    const chat = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN } });
    const m = await chat.model('memorizer:base');
    expect([...m.capabilities]).toEqual(['generate']);
    expect(m.score).toBeUndefined();
    expect(m.unavailable?.logprobs).toMatch(/chat completions.*never of a given continuation.*api 'completions'/);
    expect(chat.capabilities.has('logprobs')).toBe(false);
    expect(proxy!.requests.some((r) => r.path === '/v1/completions')).toBe(false); // nothing probed
    await expect(createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, logprobs: true })).rejects.toThrow(/cannot be forced with api 'chat'/);
    await expect(createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, api: 'messages' as never })).rejects.toThrow(`provider 'openai': api: expected 'chat' or 'completions', got "messages"`);
    // completions: generation and scoring both read the same raw prompt.
    const raw = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN, VTUNE_OPENAI_API: 'completions' }, logprobs: true });
    const r = await raw.model('memorizer:base');
    expect(r.capabilities.has('logprobs')).toBe(true);
    const before = proxy!.requests.length;
    const [out] = await r.generate(['a b'], { maxTokens: 3 });
    const [scored] = await r.score!([{ prompt: 'a b', continuation: out! }]);
    const sent = proxy!.requests.slice(before).map((q) => ({ path: q.path, body: JSON.parse(q.body.toString()) as Record<string, unknown> }));
    expect(sent.map((q) => q.path)).toEqual(['/v1/completions', '/v1/completions']);
    expect(sent[0]!.body).toMatchObject({ model: 'memorizer:base', prompt: 'a b', temperature: 0, max_tokens: 3 });
    expect(sent[1]!.body).toMatchObject({ prompt: `a b${out}`, echo: true, max_tokens: 0 });
    expect(scored!.tokenLogprobs.length).toBeGreaterThan(0);
  });

  it('sends the job as promised (hyper-parameters, seed, suffix) and greedy chat with a seed', async () => {
    const url = await up();
    const p = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, suffix: 'wm-test', pollIntervalMs: 20, logprobs: false, trainingUsdPerMillionTokens: 3 });
    const rows = [{ prompt: 'a b', completion: ' c' }, { prompt: 'd', completion: ' e', weight: 0 }];
    const r = await p.train!(await p.model('memorizer:base'), { rows, hyper: { epochs: 2, learningRate: 1, batchSize: 1, extra: { learning_rate_multiplier: 0.5 } }, seed: 99 });
    const job = JSON.parse(proxy!.requests.find((q) => q.method === 'POST' && q.path === '/v1/fine_tuning/jobs')!.body.toString());
    expect(job).toEqual({ model: 'memorizer:base', training_file: expect.stringMatching(/^file-/), suffix: 'wm-test', seed: 99, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 1, learning_rate_multiplier: 0.5 } } } });
    const upload = proxy!.requests.find((q) => q.path === '/v1/files')!.body.toString();
    expect(upload).toContain('{"messages":[{"role":"user","content":"d"},{"role":"assistant","content":" e","weight":0}]}');
    expect(upload).toMatch(/filename="vtune-[0-9a-f]{16}\.jsonl"/);
    expect(r.costUsd).toBeCloseTo((r.tokensTrained / 1e6) * 3, 12);
    await r.model.generate(['a b'], { maxTokens: 3 });
    const chat = JSON.parse(proxy!.requests.find((q) => q.path === '/v1/chat/completions')!.body.toString());
    expect(chat).toEqual({ model: expect.stringMatching(/^ft:memorizer:base:wm-test:/), messages: [{ role: 'user', content: 'a b' }], temperature: 0, seed: 0, max_completion_tokens: 3 });
  });

  it('saveModel/loadModel persist the fine-tuned model id (never the key)', async () => {
    const url = await up();
    const p = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, pollIntervalMs: 20, api: 'completions' });
    const r = await p.train!(await p.model('memorizer:base'), { rows: [{ prompt: 'x', completion: ' y' }], hyper: { epochs: 1, learningRate: 1, batchSize: 1 }, seed: 1 });
    const file = join(tmp(), 'model.json');
    await p.saveModel!(r.model, file);
    const saved = readFileSync(file, 'utf8');
    expect(saved).not.toContain(TOKEN);
    expect(JSON.parse(saved)).toMatchObject({ format: 'vtune-bench/openai-model', version: 1, model: r.model.id.slice('openai:'.length), logprobs: true });
    const back = await p.loadModel!(file);
    expect(back.id).toBe(r.model.id);
    expect(await back.generate(['x'], { maxTokens: 2 })).toEqual([' y']);
    await expect(p.loadModel!(join(tmp(), 'nope.json'))).rejects.toThrow(ConfigError);
  });

  it('hosted fine-tuning cannot do fractional weights or spans: a clear error before any upload', () => {
    expect(() => toChatJsonl([{ prompt: 'a', completion: 'b', weight: -1 }])).toThrow(/accepts only 0 or 1/);
    expect(() => toChatJsonl([{ prompt: 'a', completion: 'b', spans: [{ start: 0, end: 1, weight: 0 }] }])).toThrow(ProviderError);
  });
});
