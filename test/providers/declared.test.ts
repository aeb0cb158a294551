/**
 * Providers are validated once, by their declarations (issue 16): each `create*Provider(options)` is its
 * declaration's factory, so a bad option gets exactly the problems `check` finds — the field path as data and
 * "did you mean" — whether the provider is opened directly, through the registry, or named in a scenario (at
 * load, before any cell runs, nested options included). Only values read from the environment are checked when
 * the provider opens. No network is used: every case fails before a request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { isDefinition } from '../../src/plugins/define.js';
import { createCommandProvider } from '../../src/providers/command.js';
import { createHfProvider } from '../../src/providers/hf.js';
import { providers } from '../../src/providers/index.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { loadScenario } from '../../src/runner/scenario.js';

const rejection = async (p: Promise<unknown>): Promise<ConfigError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
};

const KEY = { OPENAI_API_KEY: 'k-123456789' };

/** Bad options per provider, the function that opens it directly, and the problems the declaration finds. */
const CASES = [
  {
    id: 'local',
    open: (o: never) => createLocalProvider(o),
    options: { threads: 0, concurrency: 1.5, thread: 2 },
    problems: [
      { path: ['threads'], message: 'expected an integer ≥ 1, got 0' },
      { path: ['concurrency'], message: 'expected an integer ≥ 1, got 1.5' },
      { path: ['thread'], message: "unknown option 'thread'. Did you mean 'threads'? Available: threads, concurrency" },
    ],
  },
  {
    id: 'openai',
    open: (o: never) => createOpenAIProvider(o),
    options: { env: KEY, suffix: 'has space', pollIntervalMs: 0, retry: { maxAttempt: 3 } },
    problems: [
      { path: ['pollIntervalMs'], message: 'expected a number > 0, got 0' },
      { path: ['suffix'], message: `expected 1–40 letters, digits, '-' or '_', got "has space"` },
      { path: ['retry', 'maxAttempt'], message: expect.stringContaining("unknown option 'maxAttempt'. Did you mean 'maxAttempts'?") },
    ],
  },
  {
    id: 'hf',
    open: (o: never) => createHfProvider(o),
    options: { env: {}, endpointUrl: 'http://127.0.0.1:9', inferenceProvider: 'together', concurrency: 0 },
    problems: [
      { path: ['concurrency'], message: 'expected an integer ≥ 1, got 0' },
      { path: ['inferenceProvider'], message: 'give either endpointUrl (TGI / Inference Endpoint) or inferenceProvider, not both' },
    ],
  },
  {
    id: 'command',
    open: (o: never) => createCommandProvider(o),
    options: { template: 'train {train}', base: 'ollama http://x', timeoutMs: -1, openai: { pollIntervalMS: 5 }, hf: { endpointUrl: 'http://x' } },
    problems: [
      { path: ['timeoutMs'], message: 'expected a number > 0, got -1' },
      { path: ['openai', 'pollIntervalMS'], message: expect.stringContaining("unknown option 'pollIntervalMS'. Did you mean 'pollIntervalMs'?") },
      { path: ['hf', 'endpointUrl'], message: expect.stringContaining("unknown option 'endpointUrl'") },
      { path: ['base'], message: `expected 'openai <url> <model>' or 'tgi <url>', got "ollama http://x"` },
    ],
  },
] as const;

describe('each provider is validated by its declaration only', () => {
  it.each(CASES)("'$id': opened directly or through the registry, a bad option gets the declaration's problems", async ({ id, open, options, problems }) => {
    const def = providers.get(id);
    expect(isDefinition(def)).toBe(true);
    if (!isDefinition(def)) return;
    const checked = def.check(options);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual(problems);
    const direct = await rejection(open(options as never));
    expect(direct.problems).toEqual(checked.problems);
    expect(direct.subject).toBe(`provider '${id}'`);
    const viaRegistry = await rejection(Promise.resolve().then(() => (def as (o: unknown) => unknown)(options)));
    expect(viaRegistry.problems).toEqual(checked.problems);
  });

  it('values from the environment, which no declaration sees, are checked when the provider opens', async () => {
    await expect(createHfProvider({ env: { HF_ENDPOINT_URL: 'ftp://x' } })).rejects.toThrow("hf provider: HF_ENDPOINT_URL must be an http(s) URL, got 'ftp://x'");
    await expect(createHfProvider({ env: { HF_ENDPOINT_URL: 'http://127.0.0.1:9' }, inferenceProvider: 'together' })).rejects.toThrow('HF_ENDPOINT_URL is set: give either an endpoint');
    await expect(createOpenAIProvider({ env: { ...KEY, VTUNE_OPENAI_API: 'messages' } })).rejects.toThrow("VTUNE_OPENAI_API must be 'chat' or 'completions', got 'messages'");
    await expect(createCommandProvider({ template: '   ' })).rejects.toThrow("command provider: option 'template' is empty");
  });

  it('a scenario naming bad provider options fails at load with their paths, nested client options included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-providers-'));
    const file = join(dir, 'providers.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'providers',
        seeds: 1,
        datasets: ['qa'],
        models: ['test-memorizer:base'],
        defenses: ['vtune'],
        attacks: ['honest'],
        hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
        providers: { local: { thread: 2 }, command: { base: 'tgi', openai: { suffix: '' } }, hf: { retry: { timeoutMs: 0 } } },
      }),
    );
    const err = await rejection(loadScenario(file, projectCatalog));
    expect(err.problems).toEqual([
      { path: ['providers', 'local', 'thread'], message: "unknown option 'thread'. Did you mean 'threads'? Available: threads, concurrency" },
      { path: ['providers', 'command', 'openai', 'suffix'], message: `expected 1–40 letters, digits, '-' or '_', got ""` },
      { path: ['providers', 'command', 'base'], message: `expected 'openai <url> <model>' or 'tgi <url>', got "tgi"` },
      { path: ['providers', 'hf', 'retry', 'timeoutMs'], message: 'expected a number > 0, got 0' },
    ]);
  });
});
