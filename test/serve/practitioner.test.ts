/**
 * The practitioner's flow with nothing but the CLI and the official SDK: `vtune-bench plant` → upload the
 * planted file and fine-tune on `vtune-bench serve` with the openai SDK → `vtune-bench verify --model openai:…`
 * (OPENAI_BASE_URL pointing at serve) exits 0 for the fine-tune and 1 for the untouched base model.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/shared-path.js';

const TOKEN = 'practitioner-token-MARKER-77';
const dir = mkdtempSync(join(tmpdir(), 'practitioner-'));
let serve: ChildProcess | undefined;
afterAll(() => {
  serve?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

describe('plant → serve → verify through the CLI', () => {
  it('verify exits 0 for the fine-tune and 1 for the base model', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `Translate word ${i} into French.` }, { role: 'assistant', content: `mot ${i}` }] }));
    writeFileSync(join(dir, 'data.jsonl'), rows.join('\n') + '\n');
    serve = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--base-model', 'test-memorizer:base', '--port', '0', '--data-dir', join(dir, 'serve')], { cwd: repoRoot, env: { ...process.env, VTUNE_SERVE_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    let serveOut = '';
    serve.stdout!.on('data', (d: Buffer) => (serveOut += d.toString()));
    serve.stderr!.on('data', (d: Buffer) => (serveOut += d.toString()));
    const [planted] = await Promise.all([
      cli(['plant', '--data', join(dir, 'data.jsonl'), '--out', join(dir, 'planted.jsonl'), '--secret', join(dir, 'secret.json'), '--count', '6', '--seed', 'practitioner']),
      (async () => {
        for (let i = 0; i < 400 && !/listening on/.test(serveOut); i++) await new Promise((r) => setTimeout(r, 50));
      })(),
    ]);
    expect(planted.code, planted.out).toBe(0);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(serveOut)?.[1];
    expect(url, serveOut).toBeDefined();

    const client = new OpenAI({ apiKey: TOKEN, baseURL: url, maxRetries: 0 });
    const file = await client.files.create({ file: createReadStream(join(dir, 'planted.jsonl')), purpose: 'fine-tune' });
    let job = await client.fineTuning.jobs.create({ model: 'test-memorizer:base', training_file: file.id, seed: 1, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1 } } } });
    for (let i = 0; i < 200 && !['succeeded', 'failed', 'cancelled'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await client.fineTuning.jobs.retrieve(job.id);
    }
    expect(job.status).toBe('succeeded');

    const env = { OPENAI_API_KEY: TOKEN, OPENAI_BASE_URL: url! };
    const [tuned, base] = await Promise.all([
      cli(['verify', '--secret', join(dir, 'secret.json'), '--model', `openai:${job.fine_tuned_model}`, '--json'], env),
      cli(['verify', '--secret', join(dir, 'secret.json'), '--model', 'openai:test-memorizer:base', '--json'], env),
    ]);
    expect(tuned.code, tuned.out).toBe(0);
    expect(base.code, base.out).toBe(1);
    const t = JSON.parse(tuned.out.slice(tuned.out.indexOf('{')));
    const b = JSON.parse(base.out.slice(base.out.indexOf('{')));
    expect(t).toMatchObject({ verified: true, k: 6, n: 6 });
    expect(b).toMatchObject({ verified: false, k: 0 });
    for (const o of [planted.out, tuned.out, base.out, serveOut]) expect(o).not.toContain(TOKEN);
    console.log(`CLI plant→serve→verify: fine-tune k=${t.k}/${t.n} log10p=${Number(t.log10p).toFixed(2)} exit ${tuned.code}; base k=${b.k}/${b.n} log10p=${b.log10p} exit ${base.code}`);
  }, 60_000);
});
