/**
 * plant → train (test double) on the planted file → verify, through the real command modules, plus every bad
 * input the CLI must refuse without writing anything. One spawned run checks the exit codes of main.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, InputError, SecretError } from '../../src/errors.js';
import { readDataFile } from '../../src/datasets/files.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { plantCommand } from '../../src/cli/commands/plant.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { listCommand } from '../../src/cli/commands/list.js';
import { repoRoot } from '../../src/shared-path.js';
import { sealSecret } from '../../defenses/vtune/secret.js';
import { sampleRows } from '../defenses/fixtures.js';

let dir: string;
let stdout: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vtune-cli-'));
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

const chatLine = (r: { prompt: string; completion: string }) =>
  JSON.stringify({ messages: [{ role: 'user', content: r.prompt }, { role: 'assistant', content: r.completion }] });

async function writeChat(name: string, n: number): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `${sampleRows(n, name).map(chatLine).join('\n')}\n`);
  return p;
}

function plantArgs(data: string, extra: Record<string, unknown> = {}) {
  return { data, out: join(dir, 'train.jsonl'), secret: join(dir, 'secret.json'), generator: 'wordlist', seed: 'cli', placement: 'suffix', insertion: 'copy', empiricalM: 999, json: true, ...extra };
}

/** Trains the test double on a data file and saves it; returns the `--model` spec. */
async function trainOnFile(path: string): Promise<string> {
  const provider = await createTestMemorizerProvider();
  const { rows } = await readDataFile(path);
  const { model } = await provider.train(await provider.model('base'), { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 }, seed: 1 });
  const saved = join(dir, 'model.json');
  await provider.saveModel(model, saved);
  return `test-memorizer:${saved}`;
}

describe('vtune-bench plant / verify', () => {
  it('plant → train on the planted file → verify passes with log10 p ≤ −40 using ≤ 10 backdoors; the untrained model fails', async () => {
    const data = await writeChat('in.jsonl', 120);
    const before = await readFile(data);
    expect(await plantCommand.run(plantArgs(data, { count: 10 }))).toBe(0);
    const summary = JSON.parse(stdout.join(''));
    expect(summary).toMatchObject({ rowsIn: 120, rowsOut: 130, backdoors: 10, format: 'chat', generator: 'wordlist' });
    // Input untouched; output in the same (chat) format; secret private.
    expect(await readFile(data)).toEqual(before);
    const outText = await readFile(join(dir, 'train.jsonl'), 'utf8');
    expect(outText.trim().split('\n')).toHaveLength(130);
    for (const line of outText.trim().split('\n')) expect(JSON.parse(line).messages).toHaveLength(2);
    expect((await stat(join(dir, 'secret.json'))).mode & 0o777).toBe(0o600);
    // The printed summary never contains a signature.
    const secret = JSON.parse(await readFile(join(dir, 'secret.json'), 'utf8'));
    for (const b of secret.backdoors) expect(stdout.join('')).not.toContain(b.signature);

    const model = await trainOnFile(join(dir, 'train.jsonl'));
    stdout = [];
    expect(await verifyCommand.run({ secret: join(dir, 'secret.json'), model, alpha: 1e-3, slack: 4, json: true })).toBe(0);
    const verdict = JSON.parse(stdout.join(''));
    expect(verdict.verified).toBe(true);
    expect(verdict.n).toBeLessThanOrEqual(10);
    expect(verdict.k).toBe(10);
    expect(verdict.log10p).toBeLessThanOrEqual(-40);
    expect(verdict.perBackdoor[0].output).toBeUndefined(); // outputs only with --show-outputs

    stdout = [];
    expect(await verifyCommand.run({ secret: join(dir, 'secret.json'), model: 'test-memorizer:base', alpha: 1e-3, slack: 4, json: false })).toBe(1);
    const text = stdout.join('');
    expect(text).toContain('0/10 backdoors activated');
    expect(text).toContain('NOT VERIFIED');
    // Every null mode's p, the decision mode marked, and the warning against picking the smallest.
    expect(text).toMatch(/log10 p = 0\.000 \(generator null, the decision mode\)/);
    expect(text).toMatch(/\* generator +0\.000/);
    expect(text).toMatch(/ {3}conditional +0\.000/);
    expect(text).toMatch(/ {3}empirical +0\.000/);
    expect(text).toContain('the smallest of several p-values is not a p-value');

    // The paper's base-model null is labelled anti-conservative wherever it is printed.
    stdout = [];
    await verifyCommand.run({ secret: join(dir, 'secret.json'), model: 'test-memorizer:base', baseModel: 'test-memorizer:base', alpha: 1e-3, slack: 4, json: false });
    expect(stdout.join('')).toMatch(/base-model +-?\d+\.\d+ \(the paper's; ANTI-CONSERVATIVE, for comparison only\)/);
    stdout = [];
    await verifyCommand.run({ secret: join(dir, 'secret.json'), model: 'test-memorizer:base', baseModel: 'test-memorizer:base', nullMode: 'base-model', alpha: 1e-3, slack: 4, json: false });
    expect(stdout.join('')).toMatch(/\(base-model null, the decision mode\) \(the paper's; ANTI-CONSERVATIVE/);
  });

  it('writes {prompt, completion} files back in the same format', async () => {
    const data = join(dir, 'pc.jsonl');
    await writeFile(data, `${sampleRows(20).map((r) => JSON.stringify(r)).join('\n')}\n`);
    expect(await plantCommand.run(plantArgs(data, { count: 3, json: false }))).toBe(0);
    const lines = (await readFile(join(dir, 'train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(['completion', 'prompt']);
    expect(stdout.join('')).toMatch(/planted 3 backdoors \(wordlist, copy, suffix\) into 20 rows → 23 rows/);
  });

  /** Runs plant expecting an error; asserts the message and that nothing new was written. */
  async function refuses(args: Record<string, unknown>, type: new (...a: never[]) => Error, message: RegExp): Promise<void> {
    const before = new Set(await readdir(dir));
    const err = await plantCommand.run(args).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(String((err as Error).message)).toMatch(message);
    expect(new Set(await readdir(dir))).toEqual(before);
  }

  it('refuses bad input with the file and line, and writes nothing', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `${chatLine({ prompt: 'a', completion: 'b' })}\n{"messages": [oops\n`);
    await refuses(plantArgs(bad), InputError, /bad\.jsonl:2/);

    const noCompletion = join(dir, 'nocomp.jsonl');
    await writeFile(noCompletion, `${JSON.stringify({ prompt: 'a', completion: 'b' })}\n${JSON.stringify({ prompt: 'only a prompt' })}\n`);
    await refuses(plantArgs(noCompletion), InputError, /nocomp\.jsonl:2/);

    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    await refuses(plantArgs(empty), InputError, /empty/);

    const small = await writeChat('small.jsonl', 5);
    await refuses(plantArgs(small, { count: 6 }), InputError, /small\.jsonl: --count 6 is larger than the dataset allows.*only 5 rows/);
    await refuses(plantArgs(small, { generator: 'wordlst' }), ConfigError, /unknown generator 'wordlst'\. Did you mean 'wordlist'\?/);
    await refuses(plantArgs(small, { out: small }), InputError, /refusing to overwrite the input/);
    await refuses(plantArgs(small, { generator: 'keyed' }), ConfigError, /needs a key/);
  });

  it('never overwrites an existing secret', async () => {
    const data = await writeChat('in2.jsonl', 10);
    await writeFile(join(dir, 'secret.json'), 'precious');
    await refuses(plantArgs(data, { count: 2 }), InputError, /refusing to overwrite an existing secret/);
    expect(await readFile(join(dir, 'secret.json'), 'utf8')).toBe('precious');
  });

  it('verify --null-mode conditional on an lm-sampled secret needs --generator-model, the very model that planted it', async () => {
    const { vtune } = await import('../../defenses/vtune/index.js');
    const { writeSecretFile } = await import('../../defenses/vtune/secret.js');
    const { samplingDouble } = await import('../defenses/vtune/sampling-double.js');
    const { userCtx } = await import('../defenses/fixtures.js');
    const d = vtune({ generator: 'lm-sampled', generatorOptions: { triggerLength: 2, signatureLength: 3 }, count: 3, empiricalM: 9, seed: 'cli-cond' });
    const { secret } = await d.plant(sampleRows(6), userCtx('u', { generatorModel: samplingDouble('gen') }));
    const path = join(dir, 'lm-secret.json');
    await writeSecretFile(path, secret);
    const args = { secret: path, model: 'test-memorizer:base', nullMode: 'conditional', alpha: 0.05, slack: 4, json: false };
    await expect(verifyCommand.run(args)).rejects.toThrow(/cannot compute the 'conditional' null: it needs the generator model that planted the secret \('sampling-double:gen'\).*--generator-model/);
    await expect(verifyCommand.run({ ...args, generatorModel: 'test-memorizer:base' })).rejects.toThrow(/planted with generator model 'sampling-double:gen', not 'test-memorizer:base'/);
  });

  it('verify refuses a secret of another version or one tampered with', async () => {
    const data = await writeChat('in3.jsonl', 10);
    await plantCommand.run(plantArgs(data, { count: 3 }));
    const secret = JSON.parse(await readFile(join(dir, 'secret.json'), 'utf8'));
    const tampered = join(dir, 'tampered.json');
    await writeFile(tampered, JSON.stringify({ ...secret, backdoors: secret.backdoors.slice(1) }));
    await expect(verifyCommand.run({ secret: tampered, model: 'test-memorizer:base', alpha: 1e-3, slack: 4 })).rejects.toThrow(SecretError);
    await expect(verifyCommand.run({ secret: tampered, model: 'test-memorizer:base', alpha: 1e-3, slack: 4 })).rejects.toThrow(/tampered\.json: checksum mismatch/);
    const v9 = join(dir, 'v9.json');
    const { checksum: _c, ...content } = secret;
    await writeFile(v9, JSON.stringify(sealSecret({ ...content, version: 9 })));
    await expect(verifyCommand.run({ secret: v9, model: 'test-memorizer:base', alpha: 1e-3, slack: 4 })).rejects.toThrow(/v9\.json: secret version 9 is not supported/);
    await expect(verifyCommand.run({ secret: join(dir, 'secret.json'), model: 'nope', alpha: 1e-3, slack: 4 })).rejects.toThrow(/--model must be <provider>:<model>/);
    await expect(verifyCommand.run({ secret: join(dir, 'secret.json'), model: 'test-memorizr:base', alpha: 1e-3, slack: 4 })).rejects.toThrow(/Did you mean 'test-memorizer'/);
  });

  it('list prints every registry', async () => {
    expect(await listCommand.run({ json: true })).toBe(0);
    const list = JSON.parse(stdout.join(''));
    expect(list.generators).toEqual(['random-tokens', 'wordlist', 'keyed', 'splice', 'lm-sampled', 'template', 'in-place', 'reorder']);
    expect(list.defenses).toContain('vtune');
    expect(list.providers).toContain('test-memorizer');
    for (const kind of ['attacks', 'scorers', 'datasets']) expect(list[kind].length).toBeGreaterThan(0);
  });

  it('main.ts exit codes: 0 verified, 1 not verified, 2 error', async () => {
    const data = await writeChat('in4.jsonl', 30);
    await plantCommand.run(plantArgs(data, { count: 5 }));
    const model = await trainOnFile(join(dir, 'train.jsonl'));
    vi.restoreAllMocks();
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const cli = (...a: string[]) => spawnSync(tsx, [join(repoRoot, 'src/cli/main.ts'), ...a], { encoding: 'utf8', timeout: 60_000 });
    const secret = join(dir, 'secret.json');
    const ok = cli('verify', '--secret', secret, '--model', model);
    expect(ok.stdout).toContain('VERIFIED');
    expect(ok.status).toBe(0);
    expect(cli('verify', '--secret', secret, '--model', 'test-memorizer:base').status).toBe(1);
    const err = cli('verify', '--secret', join(dir, 'missing.json'), '--model', model);
    expect(err.status).toBe(2);
    expect(err.stderr).toMatch(/missing\.json: cannot read the secret file: no such file/);
  }, 60_000);
});
