import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHfRows, parseHfSpec } from '../../src/datasets/hf.js';
import { loadDataset } from '../../src/datasets/index.js';
import { ConfigError, ProviderError } from '../../src/errors.js';

const TOKEN = 'hf_testTokenValue1234567890';

/** Datasets the fake server knows: dataset → config → split → rows. */
const DATA: Record<string, { sha: string; gated?: boolean; configs: Record<string, Record<string, Record<string, unknown>[]>> }> = {
  'acme/qa': {
    sha: 'sha-one',
    configs: {
      default: {
        train: Array.from({ length: 250 }, (_, i) => ({ question: `What is ${i} plus one?`, answer: `${i + 1}`, id: i })),
        test: Array.from({ length: 30 }, (_, i) => ({ question: `Test ${i}?`, answer: `t${i}` })),
      },
    },
  },
  'acme/chat': {
    sha: 'sha-chat',
    gated: true,
    configs: {
      en: { train: Array.from({ length: 40 }, (_, i) => ({ messages: [{ role: 'user', content: `hi ${i}` }, { role: 'assistant', content: `hello ${i}` }] })) },
      fr: { train: [{ messages: [{ role: 'user', content: 'salut' }, { role: 'assistant', content: 'bonjour' }] }] },
    },
  },
  'acme/odd': {
    sha: 'sha-odd',
    configs: { default: { train: [{ src: 'a', tgt: 'b' }] } },
  },
};

let server: Server;
let url: string;
let requests: string[] = [];
let truncateIdx = new Set<number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    requests.push(u.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const name = u.searchParams.get('dataset') ?? decodeURIComponent(u.pathname.replace('/api/datasets/', ''));
    const ds = DATA[name];
    if (!ds) return send(404, { error: "The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication." });
    if (ds.gated && req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'The dataset does not exist, or is not accessible without authentication' });
    if (u.pathname.startsWith('/api/datasets/')) return send(200, { id: name, sha: ds.sha });
    if (u.pathname === '/splits') {
      return send(200, { splits: Object.entries(ds.configs).flatMap(([config, splits]) => Object.keys(splits).map((split) => ({ dataset: name, config, split }))), pending: [], failed: [] });
    }
    if (u.pathname === '/rows') {
      const rows = ds.configs[u.searchParams.get('config')!]?.[u.searchParams.get('split')!];
      if (!rows) return send(404, { error: 'config or split not found' });
      const offset = Number(u.searchParams.get('offset'));
      const length = Math.min(100, Number(u.searchParams.get('length')));
      const features = Object.keys(rows[0]!).map((k, i) => ({ feature_idx: i, name: k, type: { dtype: 'string', _type: 'Value' } }));
      return send(200, {
        features,
        rows: rows.slice(offset, offset + length).map((row, j) => ({ row_idx: offset + j, row, truncated_cells: truncateIdx.has(offset + j) ? ['question'] : [] })),
        num_rows_total: rows.length,
        num_rows_per_page: 100,
        partial: false,
      });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let cacheDir: string;
beforeEach(async () => {
  requests = [];
  truncateIdx = new Set();
  cacheDir = await mkdtemp(join(tmpdir(), 'vtune-hf-'));
  return () => rm(cacheDir, { recursive: true, force: true });
});

const opts = () => ({ serverUrl: url, hubUrl: url, cacheDir, token: '' });

describe('hf: specs', () => {
  it('parses owner/name[:config][@split]', () => {
    expect(parseHfSpec('hf:acme/qa')).toEqual({ dataset: 'acme/qa' });
    expect(parseHfSpec('hf:acme/chat:en@train')).toEqual({ dataset: 'acme/chat', config: 'en', split: 'train' });
    expect(parseHfSpec('hf:squad@validation')).toEqual({ dataset: 'squad', split: 'validation' });
    expect(() => parseHfSpec('hf:')).toThrow(ConfigError);
    expect(() => parseHfSpec('hf:a b')).toThrow(/expected hf:owner\/name/);
  });
});

describe('hf: loading through the datasets-server API', () => {
  it('pages through /rows, maps columns, and records the revision', async () => {
    const r = await loadHfRows('hf:acme/qa', opts());
    expect(r.rows.length).toBe(250);
    expect(r.rows[7]).toEqual({ prompt: 'What is 7 plus one?', completion: '8' });
    expect(r.format.kind).toBe('mapped');
    expect(r.format.schema).toBe('question-answer');
    expect([r.config, r.split, r.revision, r.fromCache]).toEqual(['default', 'train', 'sha-one', false]);
    expect(requests.filter((p) => p === '/rows').length).toBe(3);
  });

  it('serves a second load from the cache, keyed by revision', async () => {
    await loadHfRows('hf:acme/qa@test', opts());
    requests = [];
    const again = await loadHfRows('hf:acme/qa@test', opts());
    expect(again.fromCache).toBe(true);
    expect(again.rows.length).toBe(30);
    expect(requests.filter((p) => p === '/rows').length).toBe(1); // one page to confirm the split, none to refetch
    DATA['acme/qa']!.sha = 'sha-two';
    try {
      requests = [];
      const fresh = await loadHfRows('hf:acme/qa@test', opts());
      expect(fresh.fromCache).toBe(false);
      expect(fresh.revision).toBe('sha-two');
    } finally {
      DATA['acme/qa']!.sha = 'sha-one';
    }
  });

  it('stops early at maxRows', async () => {
    const r = await loadHfRows('hf:acme/qa', { ...opts(), maxRows: 120 });
    expect(r.rows.length).toBe(120);
    expect(requests.filter((p) => p === '/rows').length).toBe(2);
  });

  it('skips rows whose cells the server truncated, and counts them', async () => {
    truncateIdx = new Set([3, 150]);
    const r = await loadHfRows('hf:acme/qa', opts());
    expect(r.rows.length).toBe(248);
    expect(r.skippedTruncated).toBe(2);
  });

  it('sends HF_TOKEN for gated datasets and never shows it', async () => {
    const err = await loadHfRows('hf:acme/chat:en', opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/refused \(HTTP 401\).*set HF_TOKEN/);
    const wrong = await loadHfRows('hf:acme/chat:en', { ...opts(), token: 'hf_wrongWrongWrong123' }).catch((e: unknown) => e);
    expect((wrong as Error).message).not.toContain('hf_wrongWrongWrong123');
    const r = await loadHfRows('hf:acme/chat:en', { ...opts(), token: TOKEN });
    expect(r.rows.length).toBe(40);
    expect(r.format.kind).toBe('chat');
    expect(r.rows[0]).toEqual({ prompt: 'hi 0', completion: 'hello 0' });
  });

  it('names unknown configs and splits with a hint', async () => {
    await expect(loadHfRows('hf:acme/qa@tset', opts())).rejects.toThrow(/unknown split of acme\/qa:default 'tset'\. Did you mean 'test'\?/);
    await expect(loadHfRows('hf:acme/chat:de', { ...opts(), token: TOKEN })).rejects.toThrow(/unknown config of acme\/chat 'de'.*Available: en, fr/);
    await expect(loadHfRows('hf:acme/missing', opts())).rejects.toThrow(/not found.*HTTP 404/);
  });

  it('asks for a mapping when columns are not recognised, and applies one', async () => {
    await expect(loadHfRows('hf:acme/odd', opts())).rejects.toThrow(/cannot tell the data format from columns \{src, tgt\}/);
    // The advice names an option that exists (--field-map, added with issue 15), not a vague "field mapping".
    await expect(loadHfRows('hf:acme/odd', opts())).rejects.toThrow(/name the columns with --field-map prompt=<column>,completion=<column>/);
    const r = await loadHfRows('hf:acme/odd', { ...opts(), mapping: { prompt: 'src', completion: 'tgt' } });
    expect(r.rows).toEqual([{ prompt: 'a', completion: 'b' }]);
  });

  it('says "offline?" when the server cannot be reached, and falls back to a cached copy', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await loadHfRows('hf:acme/qa', { ...opts(), serverUrl: dead, hubUrl: dead }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ to fetch acme\/qa \(offline\?\): ECONNREFUSED/);
    await loadHfRows('hf:acme/qa', opts());
    const cached = await loadHfRows('hf:acme/qa', { ...opts(), serverUrl: dead, hubUrl: dead });
    expect(cached.fromCache).toBe(true);
    expect(cached.rows.length).toBe(250);
  });

  it('loads through loadDataset with HF_DATASETS_SERVER_URL and splits train / held-out', async () => {
    const saved = { s: process.env.HF_DATASETS_SERVER_URL, h: process.env.HF_ENDPOINT, c: process.env.VTUNE_CACHE };
    Object.assign(process.env, { HF_DATASETS_SERVER_URL: url, HF_ENDPOINT: url, VTUNE_CACHE: cacheDir });
    try {
      const d = await loadDataset('hf:acme/qa', { seed: 1, size: 100, heldOut: 20 });
      expect(d.train.length).toBe(100);
      expect(d.heldOut.length).toBe(20);
      expect(d.id).toBe('hf:acme/qa');
    } finally {
      for (const [k, v] of [['HF_DATASETS_SERVER_URL', saved.s], ['HF_ENDPOINT', saved.h], ['VTUNE_CACHE', saved.c]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
