/**
 * Hugging Face Hub datasets, `hf:owner/name[:config][@split]`, fetched through the dataset viewer's REST API
 * (datasets-server: `/splits` to find configs and splits, `/rows` in pages of 100). Rows are mapped to
 * prompt/completion like a data file (format auto-detected from the first row, or a field mapping).
 *
 * - `HF_TOKEN` is sent as a bearer token (for gated datasets) and registered as a secret: never printed.
 * - Fetched rows are cached on disk (`VTUNE_CACHE`, default `<repo>/.cache`) keyed by the dataset revision
 *   (the Hub's commit sha, when the Hub API answers) — or, when no revision is known, by the split's row count
 *   and columns. When the server cannot be reached, a cached copy is used if there is one.
 * - `HF_DATASETS_SERVER_URL` (and `HF_ENDPOINT` for the Hub API) override the servers, e.g. for tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, InputError, ProviderError, registerSecret } from '../errors.js';
import { unknownMessage } from '../registry.js';
import { repoRoot } from '../shared-path.js';
import type { Row } from '../types.js';
import { type DataFormat, decodeRecord, detectFormat, END_MARKERS, type FieldMapping } from './formats.js';

/** A parsed `hf:` spec. */
export interface HfSpec {
  readonly dataset: string;
  readonly config?: string;
  readonly split?: string;
}

/** Options of loadHfRows. */
export interface HfOptions {
  readonly mapping?: FieldMapping;
  /** Stop after this many rows (default: the whole split). */
  readonly maxRows?: number;
  /** Overrides HF_DATASETS_SERVER_URL. */
  readonly serverUrl?: string;
  /** Overrides HF_ENDPOINT (the Hub API, for the revision). */
  readonly hubUrl?: string;
  /** Overrides VTUNE_CACHE. */
  readonly cacheDir?: string;
  /** Overrides HF_TOKEN. */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

/** What loadHfRows returns. */
export interface HfLoadResult {
  readonly rows: Row[];
  readonly format: DataFormat;
  readonly config: string;
  readonly split: string;
  readonly revision?: string;
  readonly numRowsTotal: number;
  /** Rows left out because the server truncated a cell (their text is incomplete). */
  readonly skippedTruncated: number;
  readonly fromCache: boolean;
}

const PAGE = 100;

/** Parses `hf:owner/name[:config][@split]`. */
export function parseHfSpec(spec: string): HfSpec {
  const m = /^hf:([A-Za-z0-9][\w.-]*(?:\/[\w.-]+)?)(?::([^@\s]+))?(?:@([^\s@:]+))?$/.exec(spec);
  if (!m) throw new ConfigError(`bad Hugging Face dataset spec '${spec}'; expected hf:owner/name[:config][@split], e.g. hf:rajpurkar/squad@validation`);
  return { dataset: m[1]!, ...(m[2] ? { config: m[2] } : {}), ...(m[3] ? { split: m[3] } : {}) };
}

/** Fetches (or reads from cache) the rows of a Hub dataset split and maps them to prompt/completion rows. */
export async function loadHfRows(spec: string, options: HfOptions = {}): Promise<HfLoadResult> {
  const parsed = parseHfSpec(spec);
  const server = (options.serverUrl ?? process.env.HF_DATASETS_SERVER_URL ?? 'https://datasets-server.huggingface.co').replace(/\/+$/, '');
  const hub = (options.hubUrl ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = options.token ?? process.env.HF_TOKEN;
  registerSecret(token);
  const cacheRoot = join(options.cacheDir ?? process.env.VTUNE_CACHE ?? join(repoRoot, '.cache'), 'hf-datasets');
  const client = new Client(server, token, options.signal);
  const maxRows = options.maxRows ?? Infinity;

  let config: string;
  let split: string;
  let revision: string | undefined;
  try {
    ({ config, split, revision } = await resolveSplit(client, parsed));
    revision ??= await hubRevision(hub, parsed.dataset, token, options.signal);
  } catch (err) {
    const cached = err instanceof ProviderError && err.retryable ? await newestCache(cacheRoot, parsed) : undefined;
    if (!cached) throw err;
    return finish(cached.raw, cached.config, cached.split, cached.key.startsWith('rows-') ? undefined : cached.key, cached.total, true, options.mapping, spec, maxRows);
  }

  const dir = join(cacheRoot, safe(parsed.dataset), safe(config), safe(split));
  const first = await client.rows(parsed.dataset, config, split, 0, PAGE);
  const key = revision ?? `rows-${first.num_rows_total}-${hash(JSON.stringify(first.features ?? []))}`;
  const cachePath = join(dir, `${safe(key)}.jsonl`);
  const cached = await readCache(cachePath);
  if (cached && (cached.complete || cached.raw.length >= maxRows)) {
    return finish(cached.raw, config, split, revision, first.num_rows_total, true, options.mapping, spec, maxRows);
  }

  const raw: RawRow[] = [];
  const total = first.num_rows_total;
  let page = first;
  for (let offset = 0; ; ) {
    for (const r of page.rows) raw.push({ row: r.row, truncated: (r.truncated_cells?.length ?? 0) > 0 });
    offset += page.rows.length;
    if (page.rows.length === 0 || offset >= total || raw.length >= maxRows) break;
    page = await client.rows(parsed.dataset, config, split, offset, PAGE);
  }
  await writeCache(dir, cachePath, raw, raw.length >= total);
  return finish(raw, config, split, revision, total, false, options.mapping, spec, maxRows);
}

interface RawRow {
  readonly row: Record<string, unknown>;
  readonly truncated: boolean;
}

function finish(raw: readonly RawRow[], config: string, split: string, revision: string | undefined, total: number, fromCache: boolean, mapping: FieldMapping | undefined, spec: string, maxRows: number): HfLoadResult {
  const usable = raw.slice(0, Math.min(raw.length, maxRows));
  const firstRow = usable.find((r) => !r.truncated)?.row;
  if (!firstRow) throw new InputError(`no usable rows in ${spec} (${config}/${split})`, { file: spec });
  let format: DataFormat | undefined = mapping ? { kind: 'mapped', mapping } : detectFormat(firstRow);
  if (!format) {
    throw new InputError(`cannot tell the data format from columns {${Object.keys(firstRow).join(', ')}}; name the columns with --field-map prompt=<column>,completion=<column> (scenario: datasets[i].fieldMap)`, { file: spec });
  }
  const rows: Row[] = [];
  let skippedTruncated = 0;
  let markers = format.kind === 'prompt-completion' ? END_MARKERS.slice() : [];
  for (let i = 0; i < usable.length; i++) {
    const r = usable[i]!;
    if (r.truncated) {
      skippedTruncated++;
      continue;
    }
    const row = decodeRecord(r.row, format);
    if (typeof row === 'string') throw new InputError(`row ${i}: ${row}`, { file: `${spec} (${config}/${split})` });
    markers = markers.filter((m) => row.completion.endsWith(m));
    rows.push(row);
  }
  const endMarker = markers[0];
  if (endMarker !== undefined) {
    format = { ...format, endMarker };
    for (let i = 0; i < rows.length; i++) rows[i] = { prompt: rows[i]!.prompt, completion: rows[i]!.completion.slice(0, -endMarker.length) };
  }
  return { rows: rows.map((r) => Object.freeze(r)), format, config, split, ...(revision ? { revision } : {}), numRowsTotal: total, skippedTruncated, fromCache };
}

async function resolveSplit(client: Client, spec: HfSpec): Promise<{ config: string; split: string; revision?: string }> {
  const body = await client.splits(spec.dataset);
  const splits = body.splits ?? [];
  if (splits.length === 0) throw new ProviderError(`the dataset viewer lists no splits for ${spec.dataset}${body.pending?.length ? ' (still being processed; try again later)' : ''}`);
  const configs = [...new Set(splits.map((s) => s.config))];
  const config = spec.config ?? (configs.includes('default') ? 'default' : configs[0]!);
  if (!configs.includes(config)) throw new ConfigError(unknownMessage(`config of ${spec.dataset}`, config, configs));
  const names = splits.filter((s) => s.config === config).map((s) => s.split);
  const split = spec.split ?? (names.includes('train') ? 'train' : names[0]!);
  if (!names.includes(split)) throw new ConfigError(unknownMessage(`split of ${spec.dataset}:${config}`, split, names));
  const revision = body.revision ?? body.sha ?? splits.find((s) => s.config === config && s.split === split)?.revision;
  return { config, split, ...(typeof revision === 'string' ? { revision } : {}) };
}

/** The Hub's commit sha of the dataset repo, or undefined when the Hub API does not answer it. */
async function hubRevision(hub: string, dataset: string, token: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const res = await fetch(`${hub}/api/datasets/${dataset}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: signal ?? AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { sha?: unknown };
    return typeof body.sha === 'string' ? body.sha : undefined;
  } catch {
    return undefined;
  }
}

interface SplitsBody {
  splits?: { dataset: string; config: string; split: string; revision?: string }[];
  pending?: unknown[];
  revision?: string;
  sha?: string;
}

interface RowsBody {
  features?: unknown[];
  rows: { row_idx: number; row: Record<string, unknown>; truncated_cells?: string[] }[];
  num_rows_total: number;
  num_rows_per_page?: number;
  partial?: boolean;
}

/** A tiny client with retries on 429/5xx and clear errors. */
class Client {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  splits(dataset: string): Promise<SplitsBody> {
    return this.get<SplitsBody>(`/splits?dataset=${encodeURIComponent(dataset)}`, dataset);
  }

  async rows(dataset: string, config: string, split: string, offset: number, length: number): Promise<RowsBody> {
    const body = await this.get<RowsBody>(`/rows?dataset=${encodeURIComponent(dataset)}&config=${encodeURIComponent(config)}&split=${encodeURIComponent(split)}&offset=${offset}&length=${length}`, dataset);
    if (!Array.isArray(body.rows) || typeof body.num_rows_total !== 'number') throw new ProviderError(`unexpected answer from ${this.base}/rows for ${dataset}: no rows / num_rows_total`);
    return body;
  }

  private async get<T>(path: string, dataset: string): Promise<T> {
    const url = this.base + path;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {}, signal: this.signal ?? AbortSignal.timeout(30_000) });
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
        const offline = code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'EAI_AGAIN' || code === 'ENETUNREACH' || code === 'ECONNRESET';
        if (!offline && attempt < 2) continue;
        throw new ProviderError(`cannot reach ${this.base} to fetch ${dataset}${offline ? ' (offline?)' : ''}: ${code ?? (err as Error).message}`, { cause: err, retryable: true });
      }
      if (res.ok) return (await res.json()) as T;
      const text = (await res.text().catch(() => '')).slice(0, 200);
      if ((res.status === 429 || res.status >= 500) && attempt < 3) {
        const after = Number(res.headers.get('retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 10_000) : 250 * 2 ** attempt);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new ProviderError(`access to ${dataset} was refused (HTTP ${res.status}); it may be gated or private: accept its terms on the Hub and set HF_TOKEN${this.token ? ' (the token was sent)' : ''}`, { status: res.status });
      }
      if (res.status === 404) throw new ProviderError(`${dataset} was not found by the dataset viewer (HTTP 404): check the name, config and split; ${text}`, { status: 404 });
      throw new ProviderError(`the dataset viewer answered HTTP ${res.status} for ${dataset}: ${text}`, { status: res.status, retryable: res.status === 429 || res.status >= 500 });
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');

async function readCache(path: string): Promise<{ raw: RawRow[]; complete: boolean } | undefined> {
  try {
    const meta = JSON.parse(await readFile(`${path}.meta.json`, 'utf8')) as { complete: boolean; rows: number };
    const text = await readFile(path, 'utf8');
    const raw = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RawRow);
    if (raw.length !== meta.rows) return undefined; // torn write: refetch
    return { raw, complete: meta.complete };
  } catch {
    return undefined;
  }
}

async function writeCache(dir: string, path: string, raw: readonly RawRow[], complete: boolean): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, raw.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await rename(tmp, path);
    await writeFile(`${path}.meta.json`, JSON.stringify({ complete, rows: raw.length, savedAt: new Date().toISOString() }));
  } catch {
    // A cache that cannot be written only costs a refetch next time.
  }
}

/** The most recently written cached copy of a split, for offline use. */
async function newestCache(root: string, spec: HfSpec): Promise<{ raw: RawRow[]; config: string; split: string; key: string; total: number } | undefined> {
  const base = join(root, safe(spec.dataset));
  const found: { path: string; config: string; split: string; key: string; mtime: number }[] = [];
  try {
    for (const config of spec.config ? [safe(spec.config)] : await readdir(base)) {
      for (const split of spec.split ? [safe(spec.split)] : await readdir(join(base, config)).catch(() => [])) {
        for (const f of await readdir(join(base, config, split)).catch(() => [])) {
          if (!f.endsWith('.jsonl')) continue;
          const p = join(base, config, split, f);
          found.push({ path: p, config, split, key: f.slice(0, -'.jsonl'.length), mtime: (await stat(p)).mtimeMs });
        }
      }
    }
  } catch {
    return undefined;
  }
  // Prefer the train split, as resolveSplit would, then the newest.
  found.sort((a, b) => Number(b.split === 'train') - Number(a.split === 'train') || b.mtime - a.mtime);
  for (const f of found) {
    const c = await readCache(f.path);
    if (c) return { raw: c.raw, config: f.config, split: f.split, key: f.key, total: c.raw.length };
  }
  return undefined;
}
