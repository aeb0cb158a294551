/**
 * The `hf` provider against a loopback server answering like TGI, through @huggingface/inference 4.13.16:
 * plant → train → verify through the endpoint (verified for the trained model, not for the base), exact
 * prefill log-probs, our backoff instead of the SDK's 503 loop, Retry-After, auth errors without the token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ProviderError } from '../../src/errors.js';
import { continuationLogprobs, createHfProvider } from '../../src/providers/hf.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { plant, verify } from '../fixtures/loopback/mini-vtune.js';
import { type TgiServer, startTgiServer } from '../fixtures/loopback/tgi-server.js';

const userRows = Array.from({ length: 10 }, (_, i) => ({ prompt: `Say the number ${i}.`, completion: ` ${i}` }));
const fast = { timeoutMs: 3000, maxTotalMs: 6000, baseDelayMs: 20, maxDelayMs: 100 };
let tgi: TgiServer | undefined;
afterEach(async () => {
  await tgi?.close();
  tgi = undefined;
});

async function trainedModels() {
  const mem = memorizerProvider();
  const base = await mem.model('base');
  const { rows, secret } = plant(userRows, 6, 'hf');
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
    expect(sent.parameters).toMatchObject({ do_sample: false, max_new_tokens: 4, return_full_text: false });
    await tgi.close();

    tgi = await startTgiServer(base);
    const hfBase = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const vb = await verify(await hfBase.model('tgi-base'), secret);
    expect(vb.verified).toBe(false);
    expect(vb.k).toBe(0);
    console.log(`hf/TGI: trained k=${v.k}/${v.n} log10p=${v.log10p.toFixed(2)}; base k=${vb.k}/${vb.n} log10p=${vb.log10p}`);
  });

  it('scores a continuation exactly from the prefill (decoder_input_details)', async () => {
    const { trained, secret } = await trainedModels();
    tgi = await startTgiServer(trained);
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const model = await hf.model('tgi');
    const b = secret.backdoors[0]!;
    const item = { prompt: `${b.prompt} ${b.trigger}`, continuation: ` ${b.signature}` };
    const [viaHttp] = await model.score!([item]);
    const [direct] = await trained.score!([item]);
    expect(viaHttp!.logprob).toBeCloseTo(direct!.logprob, 10);
    expect(viaHttp!.tokenLogprobs.length).toBe(1);
    const sent = JSON.parse(tgi.requests.at(-1)!.body);
    expect(sent.parameters).toMatchObject({ details: true, decoder_input_details: true, max_new_tokens: 1 });
    expect(sent.inputs).toBe(item.prompt + item.continuation);
  });

  it('503s are retried with our backoff (bounded), not the SDK loop; Retry-After is honoured', async () => {
    const { trained } = await trainedModels();
    tgi = await startTgiServer(trained, { fail503: 3 });
    const hf = await createHfProvider({ endpointUrl: tgi.url, env: {}, retry: fast });
    const [out] = await (await hf.model('x')).generate(['Say the number 1.'], { maxTokens: 3 });
    expect(out).toBe(' 1');
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
    expect([...(await hf.model('meta-llama/Llama-3.1-8B-Instruct')).capabilities]).toEqual(['generate']);
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
