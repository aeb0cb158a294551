/**
 * `vtune-bench verify` against the loopback bad server (issue 14): exit 1 accuses the provider, so a broken
 * server must end in an error (exit 2: `run` throws, main.ts maps every throw to 2), never in a verdict. Also:
 * one AbortSignal from the CLI to every request — a hanging server is given up on at --timeout with nothing left
 * in flight and nothing more sent (checked in-process and through a spawned main.ts, for the real exit code);
 * the numeric options are validated; a null mode the model cannot score is refused before any query; and no
 * file written here (secret, captured stdout/stderr, serve's data folder) contains the API key.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, VtuneError } from '../../src/errors.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import { repoRoot } from '../../src/shared-path.js';
import type { Logger } from '../../src/types.js';
import { writeSecretFile } from '../../defenses/vtune/secret.js';
import { type BehaviourName, INFERENCE, behaviourNames, behaviours, startBadServer } from '../fixtures/loopback/bad-server.js';
import type { FaultProxy } from '../fixtures/loopback/fault-proxy.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { plant } from '../fixtures/loopback/vtune-helpers.js';

const KEY = 'sk-verifyfaults-0123456789abcdef';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const userRows = Array.from({ length: 12 }, (_, i) => ({ prompt: `Item ${i}: name a fruit.`, completion: ` fruit ${i}` }));
const N = 5; // backdoors: with the provider's concurrency of 4, one query waits in the queue

let work: string;
let serve: ServeHandle;
let secretPath: string;
let proxy: FaultProxy | undefined;
let out: string[];
let err: string[];
let runs = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'verify-faults-'));
  serve = await startServe({ trainer: honestTrainer(memorizerProvider(), 'base', quiet), dataDir: join(work, 'serve'), token: KEY });
  const { secret } = await plant(userRows, N, 'verify-faults');
  secretPath = join(work, 'secret.json');
  await writeSecretFile(secretPath, secret);
});
afterAll(async () => {
  // Every file written by serve, verify and this suite: the key must be in none of them.
  const files: string[] = [];
  const walk = (d: string) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : files.push(join(d, f))));
  walk(work);
  try {
    expect(files.length).toBeGreaterThan(behaviourNames.length); // the logs of every run, the secret, serve's files
    for (const f of files) expect(readFileSync(f, 'latin1'), f).not.toContain(KEY);
  } finally {
    await serve.close();
    rmSync(work, { recursive: true, force: true });
  }
});
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  // Keep what verify printed, as a user's terminal log would: scanned for the key in afterAll.
  writeFileSync(join(work, `run-${++runs}.log`), `${out.join('')}\n--- stderr ---\n${err.join('')}`);
  await proxy?.close();
  proxy = undefined;
});

const upstream = () => serve.url.replace(/\/v1$/, '');
const inference = (p: FaultProxy) => p.requests.filter((r) => r.method === 'POST' && INFERENCE.test(r.path));
const args = (extra: Record<string, unknown> = {}) => ({ secret: secretPath, model: 'openai:memorizer:base', alpha: 1e-3, slack: 4, timeout: 3, json: true, ...extra });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function pointAt(behaviour: BehaviourName, times?: number) {
  proxy = await startBadServer(upstream(), behaviour, times);
  vi.stubEnv('OPENAI_API_KEY', KEY);
  vi.stubEnv('OPENAI_BASE_URL', proxy.url);
  vi.stubEnv('VTUNE_OPENAI_API', '');
  return proxy;
}
/** Waits (bounded) until the bad server has no open connection left. */
async function allClosed(p: FaultProxy): Promise<number> {
  for (let i = 0; i < 100 && p.connections().open > 0; i++) await pause(20);
  return p.connections().open;
}

describe('verify against a bad server: an error (exit 2), never a verdict', () => {
  it('a healthy server answers, and the untrained model is NOT VERIFIED (exit 1): the control for the cases below', async () => {
    await pointAt('hang', 0);
    expect(await verifyCommand.run(args())).toBe(1);
    expect(JSON.parse(out.join(''))).toMatchObject({ verified: false, k: 0, n: N });
  });

  for (const name of behaviourNames) {
    it(`${name}: verify throws (exit 2) naming openai and the URL; no verdict printed; nothing sent after the failure`, async () => {
      const p = await pointAt(name);
      const e = await verifyCommand.run(args()).then(
        (code) => new Error(`verify returned exit code ${String(code)}`),
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(VtuneError);
      expect((e as Error).message).toContain('openai');
      expect((e as Error).message).toContain(p.origin);
      expect((e as Error).message).not.toContain(KEY);
      expect(out.join('')).toBe(''); // no verdict, not even NOT VERIFIED
      // Requests already on the wire when the failure came may still be arriving: let them, then nothing more.
      await pause(300);
      const sent = inference(p).length;
      await pause(300);
      expect(inference(p).length).toBe(sent);
      // Errors that are not retried end the batch at the first reply: the fifth, queued query is never sent.
      if (behaviours[name].outcome === 'error') expect(sent).toBeLessThanOrEqual(4);
      expect(await allClosed(p)).toBe(0);
    }, 30_000);
  }

  it('hang: given up on at --timeout; the queued query never sent, every request in flight aborted and its socket closed', async () => {
    const p = await pointAt('hang');
    const e = await verifyCommand.run(args({ timeout: 2 })).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/openai chat completion \(http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\) cancelled: verification did not finish within 2 s \(--timeout\)/);
    expect(inference(p).length).toBe(4); // the provider's concurrency: the fifth query stayed queued and was dropped
    expect(await allClosed(p)).toBe(0);
    await pause(500);
    expect(inference(p).length).toBe(4);
  }, 30_000);

  it('500 storm: retries print progress on stderr (attempt, reason, wait), then exit 2', async () => {
    await pointAt('500-storm');
    await expect(verifyCommand.run(args())).rejects.toThrow(VtuneError);
    expect(err.join('')).toMatch(/warning: openai chat completion \(http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\): attempt 1 of 6 failed \(.*500.*\); retrying in \d+\.\d s/);
  }, 30_000);

  it('a spawned `vtune-bench verify` against a hanging server exits 2 within --timeout + 5 s of its first request, leaving no request in flight', async () => {
    const p = await pointAt('hang');
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'verify', '--secret', secretPath, '--model', 'openai:memorizer:base', '--timeout', '3'], {
      cwd: repoRoot,
      env: { ...process.env, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: p.url, VTUNE_OPENAI_API: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const exitedAt = Date.now();
    writeFileSync(join(work, 'spawned.log'), `${stdout}\n--- stderr ---\n${stderr}`);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/error: openai chat completion \(http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\) cancelled: verification did not finish within 3 s \(--timeout\)/);
    const first = inference(p)[0]!.at;
    // The deadline counts from when verify starts querying (after start-up, which a loaded machine makes slow).
    console.log(`spawned verify: exit ${code} ${((exitedAt - first) / 1000).toFixed(1)} s after its first request (--timeout 3)`);
    expect(exitedAt - first).toBeLessThanOrEqual((3 + 5) * 1000);
    expect(inference(p).length).toBe(4);
    expect(await allClosed(p)).toBe(0);
  }, 60_000);
});

describe('verify: numeric options and null modes checked before any query', () => {
  it.each([
    [{ slack: -20 }, /--slack must be an integer from 0 to 256.*got -20/],
    [{ slack: -1 }, /--slack must be an integer from 0 to 256.*got -1/],
    [{ slack: 2.5 }, /--slack must be an integer/],
    [{ slack: 100_000 }, /--slack must be an integer from 0 to 256/],
    [{ slack: Number.NaN }, /--slack must be a number, got 'NaN'/],
    [{ slack: [1, 2] }, /--slack was given 2 times/],
    [{ alpha: 0 }, /--alpha must be between 0 and 1/],
    [{ alpha: 1.5 }, /--alpha must be between 0 and 1/],
    [{ timeout: 0 }, /--timeout must be a number of seconds above 0/],
    [{ timeout: -5 }, /--timeout must be a number of seconds above 0/],
  ])('%o is refused with a ConfigError naming the option, and no request is sent', async (bad, message) => {
    const p = await pointAt('hang', 0);
    const e = await verifyCommand.run(args(bad)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(message);
    expect(p.requests.length).toBe(0);
  });

  it('--slack 0 and 256 are accepted', async () => {
    await pointAt('hang', 0);
    expect(await verifyCommand.run(args({ slack: 0 }))).toBe(1);
    expect(await verifyCommand.run(args({ slack: 256 }))).toBe(1);
  }, 30_000);

  it('--null-mode base-model with a chat-API base model: refused up front (exit 2) saying why, no query sent', async () => {
    const p = await pointAt('hang', 0);
    const e = await verifyCommand.run(args({ nullMode: 'base-model', baseModel: 'openai:memorizer:base' })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/--null-mode base-model: --base-model 'openai:memorizer:base' cannot score the signatures: the openai provider generates through chat completions/);
    expect(p.requests.length).toBe(0);
  });
});
