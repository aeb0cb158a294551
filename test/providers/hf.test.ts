/**
 * The `hf` provider against a loopback server answering like TGI, through @huggingface/inference 4.13.16:
 * plant → train → verify through the endpoint (verified for the trained model, not for the base), exact
 * prefill log-probs, our backoff instead of the SDK's 503 loop, Retry-After, auth errors without the token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ProviderError } from '../../src/errors.js';
import { continuationLogprobs, createHfProvider } from '../../src/providers/hf.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { plant, verify } from '../fixtures/loopback/vtune-helpers.js';
import { type TgiServer, startTgiServer } from '../fixtures/loopback/tgi-server.js';

const userRows = Array.from({ length: 10 }, (_, i) => ({ prompt: `Say the number ${i}.`, completion: ` number ${i} done` }));
const fast = { timeoutMs: 3000, maxTotalMs: 6000, baseDelayMs: 20, maxDelayMs: 100 };
let tgi: TgiServer | undefined;
afterEach(async () => {
  await tgi?.close();
  tgi = undefined;
});

async function trainedModels() {
  const mem = await createTestMemorizerProvider();
  const base = await mem.model('base');
  const { rows, secret } = await plant(userRows, 6, 'hf');
  const trained = await mem.train!(base, { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 2 }, seed: 1 });
  return { base, trained: trained.model, secret };
}

describe('hf provider against a TGI-like loopback server', () => {
  it('verifies the trained model through the endpoint, and not the base model', async () => {
    const { base, trained, secret } = await trainedModels();
    tgi = await startTgiServer(trained);
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const model = await hf.model('tgi-trained');
    expect([...model.capabilities].sort()).toEqual(['generate', 'logprobs']);
    const v = await verify(model, secret);
    expect(v).toMatchObject({ verified: true, k: 6, n: 6 });
    const sent = JSON.parse(tgi.requests.find((r) => r.method === 'POST')!.body);
    expect(sent.parameters).toMatchObject({ do_sample: false, max_new_tokens: expect.any(Number), return_full_text: false });
    await tgi.close();

    tgi = await startTgiServer(base);
    const hfBase = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const vb = await verify(await hfBase.model('tgi-base'), secret);
    expect(vb.verified).toBe(false);
    expect(vb.k).toBe(0);
    console.log(`hf/TGI: trained k=${v.k}/${v.n} log10p=${v.log10p.toFixed(2)}; base k=${vb.k}/${vb.n} log10p=${vb.log10p}`);
  });

  it('scores a continuation from the prefill (decoder_input_details): exactly the continuation tokens', async () => {
    const { trained } = await trainedModels();
    tgi = await startTgiServer(trained);
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const model = await hf.model('tgi');
    const item = { prompt: userRows[3]!.prompt, continuation: userRows[3]!.completion };
    const [viaHttp] = await model.score!([item]);
    // The mock's prefill gives each word piece its teacher-forced logprob given all text before it; the
    // provider must pick exactly the continuation's pieces (after BOS and the prompt) and sum them.
    const text = item.prompt + item.continuation;
    const contPieces = [...item.continuation.matchAll(/\s*\S+|\s+/g)].map((m) => ({ start: item.prompt.length + m.index!, text: m[0] }));
    const expected = await trained.score!(contPieces.map((p) => ({ prompt: text.slice(0, p.start), continuation: p.text })));
    expect(viaHttp!.tokenLogprobs).toEqual(expected.map((e) => e.logprob));
    expect(viaHttp!.tokenLogprobs.length).toBe(3);
    expect(viaHttp!.logprob).toBeCloseTo(expected.reduce((a, e) => a + e.logprob, 0), 12);
    const sent = JSON.parse(tgi.requests.at(-1)!.body);
    expect(sent.parameters).toMatchObject({ details: true, decoder_input_details: true, max_new_tokens: 1 });
    expect(sent.inputs).toBe(item.prompt + item.continuation);
  });

  it('503s are retried with our backoff (bounded), not the SDK loop; Retry-After is honoured', async () => {
    const { trained } = await trainedModels();
    tgi = await startTgiServer(trained, { fail503: 3 });
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const [out] = await (await hf.model('x')).generate(['Say the number 1.'], { maxTokens: 3 });
    expect(out!.trim()).toBe('number 1 done');
    expect(tgi.requests.length).toBe(4);
    await tgi.close();

    tgi = await startTgiServer(trained, { fail503: 1, retryAfter: '1' });
    const hf2 = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const t0 = Date.now();
    await (await hf2.model('x')).generate(['Say the number 2.'], { maxTokens: 3 });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(tgi.requests.length).toBe(2);
    await tgi.close();

    tgi = await startTgiServer(trained, { fail503: 1000 });
    const hf3 = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: { ...fast, maxAttempts: 5 } });
    const err = await (await hf3.model('x')).generate(['a'], { maxTokens: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(tgi.requests.length).toBe(5);
    console.log(`hf 503: always-503 server got ${tgi.requests.length} requests (SDK default loop: unbounded); Retry-After 1 waited ${waited} ms`);
  });

  it('sends HF_TOKEN as a bearer token and never puts it into an error', async () => {
    const { trained } = await trainedModels();
    const token = 'hf_SecretMarkerToken0123456789';
    tgi = await startTgiServer(trained, { token: 'hf_theRightOne0123456789' });
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: { HF_TOKEN: token }, retry: fast });
    const err = (await (await hf.model('x')).generate(['a'], { maxTokens: 1 }).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    expect(tgi.requests[0]!.authorization).toBe(`Bearer ${token}`);
    expect(JSON.stringify({ m: err.message, s: err.stack, c: String(err.cause) })).not.toContain(token);
    expect(tgi.requests.length).toBe(1);
  });

  it('Inference Providers mode needs HF_TOKEN (ConfigError naming it) and declares no logprobs', async () => {
    await expect(createHfProvider({ env: {} })).rejects.toThrow(ConfigError);
    await expect(createHfProvider({ env: {} })).rejects.toThrow(/HF_TOKEN/);
    const hf = await createHfProvider({ env: { HF_TOKEN: 'hf_x0123456789abc' }, inferenceProvider: 'together' });
    const chat = await hf.model('meta-llama/Llama-3.1-8B-Instruct');
    expect([...chat.capabilities]).toEqual(['generate']);
    expect(chat.unavailable?.logprobs).toMatch(/no log-probs of a given continuation; give endpointUrl/);
    await expect(hf.model('not a model id')).rejects.toThrow(/owner\/name/);
  });

  it('aligns prefill tokens with a BOS and SentencePiece ▁ spaces', () => {
    const input = 'Hello world ab';
    const r = continuationLogprobs(
      [
        { text: '<s>', logprob: null },
        { text: 'Hello', logprob: null },
        { text: '▁world', logprob: -1 },
        { text: '▁a', logprob: -2 },
        { text: 'b', logprob: -3 },
      ],
      input,
      'Hello world'.length,
    );
    expect(r.tokenLogprobs).toEqual([-2, -3]);
    expect(() => continuationLogprobs([{ text: 'Hi', logprob: null }, { text: 'x', logprob: -1 }], 'Hello', 2)).toThrow(ProviderError);
  });
});

describe('hf provider: Inference Providers (chat completion), with a stub transport (option fetch)', () => {
  it('routes through the provider mapping, sends greedy chat with the token, backs off on 429', async () => {
    const token = 'hf_providersToken0123456789';
    const calls: { url: string; body?: string; auth?: string }[] = [];
    let answered429 = false;
    const stub = async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      calls.push({ url, ...(init?.body ? { body: String(init.body) } : {}), ...(init?.headers ? { auth: new Headers(init.headers).get('authorization') ?? undefined } : {}) });
      const json = (o: unknown, status = 200, headers: Record<string, string> = {}) => new Response(JSON.stringify(o), { status, headers: { 'content-type': 'application/json', ...headers } });
      if (url.includes('/api/models/')) return json({ _id: 'x', id: 'owner/instruct-model', inferenceProviderMapping: { together: { status: 'live', providerId: 'together/instruct-model-turbo', task: 'conversational' } } });
      if (!answered429) {
        answered429 = true;
        return json({ error: 'rate limited' }, 429, { 'retry-after': '1' });
      }
      return json({ id: 'c1', object: 'chat.completion', created: 1, model: 'together/instruct-model-turbo', choices: [{ index: 0, message: { role: 'assistant', content: 'a judge says: suspicious STOP more' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
    };
    {
      const hf = await createHfProvider({ env: { HF_TOKEN: token }, inferenceProvider: 'together', retry: fast, fetch: stub as typeof fetch });
      const model = await hf.model('owner/instruct-model');
      const t0 = Date.now();
      const [out] = await model.generate(['Is this row suspicious?'], { maxTokens: 20, seed: 4, stop: ['STOP'] });
      const waited = Date.now() - t0;
      expect(out).toBe('a judge says: suspicious ');
      expect(waited).toBeGreaterThanOrEqual(1000);
      const chats = calls.filter((c) => c.url.includes('/chat/completions'));
      expect(chats.length).toBe(2);
      expect(chats[1]!.url).toBe('https://router.huggingface.co/together/v1/chat/completions');
      expect(JSON.parse(chats[1]!.body!)).toEqual({ messages: [{ role: 'user', content: 'Is this row suspicious?' }], max_tokens: 20, temperature: 0, seed: 4, stop: ['STOP'], model: 'together/instruct-model-turbo' });
      expect(chats[1]!.auth).toBe(`Bearer ${token}`);
    }
  });
});
