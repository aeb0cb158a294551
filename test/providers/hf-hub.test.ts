/**
 * downloadHubFile against a loopback Hub (HF_ENDPOINT): resolve URL, cache keyed by repo/revision/file,
 * no network on a cache hit, atomic download (a cut-off transfer leaves nothing), clear offline/404 messages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, HttpError, ProviderError } from '../../src/errors.js';
import { downloadHubFile, parseHubSpec } from '../../src/providers/hf.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { sharedPath } from '../../src/shared-path.js';

const content = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
let server: Server | undefined;
let cache: string | undefined;
const hits: string[] = [];
afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = undefined;
  hits.length = 0;
  if (cache) rmSync(cache, { recursive: true, force: true });
});

async function hub(mode: 'ok' | 'truncate' = 'ok'): Promise<string> {
  server = createServer((req, res) => {
    hits.push(`${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url === '/owner/model-repo/resolve/main/sub/model.gguf' || req.url === '/owner/model-repo/resolve/v1.0/sub/model.gguf') {
      res.writeHead(200, { 'content-length': content.length });
      if (mode === 'truncate') {
        res.write(content.subarray(0, 1000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(content);
      return;
    }
    res.writeHead(404).end('Entry not found');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  cache = mkdtempSync(join(tmpdir(), 'hub-cache-'));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const fast = { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, timeoutMs: 2000, maxTotalMs: 3000 };

describe('downloadHubFile', () => {
  it('downloads to the cache keyed by repo/revision/file and reuses it without the network', async () => {
    const endpoint = await hub();
    const env = { HF_ENDPOINT: endpoint, HF_TOKEN: 'hf_tokenForHub0123456789' };
    const spec = parseHubSpec('owner/model-repo/sub/model.gguf');
    const p = await downloadHubFile(spec, { cacheDir: cache!, env, retry: fast });
    expect(p).toBe(join(cache!, 'owner', 'model-repo', 'main', 'sub', 'model.gguf'));
    expect(readFileSync(p).equals(content)).toBe(true);
    expect(hits).toEqual(['/owner/model-repo/resolve/main/sub/model.gguf Bearer hf_tokenForHub0123456789']);
    await downloadHubFile(spec, { cacheDir: cache!, env: { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '1' } });
    expect(hits.length).toBe(1);
    const v = await downloadHubFile(parseHubSpec('owner/model-repo/sub/model.gguf@v1.0'), { cacheDir: cache!, env, retry: fast });
    expect(v).toBe(join(cache!, 'owner', 'model-repo', 'v1.0', 'sub', 'model.gguf'));
  });

  it('a cut-off transfer leaves no file behind and ends in a ProviderError', async () => {
    const endpoint = await hub('truncate');
    const warnings: string[] = [];
    const log = { info: () => {}, debug: () => {}, warn: (m: string) => warnings.push(m) };
    const err = await downloadHubFile(parseHubSpec('owner/model-repo/sub/model.gguf'), { cacheDir: cache!, env: { HF_ENDPOINT: endpoint }, retry: fast, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    // The retry was reported: what, which attempt of how many, why, and the wait.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^download hf:\/\/owner\/model-repo\/sub\/model\.gguf@main from http:\/\/127\.0\.0\.1:\d+: attempt 1 of 2 failed \(.+\); retrying in \d+\.\d s$/);
    const dir = join(cache!, 'owner', 'model-repo', 'main', 'sub');
    expect(existsSync(join(dir, 'model.gguf'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]); // no .part files either
    expect(hits.length).toBe(2); // retried once
  });

  it('clear messages: 404, offline, HF_HUB_OFFLINE, bad specs', async () => {
    const endpoint = await hub();
    const missing = await downloadHubFile(parseHubSpec('owner/model-repo/missing.gguf'), { cacheDir: cache!, env: { HF_ENDPOINT: endpoint }, retry: fast }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/HTTP 404.*check the repo, file and revision/);
    // The rewrap keeps its cause: the hub's status as the project's HttpError.
    expect((missing as Error).cause).toBeInstanceOf(HttpError);
    expect(((missing as Error).cause as HttpError).status).toBe(404);
    const offline = await downloadHubFile(parseHubSpec('owner/model-repo/x.gguf'), { cacheDir: cache!, env: { HF_ENDPOINT: 'http://127.0.0.1:9' }, retry: fast }).catch((e: Error) => e);
    expect(offline).toBeInstanceOf(ProviderError);
    expect((offline as Error).cause).toBeInstanceOf(ProviderError); // the retry machinery's own, which names the attempts
    expect((offline as Error).message).toMatch(/Offline\? Cannot reach http:\/\/127\.0\.0\.1:9.*HF_ENDPOINT.*place the file at/);
    await expect(downloadHubFile(parseHubSpec('owner/model-repo/x.gguf'), { cacheDir: cache!, env: { HF_HUB_OFFLINE: '1' } })).rejects.toThrow(/HF_HUB_OFFLINE/);
    expect(() => parseHubSpec('owner/model.gguf')).toThrow(ConfigError);
    expect(() => parseHubSpec('owner/repo/../../etc/passwd')).toThrow(ConfigError);
    expect(() => parseHubSpec('ow ner/repo/x.gguf')).toThrow(ConfigError);
  });
});

describe('local:hf:owner/repo/file.gguf', () => {
  const gguf = sharedPath('models/stories260K.gguf');
  it.skipIf(!gguf)('the local provider opens a GGUF fetched from a loopback Hub, then from the cache', async () => {
    const bytes = readFileSync(gguf!);
    const served: string[] = [];
    server = createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/karpathy/tinyllamas/resolve/main/stories260K.gguf') res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    cache = mkdtempSync(join(tmpdir(), 'hub-cache-'));
    const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, VTUNE_CACHE_DIR: process.env.VTUNE_CACHE_DIR };
    process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.VTUNE_CACHE_DIR = cache;
    try {
      const local = await createLocalProvider();
      const m = await local.model('hf:karpathy/tinyllamas/stories260K.gguf');
      const [out] = await m.generate(['Once upon a time'], { maxTokens: 8 });
      expect(out!.length).toBeGreaterThan(0);
      await local.model('hf:karpathy/tinyllamas/stories260K.gguf');
      expect(served).toEqual(['/karpathy/tinyllamas/resolve/main/stories260K.gguf']); // second open: cache
      expect(readFileSync(join(cache!, 'hub', 'karpathy', 'tinyllamas', 'main', 'stories260K.gguf')).equals(bytes)).toBe(true);
    } finally {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    }
  });
});
