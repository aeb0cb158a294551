/**
 * Length limits of `serve` over the real embedded engine (local:random-tiny, a 256-token context), issue 14
 * items 6 and 13: a completion longer than the context is the client's mistake (400 naming the limit, never a
 * 500 that clients retry); a chat without max_tokens gets what fits the context; and `usage.completion_tokens`
 * is the number of tokens the engine generated, checked against the engine itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalProvider, localState } from '../../src/providers/local.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';

const TOKEN = 'serve-limits-token-0123456789';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const MODEL = 'local:random-tiny';
let serve: ServeHandle;
let client: OpenAI;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-limits-'));
  serve = await startServe({ trainer: honestTrainer(await createLocalProvider(), 'random-tiny', quiet), dataDir: dir, token: TOKEN });
  client = new OpenAI({ apiKey: TOKEN, baseURL: serve.url, maxRetries: 0, timeout: 30_000 });
});
afterAll(async () => {
  await serve?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${serve.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
const user = (content: string) => [{ role: 'user', content }];

describe('serve: completion lengths against the context', () => {
  it('max_tokens beyond the context is a 400 naming the limit, for chat and completions', async () => {
    const chat = await post('/chat/completions', { model: MODEL, messages: user('Hello'), max_tokens: 300 });
    expect(chat.status).toBe(400);
    expect(chat.json.error).toMatchObject({ type: 'invalid_request_error', code: 'context_length_exceeded', param: 'max_tokens' });
    expect(chat.json.error.message).toMatch(/context is 256 tokens and the prompt takes \d+ of them, so max_tokens can be at most \d+; you asked for max_tokens = 300/);
    const newer = await post('/chat/completions', { model: MODEL, messages: user('Hello'), max_completion_tokens: 255 });
    expect(newer.status).toBe(400);
    expect(newer.json.error.param).toBe('max_completion_tokens');
    const legacy = await post('/completions', { model: MODEL, prompt: 'Hello', max_tokens: 1000 });
    expect(legacy.status).toBe(400);
    expect(legacy.json.error.code).toBe('context_length_exceeded');
    // through the SDK: a typed 400, not a server error
    await expect(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 256 })).rejects.toMatchObject({ status: 400 });
    // a prompt that leaves no room at all
    const full = await post('/chat/completions', { model: MODEL, messages: user('x'.repeat(400)) });
    expect(full.status).toBe(400);
    expect(full.json.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
  });

  it('the largest completion that fits is accepted; a chat without max_tokens gets what fits the context', async () => {
    const prompt = 'Once upon a time';
    const promptTokens = localState(await localModel()).tokenizer.encode(prompt, { bos: true }).length;
    const fits = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }], max_tokens: 256 - promptTokens, temperature: 0 });
    expect(fits.choices[0]!.message.content).toEqual(expect.any(String));
    const open = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }], temperature: 0 });
    expect(open.usage!.completion_tokens).toBeGreaterThan(0);
    expect(open.usage!.completion_tokens).toBeLessThanOrEqual(256 - promptTokens);
    expect(open.usage!.prompt_tokens).toBe(promptTokens);
  });

  it('usage.completion_tokens is the number of tokens the engine generated (never max_tokens + 1)', async () => {
    const model = await localModel();
    const { engine, weights, tokenizer } = localState(model);
    for (const [prompt, max] of [['Hello', 8], ['The cat sat on the', 5], ['A', 13]] as const) {
      const reply = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }], max_tokens: max, temperature: 0 });
      // ground truth: the engine itself, greedy, on the same token ids the provider builds (BOS + prompt)
      const ids = engine.generate(weights, [tokenizer.encode(prompt, { bos: true })], { maxTokens: max, temperature: 0, stopTokens: [tokenizer.eos, tokenizer.bos] })[0]!;
      expect(reply.usage!.completion_tokens, prompt).toBe(ids.length);
      expect(reply.usage!.prompt_tokens).toBe(tokenizer.encode(prompt, { bos: true }).length);
      expect(reply.usage!.total_tokens).toBe(reply.usage!.prompt_tokens + reply.usage!.completion_tokens);
      expect(reply.choices[0]!.finish_reason).toBe(ids.length === max ? 'length' : 'stop');
      const legacy = await client.completions.create({ model: MODEL, prompt, max_tokens: max, temperature: 0 });
      expect(legacy.usage!.completion_tokens).toBe(ids.length);
    }
  });
});

let opened: Awaited<ReturnType<Awaited<ReturnType<typeof createLocalProvider>>['model']>> | undefined;
async function localModel() {
  opened ??= await (await createLocalProvider()).model('random-tiny');
  return opened;
}
