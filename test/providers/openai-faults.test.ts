/**
 * Fault injection between the `openai` provider and `serve`, through a loopback proxy: every fault ends in a
 * retry that succeeds or in a ProviderError; nothing hangs; no fault ever makes a second fine-tuning job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { type OpenAIProviderOptions, createOpenAIProvider } from '../../src/providers/openai.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/loopback/fault-proxy.js';
import { type MemorizerOptions, memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { plant, verify } from '../fixtures/loopback/vtune-helpers.js';

const TOKEN = 'serve-token-faults-0123456789';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const userRows = Array.from({ length: 12 }, (_, i) => ({ prompt: `Item ${i}: name a colour.`, completion: ` colour ${i}` }));
const hyper = { epochs: 1, learningRate: 1e-3, batchSize: 4 };
const fast: OpenAIProviderOptions['retry'] = { timeoutMs: 2000, maxTotalMs: 8000, baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 6 };

let serve: ServeHandle | undefined;
let proxy: FaultProxy | undefined;
let dir: string | undefined;
afterEach(async () => {
  await proxy?.close();
  await serve?.close();
  proxy = serve = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function setup(mem: MemorizerOptions = {}, retry = fast, port = 0) {
  dir ??= mkdtempSync(join(tmpdir(), 'serve-faults-'));
  serve = await startServe({ trainer: honestTrainer(memorizerProvider(mem), 'base', quiet), dataDir: dir, token: TOKEN, port });
  proxy = await startFaultProxy(serve.url.replace(/\/v1$/, ''));
  const warnings: string[] = [];
  const provider = await createOpenAIProvider({
    baseURL: proxy.url,
    env: { OPENAI_API_KEY: TOKEN },
    logprobs: false,
    pollIntervalMs: 20,
    pollMaxMs: 60,
    retry,
    log: { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) },
  });
  const base = await provider.model('memorizer:base');
  const { rows, secret } = await plant(userRows, 6, 'faults');
  return { provider, base, rows, secret, warnings };
}

const jobCreates = (p: FaultProxy) => p.requests.filter((r) => r.method === 'POST' && /\/fine_tuning\/jobs$/.test(r.path));
const serverJobs = async () => (await (await fetch(`${serve!.url}/fine_tuning/jobs?limit=100`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { data: { id: string; status: string; attempts?: number }[] };

describe('openai provider under injected faults', () => {
  it('429 with Retry-After: waits at least that long, then one job', async () => {
    const trainCalls = { n: 0 };
    const { provider, base, rows, secret } = await setup({ trainCalls });
    proxy!.inject('POST', /\/fine_tuning\/jobs$/, { kind: 'status', status: 429, retryAfter: '1' });
    const t0 = Date.now();
    const r = await provider.train!(base, { rows, hyper, seed: 1 });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(jobCreates(proxy!).length).toBe(2);
    expect((await serverJobs()).data.length).toBe(1);
    expect(trainCalls.n).toBe(1);
    expect((await verify(r.model, secret)).verified).toBe(true);
    console.log(`429 Retry-After 1: train() took ${waited} ms, job-create requests ${jobCreates(proxy!).length}, jobs on server 1`);
  });

  it('500s on upload and job creation: retried, still exactly one job', async () => {
    const { provider, base, rows } = await setup();
    proxy!.inject('POST', /\/files$/, { kind: 'status', status: 500 }, 2);
    proxy!.inject('POST', /\/fine_tuning\/jobs$/, { kind: 'status', status: 502 }, 2);
    await provider.train!(base, { rows, hyper, seed: 2 });
    expect((await serverJobs()).data.length).toBe(1);
    // After an ambiguous 5xx the provider consulted the job list before creating again.
    expect(proxy!.requests.filter((r) => r.method === 'GET' && /\/fine_tuning\/jobs\?/.test(r.path)).length).toBeGreaterThanOrEqual(2);
  });

  it('connection reset AFTER the server created the job: adopts it instead of creating a second one', async () => {
    const trainCalls = { n: 0 };
    const { provider, base, rows, secret } = await setup({ trainCalls });
    proxy!.inject('POST', /\/fine_tuning\/jobs$/, { kind: 'reset-after' });
    proxy!.inject('POST', /\/files$/, { kind: 'reset-after' });
    const r = await provider.train!(base, { rows, hyper, seed: 3 });
    expect(jobCreates(proxy!).length).toBe(1); // recovered from the list, never re-posted
    expect((await serverJobs()).data.length).toBe(1);
    const files = (await (await fetch(`${serve!.url}/files`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { data: unknown[] };
    expect(files.data.length).toBe(1); // the upload was found by its content-hash name
    expect(trainCalls.n).toBe(1);
    expect((await verify(r.model, secret)).verified).toBe(true);
  });

  it('a job creation that stalls after reaching the server: timeout, then the job is found, not re-created', async () => {
    const trainCalls = { n: 0 };
    const { provider, base, rows, secret } = await setup({ trainCalls }, { ...fast, timeoutMs: 400 });
    proxy!.inject('POST', /\/fine_tuning\/jobs$/, { kind: 'stall-after' });
    const r = await provider.train!(base, { rows, hyper, seed: 9 });
    expect(jobCreates(proxy!).length).toBe(1);
    expect((await serverJobs()).data.length).toBe(1);
    expect(trainCalls.n).toBe(1);
    expect((await verify(r.model, secret)).verified).toBe(true);
  });

  it('connection reset before forwarding and a stalled response: retried after the per-request timeout', async () => {
    const { provider, base, rows } = await setup({}, { ...fast, timeoutMs: 300 });
    proxy!.inject('POST', /\/files$/, { kind: 'reset-before' });
    proxy!.inject('GET', /\/fine_tuning\/jobs\/ftjob-[^/]+$/, { kind: 'stall' });
    const t0 = Date.now();
    await provider.train!(base, { rows, hyper, seed: 4 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(proxy!.requests.some((r) => r.fault === 'stall')).toBe(true);
    expect((await serverJobs()).data.length).toBe(1);
  });

  it('a job that ends failed: ProviderError with the reason, not retried', async () => {
    const { provider, base, rows } = await setup({ failWith: 'out of GPU memory (simulated)' });
    const err = await provider.train!(base, { rows, hyper, seed: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(/ended failed: .*out of GPU memory \(simulated\)/);
    expect((err as ProviderError).retryable).toBe(false);
    expect(jobCreates(proxy!).length).toBe(1);
  });

  it('persistent 503s: a ProviderError within the time bound', async () => {
    const { provider, base, rows } = await setup({}, { ...fast, maxTotalMs: 1500, maxAttempts: 50 });
    proxy!.inject('POST', /\/files$/, { kind: 'status', status: 503 }, 1000);
    const t0 = Date.now();
    const err = await provider.train!(base, { rows, hyper, seed: 6 }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/upload training file .*failed after retrying/);
    expect(took).toBeLessThan(4000);
    console.log(`persistent 503: gave up after ${took} ms and ${proxy!.requests.filter((r) => r.fault === 'status').length} attempts`);
  });

  it('abort while training: the job is cancelled on the server', async () => {
    const { provider, base, rows } = await setup({ stepMs: 200 });
    const ctl = new AbortController();
    const p = provider.train!(base, { rows, hyper: { ...hyper, epochs: 10 }, seed: 7, signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('SIGINT')), 400);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/cancelled/);
    expect((await serverJobs()).data[0]!.status).toBe('cancelled');
  });

  it('server restarted mid-job: the job resumes and the provider keeps polling until it succeeds', async () => {
    const { provider, base, rows, secret } = await setup({ stepMs: 60 }, { ...fast, maxTotalMs: 10_000 });
    const port = serve!.port;
    const p = provider.train!(base, { rows, hyper: { ...hyper, epochs: 4 }, seed: 8 });
    p.catch(() => {});
    // wait until the job runs, then kill and restart the server on the same port and data dir
    for (let i = 0; i < 100 && !(await serverJobs()).data.some((j) => j.status === 'running'); i++) await new Promise((r) => setTimeout(r, 20));
    await serve!.close();
    await new Promise((r) => setTimeout(r, 300));
    serve = await startServe({ trainer: honestTrainer(memorizerProvider({ stepMs: 10 }), 'base', quiet), dataDir: dir!, token: TOKEN, port });
    const r = await p;
    const jobs = (await serverJobs()).data;
    expect(jobs.length).toBe(1);
    expect(jobs[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await verify(r.model, secret)).verified).toBe(true);
    // a second restart after success: the model is re-opened from its artifact, still verified
    await serve!.close();
    serve = await startServe({ trainer: honestTrainer(memorizerProvider(), 'base', quiet), dataDir: dir!, token: TOKEN, port });
    expect((await verify(r.model, secret)).verified).toBe(true);
  });
});
