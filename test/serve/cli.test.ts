/**
 * `vtune-bench serve` as a real process: bad requests are refused with the right status and never crash it
 * (401 missing/wrong token, 413 oversize upload, 400 malformed JSONL naming the line, path traversal in a file
 * id, malformed JSON and garbage HTTP), then the real openai SDK flow still works against the same process:
 * honest → verified, `--attack return-base` → not verified. The token never appears in its output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { vtune } from '../../defenses/vtune/index.js';
import { resolveBaseModel } from '../../src/cli/commands/serve.js';
import { ConfigError } from '../../src/errors.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { Rng } from '../../src/rng.js';
import { repoRoot } from '../../src/shared-path.js';
import type { Logger } from '../../src/types.js';

const TOKEN = 'cli-serve-token-MARKER-42';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
let child: ChildProcess | undefined;
let dir: string | undefined;
let out = '';
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startCli(extra: string[]): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'serve-cli-'));
  out = '';
  child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--base-model', 'test-memorizer:base', '--port', '0', '--data-dir', dir, '--verbose', ...extra], {
    cwd: repoRoot,
    env: { ...process.env, VTUNE_SERVE_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  for (let i = 0; i < 300; i++) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
    if (m) return m[1]!;
    if (child.exitCode !== null) throw new Error(`serve exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`serve did not start: ${out}`);
}

const auth = { authorization: `Bearer ${TOKEN}` };
function multipart(content: string | Buffer, purpose = 'fine-tune') {
  const fd = new FormData();
  fd.append('purpose', purpose);
  fd.append('file', new Blob([content]), 'train.jsonl');
  return fd;
}
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: auth }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end();
  });
}
function garbage(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => s.write('NOT HTTP AT ALL\r\n\r\n'));
    let b = '';
    s.on('data', (c) => (b += c));
    s.on('close', () => resolve(b));
    s.on('error', () => resolve(b));
  });
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));
}

async function verifyFlow(url: string) {
  const provider = await createOpenAIProvider({ baseURL: url, env: { OPENAI_API_KEY: TOKEN }, pollIntervalMs: 30, pollMaxMs: 100, retry: { timeoutMs: 5000, baseDelayMs: 20 } });
  const base = await provider.model('test-memorizer:base');
  const defense = vtune({ count: 6 });
  const ctx = { rng: new Rng('serve-cli|user'), log: quiet };
  const userRows = Array.from({ length: 15 }, (_, i) => ({ prompt: `Fact ${i}: the sky is`, completion: ` blue ${i}` }));
  const { rows, secret } = await defense.plant(userRows, ctx);
  const trained = await provider.train!(base, { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, seed: 11 });
  return defense.verify(trained.model, secret, { alpha: 1e-3, ctx });
}

describe('vtune-bench serve (CLI process)', () => {
  it('refuses bad requests without crashing, then serves an honest fine-tune that verifies', async () => {
    const url = await startCli(['--max-upload-mb', '0.01']);
    const statuses: Record<string, number> = {};

    statuses.noToken = (await fetch(`${url}/models`)).status;
    statuses.wrongToken = (await fetch(`${url}/models`, { headers: { authorization: 'Bearer wrong-token-123' } })).status;
    const big = await fetch(`${url}/files`, { method: 'POST', headers: auth, body: multipart(Buffer.alloc(20_000, 'x')) });
    statuses.oversize = big.status;
    const bad = await fetch(`${url}/files`, { method: 'POST', headers: auth, body: multipart('{"prompt":"a","completion":"b"}\n{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n{"prompt": oops}\n') });
    statuses.malformedJsonl = bad.status;
    const badBody = (await bad.json()) as { error: { message: string; code: string } };
    const noAssistant = await fetch(`${url}/files`, { method: 'POST', headers: auth, body: multipart('{"messages":[{"role":"user","content":"q"}]}\n') });
    const trav1 = await rawGet(url, '/v1/files/..%2F..%2F..%2Fetc%2Fpasswd/content');
    const trav2 = await rawGet(url, '/v1/files/../../../../etc/passwd');
    const trav3 = await rawGet(url, '/v1/fine_tuning/jobs/..%2Fjobs%2F..%2F..%2Fx/events');
    statuses.traversalEncoded = trav1.status;
    statuses.traversalDots = trav2.status;
    statuses.traversalJob = trav3.status;
    statuses.badJson = (await fetch(`${url}/fine_tuning/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"model": ' })).status;
    statuses.badPercent = (await rawGet(url, '/v1/files/%E0%A4%A')).status;
    const g = await garbage(url);

    expect(statuses).toEqual({ noToken: 401, wrongToken: 401, oversize: 413, malformedJsonl: 400, traversalEncoded: 400, traversalDots: 404, traversalJob: 400, badJson: 400, badPercent: 400 });
    expect(badBody.error.message).toMatch(/^line 3: invalid JSON/);
    expect(noAssistant.status).toBe(400);
    expect(((await noAssistant.json()) as { error: { message: string } }).error.message).toMatch(/line 1: the last message must be the assistant's answer/);
    for (const t of [trav1, trav2, trav3]) expect(t.body).not.toMatch(/root:/);
    expect(g).toMatch(/^HTTP\/1\.1 400/);
    console.log(`serve CLI refusals: ${JSON.stringify(statuses)}; line error: "${badBody.error.message}"`);

    // Still alive and honest: the full SDK flow verifies.
    expect((await fetch(`${url}/models`, { headers: auth })).status).toBe(200);
    const v = await verifyFlow(url);
    expect(v).toMatchObject({ verified: true, k: 6, n: 6 });
    console.log(`serve CLI honest: k=${v.k}/${v.n} log10p=${v.log10p.toFixed(2)}`);

    child!.kill('SIGTERM');
    const code = await new Promise((r) => child!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(out).not.toContain(TOKEN);
    for (const f of filesUnder(dir!)) expect(readFileSync(f).includes(TOKEN), f).toBe(false);
  }, 60_000);

  it('--attack return-base: the same flow is not verified', async () => {
    const url = await startCli(['--attack', 'return-base']);
    expect(out).toMatch(/attack return-base/);
    const v = await verifyFlow(url);
    expect(v.verified).toBe(false);
    expect(v.k).toBe(0);
    console.log(`serve CLI --attack return-base: k=${v.k}/${v.n} log10p=${v.log10p}`);
  }, 60_000);

  it('refuses to start without a token, or with an oracle attack', async () => {
    const run = (args: string[], env: Record<string, string | undefined>) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--port', '0', ...args], { cwd: repoRoot, env: { ...process.env, VTUNE_SERVE_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => resolve({ code, err }));
      });
    const [a, b] = await Promise.all([
      run(['--base-model', 'test-memorizer:base'], {}),
      run(['--base-model', 'test-memorizer:base', '--attack', 'oracle-keep-only-flagged'], { VTUNE_SERVE_TOKEN: TOKEN }),
    ]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/set VTUNE_SERVE_TOKEN, or pass --token-file/);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/oracle/);
  }, 60_000);

  it('--base-model / --provider resolution', () => {
    expect(resolveBaseModel('local:random-tiny')).toEqual({ provider: 'local', name: 'random-tiny' });
    expect(resolveBaseModel('local:hf:owner/repo/m.gguf')).toEqual({ provider: 'local', name: 'hf:owner/repo/m.gguf' });
    expect(resolveBaseModel('base', 'test-memorizer')).toEqual({ provider: 'test-memorizer', name: 'base' });
    expect(resolveBaseModel('test-memorizer:base', 'test-memorizer')).toEqual({ provider: 'test-memorizer', name: 'base' });
    expect(() => resolveBaseModel('random-tiny')).toThrow(/--base-model must be <provider>:<model>/);
    expect(() => resolveBaseModel('x', 'lokal')).toThrow(ConfigError);
    expect(() => resolveBaseModel('x', 'lokal')).toThrow(/Did you mean 'local'/);
  });
});
