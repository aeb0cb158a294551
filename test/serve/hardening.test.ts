/**
 * `serve` hardening (issue 14, items 7, 8, 11 and 13): the base model is opened before listening (or the
 * server refuses to start), a training file with a UTF-8 BOM is accepted, the request log redacts query
 * strings and headers, an unauthenticated request is answered 401 without its body being read, and every
 * file the server stores is private (0600, folders 0700).
 */
import { readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { ConfigError, redactHeaders, redactUrl, registerSecret } from '../../src/errors.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { type ServeOptions, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { serveHarness } from './harness.js';

const TOKEN = 'serve-hardening-TOKEN-9f8e7d6c';
const h = serveHarness({ token: TOKEN, dirPrefix: 'serve-hard-', clientTimeoutMs: 10_000 });
async function up(extra: Partial<ServeOptions> = {}) {
  const dataDir = h.newDir();
  return { client: await h.start({ trainer: honestTrainer(memorizerProvider(), 'base'), dataDir, ...extra }), dataDir };
}
function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? [join(d, n), ...filesUnder(join(d, n))] : [join(d, n)]));
}

describe('serve hardening', () => {
  it('refuses to start when the base model does not exist, before listening', async () => {
    const dataDir = h.newDir();
    const err = await startServe({ trainer: honestTrainer(await createLocalProvider(), 'nope'), dataDir, token: TOKEN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/cannot open the base model 'local:nope'.*unknown local model 'nope'/);
    expect(readdirSync(dataDir)).toEqual([]); // nothing was set up for a server that never ran
  });

  it('accepts a training file that starts with a UTF-8 BOM (as plant writes it when its input had one)', async () => {
    const { client } = await up();
    const body = '\uFEFF{"prompt":"a","completion":" b"}\n{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":" r"}]}\n';
    const file = await client.files.create({ file: await toFile(Buffer.from(body, 'utf8'), 'bom.jsonl'), purpose: 'fine-tune' });
    expect(file).toMatchObject({ status: 'processed', examples: 2 });
    expect(Buffer.from(await (await client.files.content(file.id)).arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf])); // bytes kept
  });

  it('--verbose request lines redact query strings and headers through the secret registry', async () => {
    const lines: string[] = [];
    const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), debug: (m) => lines.push(m) };
    await up({ log });
    const other = 'another-client-secret-abcdef';
    await fetch(`${h.serve!.url}/models?api_key=${TOKEN}&limit=5`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await fetch(`${h.serve!.url}/models?q=${encodeURIComponent(TOKEN)}`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-api-key': other, cookie: `session=${other}` } });
    await fetch(`${h.serve!.url}/models?access_token=${other}`); // 401, still logged redacted
    await fetch(`${h.serve!.url}/files/${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = lines.join('\n');
    expect(lines.length).toBe(4);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(other);
    expect(text).toContain('GET /v1/models?api_key=***&limit=5 → 200');
    expect(text).toContain('GET /v1/models?q=*** → 200');
    expect(text).toContain('GET /v1/models?access_token=*** → 401');
    expect(text).toMatch(/"authorization":"\*\*\*"/);
    expect(text).toMatch(/"x-api-key":"\*\*\*"/);
  });

  it('redactUrl / redactHeaders mask credential names whatever the value, and registered secrets wherever they are', () => {
    registerSecret('registered-secret-value-42');
    expect(redactUrl('/v1/x?key=abc&limit=3&token=t&sig=s&after=ftevent-1')).toBe('/v1/x?key=***&limit=3&token=***&sig=***&after=ftevent-1');
    expect(redactUrl('/v1/registered-secret-value-42?note=registered-secret-value-42')).toBe('/v1/***?note=***');
    expect(redactUrl('/v1/a%0Ab')).toBe('/v1/a\\x0ab'); // no forged log lines
    expect(redactHeaders({ authorization: 'Basic abc', 'proxy-authorization': 'x', 'user-agent': 'ua registered-secret-value-42', 'content-length': 12 })).toEqual({
      authorization: '***',
      'proxy-authorization': '***',
      'user-agent': 'ua ***',
      'content-length': '12',
    });
  });

  it('answers 401 without reading the body of an unauthenticated request', async () => {
    await up();
    const { port } = h.serve!;
    const declared = 512 * 1024 * 1024;
    const result = await new Promise<{ status: string; written: number; endedBody: boolean }>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let written = 0;
      let response = '';
      let done = false;
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const finish = () => {
        if (done) return;
        done = true;
        s.destroy();
        resolve({ status: response.split('\r\n')[0] ?? '', written, endedBody: written >= declared });
      };
      s.on('data', (c: Buffer) => {
        response += c.toString('latin1');
        if (response.includes('\r\n\r\n')) finish();
      });
      s.on('error', () => finish());
      s.on('close', () => finish());
      const pump = () => {
        while (!done && written < declared) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      s.once('connect', () => {
        s.write(`POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: ${declared}\r\n\r\n`);
        pump();
      });
      setTimeout(() => reject(new Error(`no answer after ${written} bytes`)), 60_000).unref();
    });
    expect(result.status).toBe('HTTP/1.1 401 Unauthorized');
    expect(result.endedBody).toBe(false);
    // the client could only fill socket buffers: far from the 512 MiB it declared
    expect(result.written).toBeLessThan(64 * 1024 * 1024);
  }, 90_000);

  it('a small unauthenticated POST still gets a readable 401 through the SDK', async () => {
    await up();
    const wrong = new OpenAI({ apiKey: 'wrong-token-12345678', baseURL: h.serve!.url, maxRetries: 0, timeout: 5000 });
    await expect(wrong.chat.completions.create({ model: 'memorizer:base', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
    await expect(wrong.files.create({ file: await toFile(Buffer.from('{"prompt":"a","completion":"b"}\n'), 't.jsonl'), purpose: 'fine-tune' })).rejects.toMatchObject({ status: 401 });
  });

  it('stores uploads, job records, events and models readable by the server user only', async () => {
    const { client, dataDir } = await up();
    const file = await client.files.create({ file: await toFile(Buffer.from('{"prompt":"a","completion":" b"}\n'), 't.jsonl'), purpose: 'fine-tune' });
    const job = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id });
    for (let i = 0; i < 200 && (await client.fineTuning.jobs.retrieve(job.id)).status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 20));
    const all = filesUnder(dataDir);
    const names = all.map((p) => p.slice(dataDir.length + 1)).sort();
    expect(names).toEqual(
      [`files`, `files/${file.id}.json`, `files/${file.id}.jsonl`, 'jobs', `jobs/${job.id}.events.jsonl`, `jobs/${job.id}.json`, 'models', `models/${job.id}`, `models/${job.id}/honest.meta.json`, `models/${job.id}/honest.model`].sort(),
    );
    for (const p of all) expect(statSync(p).mode & 0o777, p).toBe(statSync(p).isDirectory() ? 0o700 : 0o600);
  });
});
