/**
 * The provider registry: where models come from and how they train (DESIGN.md §5). Keys are the ids used in
 * scenarios (`<provider>:<model>`, `providers: { <id>: {options} }`) and on the command line. Each provider is
 * declared once (defineProvider): its options' types, validation (field paths, "did you mean"), defaults and
 * help for `vtune-bench list providers <id>`, and the capabilities it can offer. The declaration is the
 * factory: `providers.get(id)(options)` validates, then opens the provider (hosted ones load lazily).
 * Code-only options (a logger, an environment, a fetch function) are accepted for tests and embedding, never
 * from a scenario file (JSON cannot hold them).
 */
import { defineProvider, z } from '../plugins/define.js';
import { registryOf } from '../registry.js';
import type { Logger } from '../types.js';
import type { CommandProviderOptions } from './command.js';
import type { HfProviderOptions } from './hf.js';
import { createLocalProvider } from './local.js';
import type { OpenAIProviderOptions } from './openai.js';
import { createTestMemorizerProvider } from './test-memorizer.js';

const positiveInt = (what: string) => z.int().min(1).optional().describe(what);
const positiveMs = (what: string) => z.number().gt(0).optional().describe(what);
const logger = () => z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function').optional().describe('code only: where warnings and retries are logged');
const environment = () => z.record(z.string(), z.string().optional()).optional().describe('code only: the environment to read (default process.env)');
const retry = () =>
  z
    .object({
      maxAttempts: z.int().min(1),
      maxTotalMs: z.number().gt(0),
      baseDelayMs: z.number().min(0),
      maxDelayMs: z.number().min(0),
      timeoutMs: z.number().gt(0),
    })
    .partial()
    .strict()
    .optional()
    .describe('retry policy of HTTP calls (src/providers/http.ts)');

const openaiOptions = z.object({
  baseURL: z.string().min(1).optional().describe('API base URL (default OPENAI_BASE_URL, else the SDK default): any OpenAI-compatible server'),
  apiKeyEnv: z.string().min(1).optional().describe('environment variable holding the key (default OPENAI_API_KEY); the key itself is never an option'),
  requireKey: z.boolean().optional().describe('false: allow a server without auth (a placeholder key is sent); default true'),
  api: z.enum(['chat', 'completions']).optional().describe("inference API (default 'chat', else VTUNE_OPENAI_API); 'completions' can score"),
  logprobs: z.union([z.literal('probe'), z.boolean()]).optional().describe("with api 'completions': 'probe' (default) tries echo+logprobs on open; true/false force it"),
  pollIntervalMs: positiveMs('first poll interval of a fine-tuning job (backs off ×1.5)'),
  pollMaxMs: positiveMs('longest poll interval'),
  pollOutageMs: positiveMs('tolerate an unreachable server this long while polling (default 10 min)'),
  maxJobMs: positiveMs('give up on (and cancel) a job after this long (default 24 h)'),
  suffix: z.string().min(1).max(64).optional().describe("fine-tuned model name suffix (default 'vtune')"),
  trainingUsdPerMillionTokens: z.number().min(0).optional().describe('price per million trained tokens, to report costUsd (no built-in price list)'),
  concurrency: positiveInt('parallel requests per model'),
  retry: retry(),
  log: logger(),
  env: environment(),
});

const hfOptions = z.object({
  endpointUrl: z.string().min(1).optional().describe('a TGI / Inference Endpoint URL (default HF_ENDPOINT_URL)'),
  inferenceProvider: z.string().min(1).optional().describe('a Hugging Face Inference Provider (instead of an endpoint)'),
  tokenEnv: z.string().min(1).optional().describe('environment variable holding the token (default HF_TOKEN); never an option itself'),
  concurrency: positiveInt('parallel requests per model'),
  retry: retry(),
  log: logger(),
  env: environment(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function').optional().describe('code only: the fetch function (tests)'),
});

const commandOptions = z.object({
  template: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional().describe('the training command (default VTUNE_COMMAND_TEMPLATE); it prints where it serves the model'),
  cwd: z.string().min(1).optional().describe('working folder of the command'),
  env: z.record(z.string(), z.string()).optional().describe('extra environment of the command'),
  timeoutMs: positiveMs('give up on a training command after this long'),
  workRoot: z.string().min(1).optional().describe('where job folders are written'),
  openai: z.record(z.string(), z.unknown()).optional().describe('options of the openai client for a served model (see `list providers openai`)'),
  hf: z.record(z.string(), z.unknown()).optional().describe('options of the hf client for a served model (see `list providers hf`)'),
  base: z.string().min(1).optional().describe('base model name passed to the command'),
  log: logger(),
});

/** All providers by id. */
export const providers = registryOf('provider', [
  defineProvider({
    id: 'local',
    description: 'the embedded CPU engine (Llama architecture, WASM SIMD): trains and serves in-process, bit-reproducible',
    capabilities: ['train', 'generate', 'logprobs', 'embed', 'weights'],
    options: z.object({
      threads: positiveInt("worker threads for training (default: the engine's choice)"),
      concurrency: positiveInt('cells using the provider at once (default 1: the engine already uses both cores)'),
    }),
    create: (o) => createLocalProvider(o),
  }),
  defineProvider({
    id: 'test-memorizer',
    description: 'A TEST DOUBLE for unit tests only (never a default): a deterministic word-level memoriser',
    capabilities: ['train', 'generate', 'logprobs'],
    create: () => createTestMemorizerProvider(),
  }),
  defineProvider({
    id: 'openai',
    description: 'OpenAI fine-tuning and inference, or any OpenAI-compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)',
    capabilities: ['train', 'generate', 'logprobs'],
    options: openaiOptions,
    create: async (o) => (await import('./openai.js')).createOpenAIProvider(o as OpenAIProviderOptions),
  }),
  defineProvider({
    id: 'hf',
    description: 'Hugging Face inference: TGI, Inference Endpoints or Inference Providers (HF_TOKEN, HF_ENDPOINT_URL)',
    capabilities: ['generate', 'logprobs'],
    options: hfOptions,
    create: async (o) => (await import('./hf.js')).createHfProvider(o as HfProviderOptions),
  }),
  defineProvider({
    id: 'command',
    description: 'your own training script (VTUNE_COMMAND_TEMPLATE): it trains and prints where it serves the result',
    capabilities: ['train', 'generate'],
    options: commandOptions,
    create: async (o) => (await import('./command.js')).createCommandProvider(o as Partial<CommandProviderOptions>),
  }),
] as const);

/** A provider id. */
export type ProviderId = (typeof providers.ids)[number];
