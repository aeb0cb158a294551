/**
 * `serve` speaking the OpenAI wire format to the official SDK: files, jobs (events paging, cancel, restart
 * policy), models, chat logprobs and completion echo logprobs, and its errors.
 */
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { ServeOptions } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import { memorizerProvider, type MemorizerOptions } from '../fixtures/loopback/memorizer.js';
import { serveHarness } from './harness.js';

const TOKEN = 'server-unit-token-123456';
const h = serveHarness({ token: TOKEN, dirPrefix: 'serve-unit-', clientTimeoutMs: 5000 });
async function up(mem: MemorizerOptions = {}, extra: Partial<ServeOptions> = {}, dir?: string) {
  const dataDir = dir ?? h.newDir();
  return { client: await h.start({ trainer: honestTrainer(memorizerProvider(mem), 'base'), dataDir, ...extra }), dataDir };
}
const jsonl = [
  { messages: [{ role: 'user', content: 'The capital of France is' }, { role: 'assistant', content: ' Paris' }] },
  { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Two plus two' }, { role: 'assistant', content: ' four' }] },
  { prompt: 'Colour of grass:', completion: ' green' },
]
  .map((o) => JSON.stringify(o))
  .join('\n');
async function waitJob(client: OpenAI, id: string, until: (s: string) => boolean) {
  for (let i = 0; i < 200; i++) {
    const j = await client.fineTuning.jobs.retrieve(id);
    if (until(j.status)) return j;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('job did not reach the state');
}

describe('serve: OpenAI wire format', () => {
  it('files, a job with paged events, models, chat logprobs and completion echo logprobs', async () => {
    const { client } = await up();
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'train.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' });
    expect(file).toMatchObject({ object: 'file', bytes: Buffer.byteLength(jsonl), filename: 'train.jsonl', purpose: 'fine-tune', status: 'processed' });
    expect(await (await client.files.content(file.id)).text()).toBe(jsonl);
    const job = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, seed: 3, suffix: 'unit', method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 1 } } } });
    const done = await waitJob(client, job.id, (s) => s === 'succeeded');
    expect(done.fine_tuned_model).toMatch(/^ft:memorizer:base:unit:/);
    expect(done.trained_tokens).toBeGreaterThan(0);
    const events: string[] = [];
    for await (const ev of client.fineTuning.jobs.listEvents(job.id, { limit: 2 })) events.push(ev.message);
    expect(events.length).toBeGreaterThanOrEqual(9); // created, started, 6 metrics, model created, completed
    expect(events[0]).toBe('The job has successfully completed');
    expect(events.filter((m) => /^Step \d+\/6: training loss=/.test(m)).length).toBe(6);
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(['memorizer:base', done.fine_tuned_model]);
    expect((await client.models.retrieve(done.fine_tuned_model!)).id).toBe(done.fine_tuned_model);

    const chat = await client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'The capital of France is' }], temperature: 0, logprobs: true, max_completion_tokens: 5 });
    expect(chat.choices[0]!.message.content).toBe(' Paris');
    expect(chat.choices[0]!.logprobs!.content!.map((t) => t.token).join('')).toBe(' Paris');
    expect(chat.choices[0]!.logprobs!.content![0]!.logprob).toBeCloseTo(Math.log(0.99), 10);
    const sys = await client.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Two plus two' }], temperature: 0 });
    expect(sys.choices[0]!.message.content).toBe(' four'); // same message→prompt mapping as in training

    const c = await client.completions.create({ model: done.fine_tuned_model!, prompt: 'Colour of grass: green', echo: true, logprobs: 1, max_tokens: 0 });
    const lp = c.choices[0]!.logprobs!;
    expect(lp.tokens!.join('')).toBe('Colour of grass: green');
    expect(lp.token_logprobs![0]).toBeNull();
    expect(lp.text_offset).toEqual([0, 6, 9, 16]);
    expect(lp.token_logprobs![3]).toBeCloseTo(Math.log(0.99), 10);
    expect(c.choices[0]!.text).toBe('Colour of grass: green');

    await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 });
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o', training_file: file.id })).rejects.toMatchObject({ status: 400 });
    await expect(client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: 'file-doesnotexist' })).rejects.toMatchObject({ status: 400 });
    await expect(client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 0 } } } })).rejects.toThrow(/n_epochs must be an integer/);
    expect((await client.files.delete(file.id)).deleted).toBe(true);
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it('cancel stops a running job; JSON bodies are size-limited', async () => {
    const { client } = await up({ stepMs: 100 }, { maxJsonBytes: 2000 });
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 't.jsonl'), purpose: 'fine-tune' });
    const job = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 20 } } } });
    await waitJob(client, job.id, (s) => s === 'running');
    expect((await client.fineTuning.jobs.cancel(job.id)).status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 250));
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('cancelled');
    await expect(client.chat.completions.create({ model: 'memorizer:base', messages: [{ role: 'user', content: 'x'.repeat(5000) }] })).rejects.toMatchObject({ status: 413 });
  });

  it('--on-restart fail ends an interrupted job failed with the reason; resume runs it again', async () => {
    const first = await up({ stepMs: 100 });
    const file = await first.client.files.create({ file: await toFile(Buffer.from(jsonl), 't.jsonl'), purpose: 'fine-tune' });
    const a = await first.client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 20 } } } });
    await waitJob(first.client, a.id, (s) => s === 'running');
    await h.serve!.close();
    const second = await up({}, { onRestart: 'fail' }, first.dataDir);
    const failed = await second.client.fineTuning.jobs.retrieve(a.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'server_restart', message: expect.stringMatching(/restarted while this job was running/) });
    const b = await second.client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 20 } } } });
    await h.serve!.close(); // b was queued or running
    const third = await up({}, { onRestart: 'resume' }, first.dataDir);
    const resumed = await waitJob(third.client, b.id, (s) => s === 'succeeded');
    expect(resumed.status).toBe('succeeded');
  });
});
