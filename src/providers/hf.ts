/**
 * `hf` provider: Hugging Face inference through `@huggingface/inference` 4.13.16 (pinned: later versions drop
 * TGI `details`, stack.md §3), plus `downloadHubFile()`, which fetches GGUF models from the Hub into a local
 * cache for the `local` provider (`local:hf:owner/repo/file.gguf`).
 *
 * Two modes:
 * - endpoint (`endpointUrl`, or HF_ENDPOINT_URL): a TGI server or Inference Endpoint. Greedy generation through
 *   textGeneration on the raw prompt, and exact teacher-forced log-probs of a continuation from
 *   `decoder_input_details` (the prefill) of the same raw prompt: a model scores the event it generates, so
 *   the model-based nulls and logprob attacks work against it;
 * - Inference Providers (no endpoint): chat completion by model id, for the lm-sampled generator and the
 *   LLM-judge attack. Generation only: the chat route applies a server-side template and exposes no prompt
 *   log-probs, so 'logprobs' is not declared (and the model says why).
 * Every reply is checked: a missing or null generated_text, no choices, a non-JSON body are errors naming the
 * URL, never an empty answer (which would count as a miss against the provider).
 * Threat model: the served model is the thing under test; we only read its answers. The SDK's own retry loop
 * (503 → immediate retry, no cap) is switched off (`retry_on_error: false`) and replaced by http.ts backoff,
 * which honours Retry-After (read through a fetch wrapper, since the SDK's errors carry no headers). HF_TOKEN
 * is registered as a secret and never attached to an error: the SDK's errors carry the request headers.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { InferenceClient } from '@huggingface/inference';
import pLimit from 'p-limit';
import { ConfigError, HttpError, ProviderError, registerSecret } from '../errors.js';
import { closableFetch } from './fetch.js';
import type { Capability, ContinuationScore, GenerateOptions, Logger, Model, Provider, ScoreOptions } from '../types.js';
import {
  type RetryPolicy,
  anySignal,
  badReply,
  batch,
  classifyFailure,
  describeReply,
  jitterRng,
  retryPolicy,
  retryProgress,
  stderrWarnings,
  toProviderError,
  withDefaults,
  withRetry,
} from './http.js';
import { EVEN_IF_INVALID, defineProvider, z } from '../plugins/define.js';
import { creatorOf, positiveIntOption, environmentOption, loggerOption, retryOption, urlOption } from './options.js';

/** The `hf` provider's option fields (without the rule between two of them: `command`'s `hf` option reuses them). */
export const hfOptionFields = z.object({
  endpointUrl: urlOption('a TGI / Inference Endpoint URL, the server root (default HF_ENDPOINT_URL)'),
  inferenceProvider: z.string().min(1).optional().describe("Inference Providers routing ('auto', 'together', …) when there is no endpoint"),
  tokenEnv: z.string().min(1).optional().describe('environment variable holding the token (default HF_TOKEN); never an option itself'),
  concurrency: positiveIntOption('parallel requests per model', 4),
  retry: retryOption(),
  log: loggerOption(),
  env: environmentOption(),
  fetch: z
    .custom<typeof fetch>((v) => typeof v === 'function')
    .meta({ expected: 'a fetch function' })
    .optional()
    .describe("code only: the transport (tests pass a stub; default: the provider's own, whose connections close when a call is cancelled)"),
});

/** The `hf` provider's options, declared once: types, validation (field paths, "did you mean"), defaults, help. */
export const hfOptions = hfOptionFields.superRefine((o, ctx) => {
  if (o.endpointUrl !== undefined && o.inferenceProvider !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['inferenceProvider'], message: 'give either endpointUrl (TGI / Inference Endpoint) or inferenceProvider, not both' });
  }
}, EVEN_IF_INVALID);

/** The `hf` provider, declared: `createHfProvider(options)` validates them by the declaration, then opens it (the SDK loads lazily). */
export const hfProvider = defineProvider({
  id: 'hf',
  description: 'Hugging Face inference: TGI, Inference Endpoints or Inference Providers (HF_TOKEN, HF_ENDPOINT_URL)',
  capabilities: ['generate', 'logprobs'],
  options: hfOptions,
  create: openHfProvider,
});

/** Creates the `hf` provider (validates `options` by its declaration first: a bad one is a rejected promise). */
export const createHfProvider = creatorOf(hfProvider);

async function openHfProvider(options: z.output<typeof hfOptions>): Promise<Provider> {
  const env = options.env ?? process.env;
  const tokenEnv = options.tokenEnv ?? 'HF_TOKEN';
  const token = env[tokenEnv] || undefined;
  registerSecret(token);
  // Checks on values read from the environment, which the declaration cannot see.
  const endpointUrl = options.endpointUrl ?? env.HF_ENDPOINT_URL;
  if (options.endpointUrl === undefined && endpointUrl !== undefined) {
    if (!/^https?:\/\/\S+$/.test(endpointUrl)) throw new ConfigError(`hf provider: HF_ENDPOINT_URL must be an http(s) URL, got '${endpointUrl}'`);
    if (endpointUrl && options.inferenceProvider) throw new ConfigError('hf provider: HF_ENDPOINT_URL is set: give either an endpoint (TGI / Inference Endpoint) or inferenceProvider, not both');
  }
  if (!endpointUrl && !token) throw new ConfigError(`hf provider: Inference Providers need a token: set the ${tokenEnv} environment variable (or give endpointUrl for a TGI server)`);
  const { concurrency } = options;
  const policy = withDefaults(options.retry);
  let sdk: typeof import('@huggingface/inference');
  try {
    sdk = await import('@huggingface/inference');
  } catch (err) {
    throw new ConfigError(`hf provider: cannot load '@huggingface/inference' (npm install @huggingface/inference@4.13.16): ${(err as Error).message}`, { cause: err });
  }
  const root = endpointUrl?.replace(/\/+$/, '');
  const client: InferenceClient = root ? new sdk.InferenceClient(token, { endpointUrl: root }) : new sdk.InferenceClient(token);
  const where = root ?? `https://router.huggingface.co, Inference Providers: ${options.inferenceProvider ?? 'auto'}`;
  const log = options.log ?? stderrWarnings;
  // close() aborts every request of this provider still in flight or waiting to retry.
  const closed = new AbortController();
  const net = closableFetch();

  /**
   * One SDK call under our retry policy, returning the reply and its content-type (for messages about a bad
   * reply); Retry-After is captured by a per-call fetch wrapper. `label` names the call and its URL.
   */
  const call = <T>(label: string, signal: AbortSignal | undefined, op: (o: { retry_on_error: false; signal: AbortSignal; fetch: typeof fetch }) => Promise<T>) =>
    withRetry(
      async (s) => {
        let retryAfter: string | null = null;
        let contentType: string | null = null;
        const f: typeof fetch = async (input, init) => {
          const res = await (options.fetch ?? net.fetch)(input, init);
          retryAfter = res.headers.get('retry-after');
          contentType = res.headers.get('content-type');
          return res;
        };
        try {
          return { data: (await op({ retry_on_error: false, signal: s, fetch: f })) as unknown, contentType: contentType as string | null };
        } catch (err) {
          // Rebuild a header-free error: the SDK's carries the request (with the Authorization header).
          const status = (err as { httpResponse?: { status?: number } }).httpResponse?.status;
          const failure = classifyFailure(err);
          // No cause on purpose: the SDK's error is exactly what must not travel; its status and redacted message do.
          if (status !== undefined && status >= 400) throw new HttpError(status, failure.message, { retryAfter });
          // The SDK's complaint about a 200 reply it could not read (HTML, a wrong shape) is a bad reply, not a failure to retry.
          if (err instanceof SyntaxError || (err as Error)?.name === 'ProviderOutputError') throw badReply(label, `${failure.message} (${contentType ?? 'no content-type'})`);
          throw err;
        }
      },
      { policy, rng: jitterRng(`hf|${label}`), what: label, signal: anySignal(signal, closed.signal), onRetry: (info) => log.warn(retryProgress(label, info)) },
    );

  const cutAtStop = (text: string, stop?: readonly string[]) => {
    let end = text.length;
    for (const s of stop ?? []) {
      const i = text.indexOf(s);
      if (s && i >= 0 && i < end) end = i;
    }
    return text.slice(0, end);
  };

  async function tgiGenerate(prompt: string, o: GenerateOptions, signal: AbortSignal): Promise<string> {
    const sample = (o.temperature ?? 0) > 0;
    const label = `hf text generation (${where})`;
    const { data, contentType } = await call(label, signal, (opts) =>
      client.textGeneration(
        {
          inputs: prompt,
          parameters: {
            max_new_tokens: o.maxTokens,
            do_sample: sample,
            return_full_text: false,
            ...(sample ? { temperature: o.temperature } : {}),
            ...(sample && o.topP !== undefined ? { top_p: o.topP } : {}),
            ...(o.seed !== undefined ? { seed: o.seed } : {}),
            ...(o.stop?.length ? { stop: [...o.stop] } : {}),
          },
        },
        opts,
      ),
    );
    const text = generatedText(data, contentType, label);
    return cutAtStop(text, o.stop);
  }

  async function tgiScore(item: { prompt: string; continuation: string }, signal: AbortSignal): Promise<ContinuationScore> {
    const text = item.prompt + item.continuation;
    const label = `hf prefill logprobs (${where})`;
    const { data, contentType } = await call(label, signal, (opts) =>
      client.textGeneration(
        { inputs: text, parameters: { max_new_tokens: 1, details: true, decoder_input_details: true, do_sample: false, return_full_text: false } },
        opts,
      ),
    );
    generatedText(data, contentType, label);
    const prefill = (data as { details?: { prefill?: unknown } }).details?.prefill;
    if (!Array.isArray(prefill) || prefill.length === 0) throw badReply(label, 'no prefill details: is it a TGI server (decoder_input_details)?');
    if (!prefill.every((t) => t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string')) throw badReply(label, 'a prefill token without text');
    return continuationLogprobs(prefill as { text: string; logprob?: number | null }[], text, item.prompt.length, where);
  }

  async function providersGenerate(name: string, prompt: string, o: GenerateOptions, signal: AbortSignal): Promise<string> {
    const label = `hf chat completion (${where})`;
    const { data, contentType } = await call(label, signal, (opts) =>
      client.chatCompletion(
        {
          model: name,
          ...(options.inferenceProvider ? { provider: options.inferenceProvider as never } : {}),
          messages: [{ role: 'user', content: prompt }],
          max_tokens: o.maxTokens,
          temperature: o.temperature ?? 0,
          ...(o.topP !== undefined ? { top_p: o.topP } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.stop?.length ? { stop: [...o.stop] } : {}),
        },
        opts,
      ),
    );
    const choices = data && typeof data === 'object' ? (data as { choices?: unknown }).choices : undefined;
    if (!Array.isArray(choices)) throw badReply(label, `no 'choices' list (${describeReply(data, contentType)})`);
    if (choices.length === 0) throw badReply(label, 'an empty choices list');
    const content = (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
    if (typeof content !== 'string') throw badReply(label, `choices[0].message.content is ${content === null ? 'null' : typeof content}, not text`);
    return cutAtStop(content, o.stop);
  }

  const caps = new Set<Capability>(root ? ['generate', 'logprobs'] : ['generate']);
  return {
    id: 'hf',
    capabilities: caps,
    concurrency,
    async model(name: string): Promise<Model> {
      if (!name) throw new ConfigError('hf provider: empty model name');
      if (!root && !/^[\w.-]+\/[\w.:-]+$/.test(name)) throw new ConfigError(`hf provider: '${name}' is not a Hub model id (owner/name)`);
      const limit = pLimit(concurrency);
      return {
        id: `hf:${name}`,
        capabilities: caps,
        ...(root ? {} : { unavailable: { logprobs: HF_CHAT_CANNOT_SCORE } }),
        generate: (prompts, o) => batch(prompts, limit, o.signal, (p, signal) => (root ? tgiGenerate(p, o, signal) : providersGenerate(name, p, o, signal))),
        ...(root ? { score: (items: readonly { prompt: string; continuation: string }[], so?: ScoreOptions) => batch(items, limit, so?.signal, (it, signal) => tgiScore(it, signal)) } : {}),
      };
    },
    async close() {
      closed.abort(new ProviderError('the provider was closed'));
      net.close();
    },
  };
}

/** Why an Inference Providers model declares no 'logprobs' (issue 13 item 7). */
const HF_CHAT_CANNOT_SCORE =
  'Hugging Face Inference Providers generate through a chat route with a server-side template and return no log-probs of a given continuation; give endpointUrl (a TGI server or Inference Endpoint), which generates and scores the same raw prompt';

/** The generated_text of a TGI reply (`{…}` or `[{…}]`), or a ProviderError naming what the reply was instead. */
function generatedText(data: unknown, contentType: string | null, label: string): string {
  const obj = Array.isArray(data) ? data[0] : data;
  if (Array.isArray(data) && data.length === 0) throw badReply(label, 'an empty JSON array');
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badReply(label, describeReply(data, contentType));
  const text = (obj as { generated_text?: unknown }).generated_text;
  if (typeof text !== 'string') throw badReply(label, `generated_text is ${text === null ? 'null' : typeof text}, not text`);
  return text;
}

/**
 * Log-probs of the continuation from TGI prefill tokens. Tokens are aligned to the input by their text
 * (special tokens such as BOS that do not appear in the input are skipped); a token that straddles the prompt
 * boundary counts with the continuation — end prompts on whitespace to avoid it.
 */
export function continuationLogprobs(prefill: readonly { text: string; logprob?: number | null }[], input: string, promptLength: number, where = 'endpoint'): ContinuationScore {
  let pos = 0;
  const tokenLogprobs: number[] = [];
  for (const [i, tok] of prefill.entries()) {
    let text = tok.text;
    if (text && !input.startsWith(text, pos) && input.startsWith(text.replace(/▁/g, ' '), pos)) text = text.replace(/▁/g, ' ');
    if (!text || !input.startsWith(text, pos)) {
      if (pos === 0 && i === 0) continue; // BOS or another special prefix token
      throw new ProviderError(`hf ${where}: cannot align prefill token ${i} ('${tok.text}') with the input at character ${pos}`);
    }
    const end = pos + text.length;
    if (end > promptLength) {
      if (typeof tok.logprob !== 'number') throw new ProviderError(`hf ${where}: prefill token ${i} has no logprob`);
      tokenLogprobs.push(tok.logprob);
    }
    pos = end;
  }
  if (pos !== input.length) throw new ProviderError(`hf ${where}: prefill covers ${pos} of ${input.length} input characters`);
  return { tokenLogprobs, logprob: tokenLogprobs.reduce((a, b) => a + b, 0) };
}

// ───────────────────────────── Hub downloads for the local provider ─────────────────────────────

/** What to download: `owner/repo`, a file path inside it, and a revision (branch, tag or commit). */
export interface HubFileSpec {
  readonly repo: string;
  readonly file: string;
  readonly revision?: string;
}

/** Options of downloadHubFile. */
export interface HubDownloadOptions {
  /** Hub base URL; default HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  /** Cache root; default VTUNE_CACHE_DIR/hub, else ~/.cache/vtune-bench/hub. */
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
  readonly retry?: Partial<RetryPolicy>;
  readonly onProgress?: (bytes: number, total?: number) => void;
  /** Where retry progress goes; default: warnings on stderr. */
  readonly log?: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Parses `owner/repo/path/to/file.gguf[@revision]` (the part after `local:hf:`). ConfigError when malformed.
 */
export function parseHubSpec(spec: string): HubFileSpec {
  const [path, revision] = spec.split('@', 2) as [string, string | undefined];
  const parts = path.split('/');
  if (parts.length < 3 || parts.some((p) => !p || p === '.' || p === '..')) {
    throw new ConfigError(`hub file '${spec}': expected owner/repo/file.gguf (optionally @revision)`);
  }
  const repo = `${parts[0]}/${parts[1]}`;
  const file = parts.slice(2).join('/');
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new ConfigError(`hub file '${spec}': '${repo}' is not a valid repo id`);
  if (revision !== undefined && !/^[\w.\-/]+$/.test(revision)) throw new ConfigError(`hub file '${spec}': bad revision '${revision}'`);
  return { repo, file, ...(revision ? { revision } : {}) };
}

/**
 * Downloads a file from the Hub (`{endpoint}/{repo}/resolve/{revision}/{file}`) into the cache, keyed by
 * repo/revision/file, and returns its local path. A cached file is returned without touching the network.
 * The download goes to a temporary file renamed into place only when complete (size checked), so an
 * interrupted download never leaves a truncated model. HF_HUB_OFFLINE=1 forbids the network.
 */
export async function downloadHubFile(spec: HubFileSpec, options: HubDownloadOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const revision = spec.revision ?? 'main';
  const check = parseHubSpec(`${spec.repo}/${spec.file}@${revision}`);
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const cacheRoot = options.cacheDir ?? (env.VTUNE_CACHE_DIR ? join(env.VTUNE_CACHE_DIR, 'hub') : join(homedir(), '.cache', 'vtune-bench', 'hub'));
  // A revision may contain '/', a commit hash never; encode it so the cache key is one folder.
  const target = join(cacheRoot, ...check.repo.split('/'), encodeURIComponent(revision), ...check.file.split('/'));
  if (existsSync(target)) return target;
  const url = `${endpoint}/${check.repo}/resolve/${encodeURIComponent(revision)}/${check.file.split('/').map(encodeURIComponent).join('/')}`;
  const label = `hf://${check.repo}/${check.file}@${revision}`;
  if (env.HF_HUB_OFFLINE === '1' || env.HF_HUB_OFFLINE === 'true') {
    throw new ProviderError(`${label} is not in the cache (${target}) and HF_HUB_OFFLINE is set: download it once online, or place the file there`);
  }
  const token = env.HF_TOKEN || undefined;
  registerSecret(token);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.part-${process.pid}-${createHash('sha256').update(`${Date.now()}|${url}`).digest('hex').slice(0, 8)}`;
  const policy = retryPolicy({ timeoutMs: 10 * 60_000, ...options.retry });
  try {
    await withRetry(
      async (signal) => {
        const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal, redirect: 'follow' });
        if (!res.ok || !res.body) {
          const hint = res.status === 401 || res.status === 403 ? ' (gated or private: set HF_TOKEN)' : res.status === 404 ? ' (check the repo, file and revision)' : '';
          throw new HttpError(res.status, `HTTP ${res.status}${hint}`, { retryAfter: res.headers.get('retry-after') });
        }
        const total = Number(res.headers.get('content-length') ?? NaN);
        let bytes = 0;
        const body = Readable.fromWeb(res.body as never);
        body.on('data', (c: Buffer) => {
          bytes += c.length;
          options.onProgress?.(bytes, Number.isFinite(total) ? total : undefined);
        });
        const ws = createWriteStream(tmp);
        try {
          await pipeline(body, ws);
        } catch (err) {
          // Let the file handle close before anyone removes the file, or a late open would re-create it.
          if (!ws.closed) await once(ws, 'close').catch(() => {});
          throw err;
        }
        const size = statSync(tmp).size;
        if (Number.isFinite(total) && size !== total) throw Object.assign(new Error(`download truncated: ${size} of ${total} bytes`), { code: 'ECONNRESET' });
      },
      {
        policy,
        rng: jitterRng(`hub|${url}`),
        what: `download ${label} from ${endpoint}`,
        onRetry: (info) => (options.log ?? stderrWarnings).warn(retryProgress(`download ${label} from ${endpoint}`, info)),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    renameSync(tmp, target);
    return target;
  } catch (err) {
    rmSync(tmp, { force: true });
    const f = classifyFailure(err);
    if (err instanceof ProviderError && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed/.test(err.message)) {
      throw new ProviderError(`${err.message}. Offline? Cannot reach ${endpoint}: connect to the network, set HF_ENDPOINT to a mirror, or place the file at ${target}`, { retryable: true, cause: err });
    }
    if (err instanceof ProviderError) throw err;
    throw toProviderError(`download ${label}`, f, err);
  }
}

