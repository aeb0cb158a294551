/**
 * `openai` provider: fine-tuning and inference through the official `openai` SDK, against api.openai.com or
 * any OpenAI-compatible base URL (vLLM, `vtune-bench serve`, a GPU box you control).
 *
 * Threat model: the provider is the party under test. We only see what its API returns, so everything here is
 * measured from the API's own answers (job status, trained_tokens, metrics events) and labelled as such.
 * Training: the planted rows go up as a chat-format JSONL file, then one supervised fine-tuning job is created
 * (hyper-parameters, seed, suffix), polled with backoff, its events streamed into onProgress, and cancelled if
 * the caller aborts. Creating a job is not idempotent: after an ambiguous failure (a reset or 5xx after the
 * request may have arrived) we look for the job in the job list before trying again, so a flaky network never
 * buys two fine-tunes. The same holds for the upload, whose file name is the content hash.
 * Inference through one API, option `api`: 'chat' (default; what OpenAI's chat and fine-tuned models speak) or
 * 'completions' (raw text, for OpenAI-compatible servers such as vLLM or `vtune-bench serve`). A model scores
 * the event it generates (issue 13 item 7): with 'completions', generation and scoring (`echo` + `logprobs`,
 * declared only when the server answers it: probed, or forced by an option) read the same raw prompt. With
 * 'chat', the server applies its chat template, and the API returns log-probs only of tokens it generated
 * itself, never of a given continuation under that template: the 'logprobs' capability is not declared, and
 * the model says why (`unavailable`), so a null mode that needs scores is refused before any query.
 * Every reply is checked: no choices, null content, a non-JSON body are errors naming the URL, never an
 * empty answer (an empty answer would count as a miss, and a miss is evidence against the provider).
 * Source: OpenAI fine-tuning API reference; wire formats verified in ../shared/notes/stack.md §2.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type OpenAI from 'openai';
import pLimit from 'p-limit';
import { ConfigError, ProviderError, registerSecret } from '../errors.js';
import type { Capability, ContinuationScore, GenerateOptions, Model, Provider, ScoreOptions, TrainRequest, TrainResult } from '../types.js';
import { closableFetch } from './fetch.js';
import { parseHyper } from '../plugins/hyper.js';
import { defineProvider, z } from '../plugins/define.js';
import { anySignal, badReply, batch, describeReply, jitterRng, retryProgress, sleep, stderrWarnings, withDefaults, withRetry } from './http.js';
import { creatorOf, positiveIntOption, durationOption, environmentOption, loggerOption, retryOption, urlOption } from './options.js';

/** The `openai` provider's options, declared once: types, validation (field paths, "did you mean"), defaults, help. */
export const openaiOptions = z.object({
  baseURL: urlOption('API base URL (default OPENAI_BASE_URL, else the SDK default https://api.openai.com/v1): any OpenAI-compatible server'),
  apiKeyEnv: z.string().min(1).optional().describe('environment variable holding the key (default OPENAI_API_KEY); the key itself is never an option'),
  requireKey: z.boolean().optional().describe('false: allow a server without auth (a placeholder key is sent); default true'),
  api: z.enum(['chat', 'completions']).optional().describe("inference API (default VTUNE_OPENAI_API, else 'chat'); 'completions' sends raw prompts and can score"),
  logprobs: z.union([z.literal('probe'), z.boolean()]).optional().describe("with api 'completions': 'probe' (default) tries echo+logprobs when a model is opened; true/false force it"),
  pollIntervalMs: durationOption('first poll interval of a fine-tuning job (backs off ×1.5 up to pollMaxMs)', 5000),
  pollMaxMs: durationOption('longest poll interval', 60_000),
  pollOutageMs: durationOption('while polling a job, tolerate an unreachable server this long (restarts, outages)', 600_000),
  maxJobMs: durationOption('give up on (and cancel) a job after this long', 24 * 3600_000),
  suffix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/)
    .meta({ expected: "1–40 letters, digits, '-' or '_'" })
    .default('vtune')
    .describe('fine-tuned model name suffix'),
  trainingUsdPerMillionTokens: z.number().min(0).optional().describe('price per million trained tokens, to report costUsd (no built-in price list: prices change)'),
  concurrency: positiveIntOption('parallel requests per model (generate/score)', 4),
  retry: retryOption(),
  log: loggerOption(),
  env: environmentOption(),
});

/** Options of the `openai` provider as written (all optional). */
export type OpenAIProviderOptions = z.input<typeof openaiOptions>;

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const SAVE_FORMAT = 'vtune-bench/openai-model';

/**
 * The `openai` provider, declared: `createOpenAIProvider(options)` validates them by the declaration, then opens
 * the provider. Loads the SDK lazily; a missing key is a ConfigError naming the variable.
 */
export const openaiProvider = defineProvider({
  id: 'openai',
  description: 'OpenAI fine-tuning and inference, or any OpenAI-compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)',
  capabilities: ['train', 'generate', 'logprobs'],
  options: openaiOptions,
  create: openOpenAIProvider,
});

/** Creates the `openai` provider (validates `options` by its declaration first: a bad one is a rejected promise). */
export const createOpenAIProvider = creatorOf(openaiProvider);

/** An opened `openai` provider. */
export type OpenAIProvider = Provider & { readonly baseURL?: string };

async function openOpenAIProvider(options: z.output<typeof openaiOptions>): Promise<OpenAIProvider> {
  const env = options.env ?? process.env;
  // Checks on values read from the environment, which the declaration cannot see.
  const keyEnv = options.apiKeyEnv ?? 'OPENAI_API_KEY';
  const apiKey = env[keyEnv];
  if (!apiKey && options.requireKey !== false) {
    throw new ConfigError(`openai provider: set the ${keyEnv} environment variable to your API key (it is never read from a file or an option)`);
  }
  registerSecret(apiKey);
  const baseURL = options.baseURL ?? env.OPENAI_BASE_URL;
  if (options.baseURL === undefined && baseURL !== undefined && !/^https?:\/\/\S+$/.test(baseURL)) throw new ConfigError(`openai provider: OPENAI_BASE_URL must be an http(s) URL, got '${baseURL}'`);
  const api = options.api ?? (env.VTUNE_OPENAI_API || 'chat');
  if (api !== 'chat' && api !== 'completions') throw new ConfigError(`openai provider: VTUNE_OPENAI_API must be 'chat' or 'completions', got '${String(api)}'`);
  // The api may come from the environment, so this rule between two options is checked here too.
  if (api === 'chat' && options.logprobs === true) throw new ConfigError(`openai provider: logprobs cannot be forced with api 'chat': ${CHAT_CANNOT_SCORE}`);
  const logprobsMode = api === 'chat' ? false : (options.logprobs ?? 'probe');
  const { pollIntervalMs, pollMaxMs, pollOutageMs, maxJobMs, concurrency, suffix } = options;
  const price = options.trainingUsdPerMillionTokens;
  const policy = withDefaults(options.retry);
  const log = options.log ?? stderrWarnings;
  // close() aborts every request of this provider still in flight or waiting to retry.
  const closed = new AbortController();

  let sdk: typeof import('openai');
  try {
    sdk = await import('openai');
  } catch (err) {
    throw new ConfigError(`openai provider: cannot load the 'openai' package (npm install openai@^6): ${(err as Error).message}`, { cause: err });
  }
  const where = (baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const net = closableFetch();
  const client: OpenAI = new sdk.default({ apiKey: apiKey || 'no-key', baseURL: where, maxRetries: 0, timeout: policy.timeoutMs, fetch: net.fetch });

  /** One call under the retry policy; `route` (e.g. '/chat/completions') names the URL in every message. */
  const retry = <T>(what: string, op: (signal: AbortSignal) => Promise<T>, extra: { signal?: AbortSignal; recover?: () => Promise<T | undefined>; route?: string } = {}) => {
    const label = `openai ${what} (${where}${extra.route ?? ''})`;
    return withRetry((signal) => op(signal), {
      policy,
      rng: jitterRng(`openai|${what}`),
      what: label,
      signal: anySignal(extra.signal, closed.signal),
      recover: extra.recover,
      onRetry: (info) => log.warn(retryProgress(label, info)),
    });
  };

  function modelName(model: Model): string {
    if (!model.id.startsWith('openai:')) throw new ConfigError(`openai provider cannot train model '${model.id}': open it with the openai provider`);
    return model.id.slice('openai:'.length);
  }

  async function probeLogprobs(name: string): Promise<boolean> {
    try {
      const out = await scoreOne(name, { prompt: 'The', continuation: ' end' }, closed.signal);
      return out.tokenLogprobs.length > 0 && out.tokenLogprobs.every(Number.isFinite);
    } catch (err) {
      if (err instanceof ProviderError && !err.retryable) return false;
      throw err;
    }
  }

  async function scoreOne(name: string, item: { prompt: string; continuation: string }, signal?: AbortSignal): Promise<ContinuationScore> {
    const text = item.prompt + item.continuation;
    const what = `openai completions, echo logprobs (${where}/completions)`;
    const { data, contentType } = await retry(
      'completions (echo logprobs)',
      async (s) => {
        const r = await client.completions.create({ model: name, prompt: text, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 }, { signal: s }).withResponse();
        return { data: r.data as unknown, contentType: r.response.headers.get('content-type') };
      },
      { signal, route: '/completions' },
    );
    const choice = firstChoice(data, contentType, what);
    const lp = choice.logprobs as { tokens?: unknown; token_logprobs?: unknown; text_offset?: unknown } | null | undefined;
    const tokens = lp?.tokens;
    const values = lp?.token_logprobs;
    const offsets = lp?.text_offset;
    if (!Array.isArray(tokens) || !Array.isArray(values) || !Array.isArray(offsets) || tokens.length === 0) {
      throw badReply(what, `no echo logprobs for model '${name}' (expected choices[0].logprobs with tokens, token_logprobs, text_offset)`);
    }
    if (values.length !== tokens.length || offsets.length !== tokens.length) throw badReply(what, `logprobs arrays of different lengths (${tokens.length} tokens, ${values.length} logprobs, ${offsets.length} offsets)`);
    const tokenLogprobs: number[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      const start = offsets[i];
      if (typeof tok !== 'string' || typeof start !== 'number') throw badReply(what, `token ${i} has no text or offset`);
      // A token that straddles the prompt boundary is counted with the continuation: without the server's
      // tokenizer that is the closest we can get. Prompts ending on whitespace avoid it.
      if (start + tok.length > item.prompt.length) {
        const v = values[i];
        if (typeof v !== 'number' || !(v <= 0)) throw badReply(what, `continuation token ${i} has no log-probability ≤ 0 (got ${JSON.stringify(v)})`);
        tokenLogprobs.push(v);
      }
    }
    if (tokenLogprobs.length === 0 && item.continuation.length > 0) throw badReply(what, 'the echoed tokens do not cover the continuation');
    return { tokenLogprobs, logprob: tokenLogprobs.reduce((a, b) => a + b, 0) };
  }

  /** The sampling fields chat and completions requests share (OpenAI takes at most 4 stop sequences). */
  function samplingFields(o: GenerateOptions): { temperature: number; top_p?: number; seed: number; stop?: string[] } {
    return {
      temperature: o.temperature ?? 0,
      ...(o.topP !== undefined ? { top_p: o.topP } : {}),
      seed: o.seed ?? 0,
      ...(o.stop?.length ? { stop: o.stop.slice(0, 4) } : {}),
    };
  }

  async function chatOne(name: string, prompt: string, o: GenerateOptions, signal: AbortSignal): Promise<string> {
    const what = `openai chat completion (${where}/chat/completions)`;
    const { data, contentType } = await retry(
      'chat completion',
      async (s) => {
        const r = await client.chat.completions
          .create(
            {
              model: name,
              messages: [{ role: 'user', content: prompt }],
              ...samplingFields(o),
              max_completion_tokens: o.maxTokens,
            },
            { signal: s },
          )
          .withResponse();
        return { data: r.data as unknown, contentType: r.response.headers.get('content-type') };
      },
      { signal, route: '/chat/completions' },
    );
    const message = firstChoice(data, contentType, what).message as { content?: unknown; refusal?: unknown } | null | undefined;
    if (!message || typeof message !== 'object') throw badReply(what, 'choices[0] has no message');
    if (typeof message.content !== 'string') {
      const refusal = typeof message.refusal === 'string' ? ` (refusal: ${JSON.stringify(message.refusal.slice(0, 80))})` : '';
      throw badReply(what, `choices[0].message.content is ${message.content === null ? 'null' : typeof message.content}, not text${refusal}`);
    }
    // OpenAI takes at most 4 stop sequences: apply every one here too (idempotent for the first 4).
    return cutAtStop(message.content, o.stop);
  }

  async function completeOne(name: string, prompt: string, o: GenerateOptions, signal: AbortSignal): Promise<string> {
    const what = `openai completion (${where}/completions)`;
    const { data, contentType } = await retry(
      'completion',
      async (s) => {
        const r = await client.completions
          .create(
            {
              model: name,
              prompt,
              ...samplingFields(o),
              max_tokens: o.maxTokens,
            },
            { signal: s },
          )
          .withResponse();
        return { data: r.data as unknown, contentType: r.response.headers.get('content-type') };
      },
      { signal, route: '/completions' },
    );
    const text = firstChoice(data, contentType, what).text;
    if (typeof text !== 'string') throw badReply(what, `choices[0].text is ${text === null ? 'null' : typeof text}, not text`);
    return cutAtStop(text, o.stop);
  }

  async function openModel(name: string, known?: boolean): Promise<Model> {
    if (!name) throw new ConfigError('openai provider: empty model name');
    // A model saved under api 'completions' keeps its probed answer only under that API.
    const logprobs = api === 'chat' ? false : (known ?? (logprobsMode === 'probe' ? await probeLogprobs(name) : logprobsMode));
    const caps = new Set<Capability>(['generate']);
    if (logprobs) caps.add('logprobs');
    const limit = pLimit(concurrency);
    const model: Model = {
      id: `openai:${name}`,
      capabilities: caps,
      ...(logprobs
        ? {}
        : { unavailable: { logprobs: api === 'chat' ? CHAT_CANNOT_SCORE : `the server at ${where} did not answer an echo+logprobs completion for '${name}'` } }),
      generate: (prompts, o) => batch(prompts, limit, o.signal, (prompt, signal) => (api === 'chat' ? chatOne(name, prompt, o, signal) : completeOne(name, prompt, o, signal))),
      ...(logprobs ? { score: (items: readonly { prompt: string; continuation: string }[], so?: ScoreOptions) => batch(items, limit, so?.signal, (it, signal) => scoreOne(name, it, signal)) } : {}),
    };
    return model;
  }

  async function uploadFile(jsonl: string, signal?: AbortSignal): Promise<string> {
    const filename = `vtune-${createHash('sha256').update(jsonl).digest('hex').slice(0, 16)}.jsonl`;
    const bytes = Buffer.byteLength(jsonl);
    const findExisting = async (): Promise<string | undefined> => {
      const page = await client.files.list({ purpose: 'fine-tune', limit: 100 }, { timeout: policy.timeoutMs });
      return page.data.find((f) => f.filename === filename && f.bytes === bytes)?.id;
    };
    return retry(
      'upload training file',
      async (s) => (await client.files.create({ file: await sdk.toFile(Buffer.from(jsonl), filename, { type: 'application/jsonl' }), purpose: 'fine-tune' }, { signal: s })).id,
      { signal, recover: findExisting },
    );
  }

  async function createJob(params: OpenAI.FineTuning.JobCreateParams, startedSec: number, signal?: AbortSignal): Promise<OpenAI.FineTuning.FineTuningJob> {
    const findExisting = async () => {
      const page = await client.fineTuning.jobs.list({ limit: 100 }, { timeout: policy.timeoutMs });
      return page.data.find(
        (j) =>
          j.training_file === params.training_file &&
          j.model === params.model &&
          j.created_at >= startedSec - 5 &&
          j.status !== 'cancelled' &&
          (params.seed === undefined || j.seed === params.seed),
      );
    };
    return retry('create fine-tuning job', (s) => client.fineTuning.jobs.create(params, { signal: s }), { signal, recover: findExisting });
  }

  async function train(base: Model, req: TrainRequest): Promise<TrainResult> {
    parseHyper(req.hyper, { subject: 'openai provider' });
    const name = modelName(base);
    if (req.shouldStop) log?.warn('openai provider: shouldStop hooks cannot stop a hosted job early; ignored');
    const jsonl = toChatJsonl(req.rows);
    const fileId = await uploadFile(jsonl, req.signal);
    const startedSec = Math.floor(Date.now() / 1000);
    const hp: Record<string, unknown> = { n_epochs: req.hyper.epochs, batch_size: req.hyper.batchSize };
    const lrm = req.hyper.extra?.learning_rate_multiplier ?? req.hyper.extra?.learningRateMultiplier;
    if (lrm !== undefined) hp.learning_rate_multiplier = lrm;
    let job = await createJob(
      { model: name, training_file: fileId, suffix, seed: req.seed, method: { type: 'supervised', supervised: { hyperparameters: hp } } } as OpenAI.FineTuning.JobCreateParams,
      startedSec,
      req.signal,
    );
    const jobId = job.id;
    const seen = new Set<string>();
    let lastStep = 0;
    let lastLoss: number | undefined;
    let interval = pollIntervalMs;
    let outageSince: number | undefined;
    const deadline = Date.now() + maxJobMs;
    const cancel = async (why: string) => {
      try {
        await client.fineTuning.jobs.cancel(jobId, { timeout: Math.min(policy.timeoutMs, 10_000) });
      } catch (err) {
        log?.warn(`openai: could not cancel job ${jobId}: ${(err as Error).message}`);
      }
      return new ProviderError(`openai fine-tuning job ${jobId} cancelled: ${why}`, { retryable: false, cancelled: true });
    };
    const pumpEvents = async () => {
      const page = await retry('list job events', (s) => client.fineTuning.jobs.listEvents(jobId, { limit: 100 }, { signal: s }), { signal: req.signal });
      const fresh = page.data.filter((e) => !seen.has(e.id)).sort((a, b) => a.created_at - b.created_at);
      for (const ev of fresh) {
        seen.add(ev.id);
        const d = (ev.data ?? {}) as { step?: number; total_steps?: number; train_loss?: number };
        if (typeof d.step === 'number') lastStep = Math.max(lastStep, d.step);
        if (typeof d.train_loss === 'number') lastLoss = d.train_loss;
        req.onProgress?.({ stage: 'train', done: typeof d.step === 'number' ? d.step : lastStep, total: d.total_steps, loss: d.train_loss, message: ev.message });
      }
    };
    try {
      while (!TERMINAL.has(job.status)) {
        await sleep(interval, req.signal);
        interval = Math.min(pollMaxMs, Math.round(interval * 1.5));
        try {
          job = await retry('retrieve fine-tuning job', (s) => client.fineTuning.jobs.retrieve(jobId, { signal: s }), { signal: req.signal });
          await pumpEvents();
          outageSince = undefined;
        } catch (err) {
          // The job lives on the server: a restart or an outage is no reason to give up on it, for a while.
          if (!(err instanceof ProviderError) || !err.retryable || req.signal?.aborted) throw err;
          outageSince ??= Date.now();
          if (Date.now() - outageSince > pollOutageMs) throw err;
          log?.warn(`openai: job ${jobId} unreachable (${err.message}); still polling`);
        }
        if (Date.now() > deadline) throw await cancel(`still ${job.status} after ${Math.round(maxJobMs / 1000)} s (maxJobMs)`);
      }
      await pumpEvents();
    } catch (err) {
      if (req.signal?.aborted) throw await cancel('aborted by the caller');
      throw err;
    }
    if (job.status !== 'succeeded' || !job.fine_tuned_model) {
      const reason = job.error?.message ? `: ${job.error.message}` : '';
      throw new ProviderError(`openai fine-tuning job ${jobId} ended ${job.status}${reason}`, { retryable: false });
    }
    const tokensTrained = job.trained_tokens ?? 0;
    const promisedSteps = req.hyper.maxSteps ?? Math.ceil((req.rows.length * req.hyper.epochs) / Math.max(1, req.hyper.batchSize));
    if (lastStep === 0) log?.warn(`openai job ${jobId} reported no metrics events; stepsRun is the promised count`);
    const model = await openModel(job.fine_tuned_model);
    return {
      model,
      stepsRun: lastStep || promisedSteps,
      tokensTrained,
      ...(lastLoss !== undefined ? { finalLoss: lastLoss } : {}),
      ...(price !== undefined ? { costUsd: (tokensTrained / 1e6) * price } : {}),
    };
  }

  return {
    id: 'openai',
    baseURL,
    capabilities: new Set<Capability>(logprobsMode === false ? ['train', 'generate'] : ['train', 'generate', 'logprobs']),
    concurrency,
    model: (name: string) => openModel(name),
    train,
    async close() {
      closed.abort(new ProviderError('the provider was closed'));
      net.close();
    },
    async saveModel(model: Model, path: string): Promise<void> {
      // The model lives on the server: persist its id and where it lives, never the key.
      const body = JSON.stringify({ format: SAVE_FORMAT, version: 1, model: modelName(model), baseURL: baseURL ?? null, logprobs: model.capabilities.has('logprobs') }, null, 2);
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, body + '\n');
      await rename(tmp, path);
    },
    async loadModel(path: string): Promise<Model> {
      let parsed: { format?: unknown; version?: unknown; model?: unknown; logprobs?: unknown };
      try {
        parsed = JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        throw new ConfigError(`${path}: not a saved openai model (${(err as Error).message})`, { cause: err });
      }
      if (parsed.format !== SAVE_FORMAT || parsed.version !== 1 || typeof parsed.model !== 'string') {
        throw new ConfigError(`${path}: expected {"format":"${SAVE_FORMAT}","version":1,"model":"…"}`);
      }
      return openModel(parsed.model, typeof parsed.logprobs === 'boolean' ? parsed.logprobs : undefined);
    },
  };
}

/** Why a chat-API model declares no 'logprobs' (issue 13 item 7); shown when a null mode or attack needs scores. */
const CHAT_CANNOT_SCORE =
  "the openai provider generates through chat completions, whose server-side chat template the client cannot reproduce, and the chat API returns log-probs only of tokens it generated itself, never of a given continuation; scores taken elsewhere (a raw completion) would be of a different event. Use api 'completions' (VTUNE_OPENAI_API=completions) with a server that generates and scores raw prompts (vLLM, vtune-bench serve), or a provider that scores (local, an hf TGI endpoint)";

/** choices[0] of a reply, or a ProviderError saying what the reply was instead. */
function firstChoice(data: unknown, contentType: string | null, what: string): Record<string, unknown> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw badReply(what, describeReply(data, contentType));
  const choices = (data as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) throw badReply(what, `no 'choices' list (${describeReply(data, contentType)})`);
  if (choices.length === 0) throw badReply(what, 'an empty choices list');
  const first = choices[0];
  if (!first || typeof first !== 'object') throw badReply(what, 'choices[0] is not an object');
  return first as Record<string, unknown>;
}

/** Rows as OpenAI chat-format JSONL; per-row weight 0/1 maps to the assistant message `weight`. */
export function toChatJsonl(rows: TrainRequest['rows']): string {
  return rows
    .map((r, i) => {
      if (r.spans?.length) throw new ProviderError(`openai provider cannot train span weights (row ${i}): hosted fine-tuning has no per-token weights`);
      const w = r.weight ?? 1;
      if (w !== 0 && w !== 1) throw new ProviderError(`openai provider cannot train row ${i} with weight ${w}: hosted fine-tuning accepts only 0 or 1`);
      const assistant: Record<string, unknown> = { role: 'assistant', content: r.completion };
      if (w === 0) assistant.weight = 0;
      return JSON.stringify({ messages: [{ role: 'user', content: r.prompt }, assistant] });
    })
    .join('\n')
    .concat('\n');
}

function cutAtStop(text: string, stop?: readonly string[]): string {
  let end = text.length;
  for (const s of stop ?? []) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}
