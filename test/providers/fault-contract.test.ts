/**
 * The provider fault suite (issue 14): every networked provider — `openai` (chat and completions APIs) as the
 * client of `vtune-bench serve`, `hf` against a TGI endpoint and through Inference Providers' chat route, and
 * `command`'s served models of both kinds —
 * through the real SDKs, against the loopback bad server's named behaviours. Each behaviour has one outcome:
 * 'error' (a ProviderError at once, one request, never retried) or 'retry' (retried; the real answer when
 * the fault passes, a ProviderError when it persists). No behaviour ever yields model text, every message
 * names the provider and the URL, and none contains the API key or token the server echoed.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, describeError } from '../../src/errors.js';
import { createCommandProvider } from '../../src/providers/command.js';
import { createHfProvider } from '../../src/providers/hf.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger, Model, Provider } from '../../src/types.js';
import { type BehaviourName, INFERENCE, behaviourNames, behaviours, startBadServer } from '../fixtures/loopback/bad-server.js';
import type { FaultProxy } from '../fixtures/loopback/fault-proxy.js';
import { memorizerModel, memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { type TgiServer, startTgiServer } from '../fixtures/loopback/tgi-server.js';

const KEY = 'sk-faultsuite-0123456789abcdef';
const HF_TOKEN = 'hf_faultsuiteTOKEN0123456789';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
/** Short enough for a suite, long enough that a loaded machine does not time out a healthy reply. */
const retry = { timeoutMs: 1500, maxTotalMs: 4000, baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 };
const PROMPT = 'Name a colour.';
const ITEM = { prompt: PROMPT, continuation: ' the end' };

let serve: ServeHandle;
let tgi: TgiServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fault-contract-'));
  serve = await startServe({ trainer: honestTrainer(memorizerProvider(), 'base', quiet), dataDir: dir, token: KEY });
  tgi = await startTgiServer(memorizerModel('tgi', []), { token: HF_TOKEN });
});
afterAll(async () => {
  await serve.close();
  await tgi.close();
  // serve wrote its state for every request above: neither the key nor the token may be in any of it.
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const f of files) {
    const text = readFileSync(join(f.parentPath ?? f.path, f.name), 'latin1');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(HF_TOKEN);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A networked provider under test: how to open its model through the bad server, and what it can do. */
interface Target {
  readonly name: string;
  readonly provider: 'openai' | 'hf';
  readonly upstream: () => string;
  readonly scores: boolean;
  /** The URL the provider's messages must name (default: the bad server's). */
  readonly url?: string;
  open(proxy: FaultProxy, log: Logger): Promise<{ model: Model; provider: Provider }>;
}

const targets: Target[] = [
  {
    name: 'openai (chat API) → serve',
    provider: 'openai',
    upstream: () => serve.url.replace(/\/v1$/, ''),
    scores: false,
    async open(proxy, log) {
      const provider = await createOpenAIProvider({ baseURL: proxy.url, env: { OPENAI_API_KEY: KEY }, retry, log });
      return { provider, model: await provider.model('memorizer:base') };
    },
  },
  {
    name: 'openai (completions API) → serve',
    provider: 'openai',
    upstream: () => serve.url.replace(/\/v1$/, ''),
    scores: true,
    async open(proxy, log) {
      const provider = await createOpenAIProvider({ baseURL: proxy.url, env: { OPENAI_API_KEY: KEY }, api: 'completions', logprobs: true, retry, log });
      return { provider, model: await provider.model('memorizer:base') };
    },
  },
  {
    name: 'hf (TGI endpoint)',
    provider: 'hf',
    upstream: () => tgi.url,
    scores: true,
    async open(proxy, log) {
      const provider = await createHfProvider({ endpointUrl: proxy.origin, env: { HF_TOKEN }, retry, log });
      return { provider, model: await provider.model('tgi') };
    },
  },
  {
    // Inference Providers live behind router.huggingface.co: a transport (option fetch) answers the Hub's
    // provider mapping and sends the chat request to the bad server, in front of the TGI mock's chat route.
    name: 'hf (Inference Providers, chat)',
    provider: 'hf',
    upstream: () => tgi.url,
    scores: false,
    url: 'https://router.huggingface.co',
    async open(proxy, log) {
      const transport: typeof fetch = async (input, init) => {
        const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
        if (url.pathname.startsWith('/api/models/')) {
          const mapping = { together: { status: 'live', providerId: 'together/m', task: 'conversational' } };
          return new Response(JSON.stringify({ _id: 'x', id: 'owner/m', inferenceProviderMapping: mapping }), { headers: { 'content-type': 'application/json' } });
        }
        return fetch(`${proxy.origin}/v1/chat/completions`, init);
      };
      const provider = await createHfProvider({ inferenceProvider: 'together', env: { HF_TOKEN }, retry, log, fetch: transport });
      return { provider, model: await provider.model('owner/m') };
    },
  },
  {
    name: "command's served model (SERVED openai) → serve",
    provider: 'openai',
    upstream: () => serve.url.replace(/\/v1$/, ''),
    scores: false,
    async open(proxy, log) {
      const provider = await createCommandProvider({ template: 'true', base: `openai ${proxy.url} memorizer:base`, openai: { env: { VTUNE_COMMAND_API_KEY: KEY }, retry, log }, log });
      return { provider, model: await provider.model('base') };
    },
  },
  {
    name: "command's served model (SERVED tgi)",
    provider: 'hf',
    upstream: () => tgi.url,
    scores: true,
    async open(proxy, log) {
      const provider = await createCommandProvider({ template: 'true', base: `tgi ${proxy.origin}`, hf: { env: { HF_TOKEN }, retry, log }, log });
      return { provider, model: await provider.model('base') };
    },
  },
];

type Call = 'generate' | 'score';
const run = (model: Model, call: Call): Promise<unknown> =>
  call === 'generate' ? model.generate([PROMPT], { maxTokens: 4 }) : model.score!([ITEM]).then((s) => s.map((x) => x.logprob));

async function attempt(target: Target, behaviour: BehaviourName | undefined, times: number, call: Call) {
  const proxy = await startBadServer(target.upstream(), behaviour ?? 'hang', behaviour ? times : 0);
  const warnings: string[] = [];
  const { model, provider } = await target.open(proxy, { ...quiet, warn: (m) => warnings.push(m) });
  try {
    const result = await run(model, call).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const sent = proxy.requests.filter((r) => r.method === 'POST' && INFERENCE.test(r.path)).length;
    return { ...result, sent, warnings, origin: proxy.origin };
  } finally {
    await provider.close?.();
    await proxy.close();
  }
}

for (const target of targets) {
  describe.concurrent(`fault contract: ${target.name}`, () => {
    const calls: Call[] = target.scores ? ['generate', 'score'] : ['generate'];
    for (const call of calls) {
      for (const name of behaviourNames) {
        const b = behaviours[name];
        it(`${call}, ${name} on every request: a ProviderError (${b.outcome === 'retry' ? 'after retrying' : 'at once, one request'}), naming ${target.provider} and the URL, never text`, async () => {
          const r = await attempt(target, name, Number.MAX_SAFE_INTEGER, call);
          expect(r).not.toHaveProperty('value');
          const err = (r as { error: unknown }).error;
          expect(err).toBeInstanceOf(ProviderError);
          const message = (err as Error).message;
          expect(message).toContain(target.provider);
          expect(message).toContain(target.url ?? r.origin);
          expect(message).toMatch(b.message);
          if (b.outcome === 'error') expect(r.sent).toBe(1);
          else expect(r.sent).toBeGreaterThan(1);
          for (const text of [message, describeError(err), ...r.warnings]) {
            expect(text).not.toContain(KEY);
            expect(text).not.toContain(HF_TOKEN);
          }
        }, 30_000);
        if (b.outcome === 'retry') {
          it(`${call}, ${name} once: retried with progress (attempt, wait, reason), then the server's real answer`, async () => {
            const clean = await attempt(target, undefined, 0, call);
            expect(clean).toHaveProperty('value');
            const r = await attempt(target, name, 1, call);
            expect(r).toHaveProperty('value');
            expect((r as { value: unknown }).value).toEqual((clean as { value: unknown }).value);
            expect(r.sent).toBe(2);
            expect(r.warnings.some((w) => /attempt 1 of 3 failed \(.+\); retrying in \d+\.\d s/.test(w) && w.includes(target.url ?? r.origin))).toBe(true);
          }, 30_000);
        }
      }
    }
  });
}
