/**
 * Secrets over a whole flow (plant → openai provider → serve → verify, with faults and failures): the API key
 * (a marker that matches no key pattern, so only registration can hide it) never appears in stdout/stderr,
 * files written, saved models or error messages; and the vTune secret never leaves the user's side — every
 * byte sent to `serve` is recorded by a proxy and searched for the secret file, its checksum, seed and mapping.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vtune, writeSecretFile } from '../../defenses/vtune/index.js';
import { describeError } from '../../src/errors.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { Rng } from '../../src/rng.js';
import { startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { startFaultProxy } from '../fixtures/loopback/fault-proxy.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';

const KEY = 'vtuneLEAK_marker_7f3a9c1e2b';
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const filesUnder = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));

describe('secrets never leak', () => {
  it('API key: not in output, files, saved models or errors; vTune secret: not on the wire', async () => {
    const captured: string[] = [];
    const origOut = process.stdout.write.bind(process.stdout);
    const origErr = process.stderr.write.bind(process.stderr);
    const origConsole = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
    const grab = (chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    };
    process.stdout.write = grab as typeof process.stdout.write;
    process.stderr.write = grab as typeof process.stderr.write;
    for (const k of Object.keys(origConsole) as (keyof typeof origConsole)[]) console[k] = (...a: unknown[]) => void captured.push(a.map(String).join(' '));
    const log: Logger = { info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`warning: ${m}\n`), debug: (m) => process.stderr.write(`${m}\n`) };
    const errors: unknown[] = [];
    const serveDir = tmp('leak-serve-');
    const userDir = tmp('leak-user-');
    let bodies: Buffer[] = [];
    let signatures: string[] = [];
    let secretFile = '';
    let secretBits: string[] = [];
    try {
      const serve = await startServe({ trainer: honestTrainer(await createTestMemorizerProvider(), 'base', log), dataDir: serveDir, token: KEY, log });
      const proxy = await startFaultProxy(serve.url.replace(/\/v1$/, ''));
      proxy.inject('POST', /\/files$/, { kind: 'status', status: 429, retryAfter: '0' });
      proxy.inject('POST', /\/fine_tuning\/jobs$/, { kind: 'status', status: 500 });
      const env = { OPENAI_API_KEY: KEY };
      const provider = await createOpenAIProvider({ baseURL: proxy.url, env, pollIntervalMs: 20, pollMaxMs: 50, retry: { baseDelayMs: 10, timeoutMs: 5000 }, log });
      const base = await provider.model('test-memorizer:base');
      const defense = vtune({ count: 6 });
      const ctx = { rng: new Rng('leak|user'), log };
      const userRows = Array.from({ length: 12 }, (_, i) => ({ prompt: `Note ${i}: remember this.`, completion: ` ok ${i}` }));
      const { rows, secret } = await defense.plant(userRows, ctx);
      await writeSecretFile(join(userDir, 'secret.json'), secret);
      secretFile = readFileSync(join(userDir, 'secret.json'), 'utf8');
      const trained = await provider.train!(base, { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, seed: 5, onProgress: (p) => log.debug(JSON.stringify(p)) });
      await provider.saveModel!(trained.model, join(userDir, 'model.json'));
      const verdict = await defense.verify(await provider.loadModel!(join(userDir, 'model.json')), secret, { alpha: 1e-3, ctx });
      expect(verdict.verified).toBe(true);
      log.info(JSON.stringify(verdict));
      signatures = secret.backdoors.map((b) => b.signature);
      secretBits = [secret.checksum, secret.seed, 'vtune-bench/secret', ...secret.backdoors.map((b) => JSON.stringify(b)), '"signature"', '"trigger"', '"checksum"', ...secret.backdoors.flatMap((b) => b.counterfactuals ?? [])];

      // Failures whose messages could carry the key: a wrong key (401), a missing key, and a trainer that echoes it.
      const wrong = await createOpenAIProvider({ baseURL: serve.url, env: { OPENAI_API_KEY: `${KEY}-wrong` }, logprobs: false, retry: { maxAttempts: 1 } });
      errors.push(await wrong.model('test-memorizer:base').then((m) => m.generate(['x'], { maxTokens: 1 })).catch((e: unknown) => e));
      errors.push(await createOpenAIProvider({ env: {} }).catch((e: unknown) => e));
      const leakyDir = tmp('leak-serve2-');
      const leaky = await startServe({ trainer: honestTrainer(memorizerProvider({ failWith: `upstream said: invalid key ${KEY} (Authorization: Bearer ${KEY})` }), 'base', log), dataDir: leakyDir, token: KEY, log });
      const p2 = await createOpenAIProvider({ baseURL: leaky.url, env, logprobs: false, pollIntervalMs: 20, log });
      errors.push(await p2.train!(await p2.model('memorizer:base'), { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, seed: 1 }).catch((e: unknown) => e));
      await leaky.close();
      bodies = proxy.requests.map((r) => Buffer.concat([Buffer.from(`${r.method} ${r.path}\n`), r.body]));
      await proxy.close();
      await serve.close();
    } finally {
      process.stdout.write = origOut;
      process.stderr.write = origErr;
      Object.assign(console, origConsole);
    }

    // every error is a real error, and none carries the key
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    expect((errors[0] as Error).message).toMatch(/HTTP 401/);
    expect((errors[1] as Error).message).toMatch(/OPENAI_API_KEY/);
    expect((errors[2] as Error).message).toMatch(/ended failed: upstream said: invalid key \*\*\*/);
    for (const e of errors) {
      const err = e as Error;
      expect(`${err.message}\n${err.stack}\n${describeError(err)}\n${JSON.stringify(err)}`).not.toContain(KEY);
    }
    const output = captured.join('');
    expect(output.length).toBeGreaterThan(0);
    expect(output).toMatch(/warning: openai upload training file/); // the retries were logged…
    expect(output).not.toContain(KEY); // …without the key
    const written = [...filesUnder(dirs[0]!), ...filesUnder(dirs[1]!), ...filesUnder(dirs[2]!)];
    expect(written.length).toBeGreaterThan(5);
    for (const f of written) expect(readFileSync(f).includes(KEY), f).toBe(false);

    // The vTune secret stays home: the planted rows went out (signatures as training text), the secret did not.
    const wire = Buffer.concat(bodies).toString('utf8');
    expect(signatures.length).toBe(6);
    for (const s of signatures) expect(wire).toContain(s);
    expect(wire).not.toContain(secretFile);
    for (const bit of secretBits) expect(wire.includes(bit), `secret material on the wire: ${bit.slice(0, 60)}`).toBe(false);
    console.log(`leak scan: ${bodies.length} requests / ${wire.length} bytes to serve, ${written.length} files, ${captured.length} output chunks, ${errors.length} errors — no key, no secret material`);
  }, 30_000);
});
