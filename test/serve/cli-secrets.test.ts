/**
 * `vtune-bench serve` as a process (issue 14, items 7, 11 and 13): it refuses to start on a base model that
 * does not exist; the token comes from $VTUNE_SERVE_TOKEN or --token-file (--token works, with a warning that
 * `ps` shows it); and after a session that puts the token everywhere a client could (query strings, headers,
 * paths, a wrong-token 401), no file the server wrote — its data folder and its log — contains the token.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { readServeToken } from '../../src/cli/commands/serve.js';
import { ConfigError, InputError, redactSecrets } from '../../src/errors.js';
import { repoRoot } from '../../src/shared-path.js';

const TOKEN = 'cli-secret-scan-TOKEN-5e4d3c2b1a';
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function serveProcess(args: string[], env: Record<string, string | undefined> = {}) {
  const c = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, VTUNE_SERVE_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(c);
  const out = { text: '' };
  c.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out.text += d.toString()));
  const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
  async function listening(): Promise<string> {
    for (let i = 0; i < 600; i++) {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out.text);
      if (m) return m[1]!;
      if (c.exitCode !== null) throw new Error(`serve exited ${c.exitCode}: ${out.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`serve did not start: ${out.text}`);
  }
  return { child: c, out, exited, listening };
}
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'serve-cli-secrets-'));
  dirs.push(d);
  return d;
}
function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));
}

describe('vtune-bench serve: start-up and secrets', () => {
  it('--base-model local:nope: refused with a clear error and exit 2, never listening', async () => {
    const dataDir = join(tmp(), 'data');
    const p = serveProcess(['--base-model', 'local:nope', '--data-dir', dataDir], { VTUNE_SERVE_TOKEN: TOKEN });
    const code = await p.exited;
    expect(code).toBe(2);
    expect(p.out.text).toMatch(/error: serve: cannot open the base model 'local:nope': .*unknown local model 'nope'/);
    expect(p.out.text).not.toMatch(/listening/);
  }, 60_000);

  it('--token-file is accepted silently; --token warns that ps shows it; both options is an error', async () => {
    const d = tmp();
    const tokenFile = join(d, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const fromFile = serveProcess(['--base-model', 'test-memorizer:base', '--data-dir', join(d, 'a'), '--token-file', tokenFile]);
    const url = await fromFile.listening();
    expect((await fetch(`${url}/models`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${url}/models`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect(fromFile.out.text).not.toMatch(/warning/);
    fromFile.child.kill('SIGTERM');
    expect(await fromFile.exited).toBe(0);

    const onArgv = serveProcess(['--base-model', 'test-memorizer:base', '--data-dir', join(d, 'b'), '--token', TOKEN]);
    await onArgv.listening();
    expect(onArgv.out.text).toMatch(/warning: --token is visible to every user of this machine in `ps`: prefer VTUNE_SERVE_TOKEN or --token-file/);
    expect(onArgv.out.text).not.toContain(TOKEN);
    onArgv.child.kill('SIGTERM');
    await onArgv.exited;

    const both = serveProcess(['--base-model', 'test-memorizer:base', '--data-dir', join(d, 'c'), '--token', TOKEN, '--token-file', tokenFile]);
    expect(await both.exited).toBe(2);
    expect(both.out.text).toMatch(/--token-file or --token, not both/);
    const empty = join(d, 'empty');
    writeFileSync(empty, '\n');
    const blank = serveProcess(['--base-model', 'test-memorizer:base', '--data-dir', join(d, 'e'), '--token-file', empty]);
    expect(await blank.exited).toBe(2);
    expect(blank.out.text).toMatch(/empty: the token file is empty/);
  }, 90_000);

  it('readServeToken: file (trimmed, warned when others can read it), option (warned), environment; registered for redaction', async () => {
    const d = tmp();
    const warnings: string[] = [];
    const log = { info: () => {}, debug: () => {}, warn: (m: string) => warnings.push(m) };
    const open = join(d, 'open-token');
    writeFileSync(open, `  ${TOKEN}-file\n`);
    chmodSync(open, 0o644); // whatever the umask
    expect(await readServeToken({ tokenFile: open, env: {}, log })).toBe(`${TOKEN}-file`);
    expect(warnings).toEqual([`--token-file ${open} is readable by other users: chmod 600 it`]);
    expect(redactSecrets(`x ${TOKEN}-file y`)).toBe('x *** y');
    warnings.length = 0;
    expect(await readServeToken({ env: { VTUNE_SERVE_TOKEN: `${TOKEN}-env` }, log })).toBe(`${TOKEN}-env`);
    expect(warnings).toEqual([]);
    expect(await readServeToken({ token: `${TOKEN}-argv`, env: { VTUNE_SERVE_TOKEN: 'ignored-when-given' }, log })).toBe(`${TOKEN}-argv`);
    expect(warnings[0]).toMatch(/visible to every user of this machine in `ps`/);
    await expect(readServeToken({ tokenFile: join(d, 'missing'), env: {}, log })).rejects.toThrow(InputError);
    await expect(readServeToken({ env: { VTUNE_SERVE_TOKEN: 'short' }, log })).rejects.toThrow(/at least 8 characters/);
    await expect(readServeToken({ env: { VTUNE_SERVE_TOKEN: 'has a space inside' }, log })).rejects.toThrow(ConfigError);
    await expect(readServeToken({ env: {}, log })).rejects.toThrow(/set VTUNE_SERVE_TOKEN, or pass --token-file/);
  });

    it('no file serve wrote (data folder, log) contains the token after a session that sends it everywhere', async () => {
    const d = tmp();
    const dataDir = join(d, 'data');
    const p = serveProcess(['--base-model', 'test-memorizer:base', '--data-dir', dataDir, '--verbose'], { VTUNE_SERVE_TOKEN: TOKEN });
    const url = await p.listening();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const client = new OpenAI({ apiKey: TOKEN, baseURL: url, maxRetries: 0, timeout: 10_000, defaultHeaders: { 'x-api-key': TOKEN }, defaultQuery: { api_key: TOKEN } });
    const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `Fact ${i}:`, completion: ` value ${i}` })).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(rows), 'train.jsonl'), purpose: 'fine-tune' });
    const named = await client.files.create({ file: await toFile(Buffer.from(rows), `${TOKEN}.jsonl`), purpose: 'fine-tune' });
    expect(named.filename).toBe('___.jsonl'); // masked, then sanitised
    const job = await client.fineTuning.jobs.create({ model: 'test-memorizer:base', training_file: file.id, suffix: 'scan' });
    let done = await client.fineTuning.jobs.retrieve(job.id);
    for (let i = 0; i < 300 && done.status !== 'succeeded' && done.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 30));
      done = await client.fineTuning.jobs.retrieve(job.id);
    }
    expect(done.status).toBe('succeeded');
    await client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'Fact 1:' }], max_tokens: 3 });
    await client.completions.create({ model: done.fine_tuned_model!, prompt: 'Fact 2:', max_tokens: 0, echo: true, logprobs: 1 });
    await client.fineTuning.jobs.listEvents(job.id);
    // the token where it should never be: in paths, in a bad request, in a wrong-token request, in a failing job
    await fetch(`${url}/models/${TOKEN}`, { headers: auth });
    await fetch(`${url}/files/${TOKEN}/content?token=${TOKEN}`, { headers: auth });
    await fetch(`${url}/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: TOKEN, messages: [{ role: 'user', content: 'x' }] }) });
    await fetch(`${url}/models?key=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}-wrong` } });
    const suffixed = await fetch(`${url}/fine_tuning/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'test-memorizer:base', training_file: file.id, suffix: TOKEN }) });
    expect(suffixed.status).toBe(400);
    expect(await suffixed.text()).not.toContain(TOKEN);
    const echoed = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: TOKEN, messages: [{ role: 'user', content: 'x' }] }) });
    expect(await echoed.text()).not.toContain(TOKEN); // error messages that quote the request are redacted too
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const logFile = join(d, 'serve.log');
    writeFileSync(logFile, p.out.text);
    expect(p.out.text).toMatch(/POST \/v1\/files\?api_key=\*\*\* → 200/); // the verbose log did record the requests

    const written = [...filesUnder(dataDir), logFile];
    expect(written.length).toBeGreaterThanOrEqual(8);
    const forms = [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64'), TOKEN.slice(0, 16)];
    for (const f of written) {
      const bytes = readFileSync(f);
      for (const form of forms) expect(bytes.includes(form), `${f} contains ${form === TOKEN ? 'the token' : `a form of it (${form})`}`).toBe(false);
    }
  }, 90_000);
});
