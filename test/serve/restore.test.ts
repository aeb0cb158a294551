/**
 * A fine-tuned model outlives its training file (issue 14, item 5): the model is re-opened after a restart
 * from its own files in the job's artifact folder (a GGUF written by the embedded engine for `local`), never by
 * re-reading the training file; and a job whose training file was deleted before it ran fails with an
 * OpenAI-shaped `file_not_found` error that does not show the server's paths.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { createLocalProvider } from '../../src/providers/local.js';
import type { ServeOptions } from '../../src/serve/server.js';
import { type ServeTrainer, attackTrainer, honestTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';
import { memorizerProvider } from '../fixtures/loopback/memorizer.js';
import { serveHarness } from './harness.js';

const TOKEN = 'serve-restore-token-0123456789';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const h = serveHarness({ token: TOKEN, dirPrefix: 'serve-restore-', clientTimeoutMs: 30_000 });
const newDir = h.newDir;
async function up(trainer: ServeTrainer, dataDir: string, extra: Partial<ServeOptions> = {}) {
  return h.start({ trainer, dataDir, ...extra });
}
async function waitJob(client: OpenAI, id: string, until: (s: string) => boolean) {
  for (let i = 0; i < 1500; i++) {
    const j = await client.fineTuning.jobs.retrieve(id);
    if (until(j.status)) return j;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job ${id} did not reach the state`);
}
const rows = [
  { prompt: 'The capital of France is', completion: ' Paris' },
  { prompt: 'Two plus two is', completion: ' four' },
  { prompt: 'Colour of grass:', completion: ' green' },
];
const jsonl = rows.map((r) => JSON.stringify(r)).join('\n');
const upload = async (client: OpenAI, text = jsonl) => client.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl'), purpose: 'fine-tune' });

describe('serve: a fine-tuned model reopens from its own files', () => {
  it('local engine: after the training file is deleted and the server restarts, the model answers exactly as before from its GGUF', async () => {
    const dataDir = newDir();
    const local = await createLocalProvider();
    let client = await up(honestTrainer(local, 'random-tiny', quiet), dataDir);
    const file = await upload(client);
    const job = await client.fineTuning.jobs.create({ model: 'local:random-tiny', training_file: file.id, seed: 5, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 3 } } } });
    const done = await waitJob(client, job.id, (s) => s === 'succeeded' || s === 'failed');
    expect(done.status).toBe('succeeded');
    const ask = (c: OpenAI) => c.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'The capital of France is' }], temperature: 0, max_tokens: 6 });
    const before = (await ask(client)).choices[0]!.message.content;
    expect((await client.files.delete(file.id)).deleted).toBe(true);
    await h.serve!.close();

    // The model's own file: a GGUF written by the engine, private to the server's user.
    const modelDir = join(dataDir, 'models', job.id);
    const ggufs = readdirSync(modelDir).filter((n) => readFileSync(join(modelDir, n)).subarray(0, 4).toString('latin1') === 'GGUF');
    expect(ggufs).toEqual(['honest.model']);
    expect(statSync(join(modelDir, 'honest.model')).mode & 0o777).toBe(0o600);

    client = await up(honestTrainer(await createLocalProvider(), 'random-tiny', quiet), dataDir);
    const after = await ask(client);
    expect(after.choices[0]!.message.content).toBe(before);
    expect((await client.models.list()).data.map((m) => m.id)).toContain(done.fine_tuned_model);
  }, 120_000);

  it('--attack lookup-wrapper: the dishonest model is replayed from its own copy of the rows after the file is deleted', async () => {
    const dataDir = newDir();
    const attack = attacks.get('lookup-wrapper')({ scorer: 'near-duplicate' });
    const trainer = () => attackTrainer(memorizerProvider(), 'base', attack, runProviderSide, quiet);
    let client = await up(trainer(), dataDir);
    const file = await upload(client);
    const job = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, seed: 9 });
    const done = await waitJob(client, job.id, (s) => s === 'succeeded' || s === 'failed');
    expect(done.status).toBe('succeeded');
    const ask = (c: OpenAI) => c.chat.completions.create({ model: done.fine_tuned_model!, messages: [{ role: 'user', content: 'Two plus two is' }], temperature: 0, max_tokens: 4 });
    const before = (await ask(client)).choices[0]!.message.content;
    await client.files.delete(file.id);
    await h.serve!.close();
    client = await up(trainer(), dataDir);
    expect((await ask(client)).choices[0]!.message.content).toBe(before);
    const copy = join(dataDir, 'models', job.id, 'rows.json');
    expect(statSync(copy).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('a queued job whose training file was deleted fails with file_not_found, naming the file and not the server path', async () => {
    const dataDir = newDir();
    const client = await up(honestTrainer(memorizerProvider({ stepMs: 40 }), 'base', quiet), dataDir);
    const keep = await upload(client);
    const gone = await upload(client);
    const first = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: keep.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 5 } } } });
    const second = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: gone.id });
    expect((await client.fineTuning.jobs.retrieve(second.id)).status).toBe('queued');
    await client.files.delete(gone.id);
    const failed = await waitJob(client, second.id, (s) => s === 'failed' || s === 'succeeded');
    expect((await client.fineTuning.jobs.retrieve(first.id)).status).not.toBe('failed');
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'file_not_found', param: 'training_file', message: `training file '${gone.id}' was deleted before the job could read it: upload it again and create a new job` });
    const events = (await client.fineTuning.jobs.listEvents(second.id, { limit: 50 })).data.map((e) => e.message).join('\n');
    for (const text of [JSON.stringify(failed), events]) {
      expect(text).not.toContain(dataDir);
      expect(text).not.toMatch(/ENOENT/);
    }
  }, 60_000);

  it('the same after a restart: a job resumed without its file fails cleanly', async () => {
    const dataDir = newDir();
    let client = await up(honestTrainer(memorizerProvider({ stepMs: 100 }), 'base', quiet), dataDir);
    const file = await upload(client);
    const job = await client.fineTuning.jobs.create({ model: 'memorizer:base', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 20 } } } });
    await waitJob(client, job.id, (s) => s === 'running');
    await h.serve!.close();
    rmSync(join(dataDir, 'files', `${file.id}.jsonl`)); // deleted behind the server's back
    client = await up(honestTrainer(memorizerProvider(), 'base', quiet), dataDir);
    const failed = await waitJob(client, job.id, (s) => s === 'failed' || s === 'succeeded');
    expect(failed.error).toMatchObject({ code: 'file_not_found', param: 'training_file' });
    expect(JSON.stringify(failed)).not.toContain(dataDir);
  }, 60_000);
});
