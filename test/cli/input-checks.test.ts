/**
 * Issue 14, the CLI's input items: every numeric option of plant / datasets / detectors / pretrain has a range
 * (checked before any work, the message naming the option and the range), a repeated single-valued option is
 * an error naming it (through the real main.ts), `--run-id` cannot leave the results folder, `--empirical-m`
 * is bounded at plant, in the defense options and at secret load, and the resume hint names every
 * non-default option of the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetsCommand } from '../../src/cli/commands/datasets.js';
import { detectorsCommand } from '../../src/cli/commands/detectors.js';
import { plantCommand } from '../../src/cli/commands/plant.js';
import { pretrainCommand } from '../../src/cli/commands/pretrain.js';
import { resumeCommand, resumeNote, runCommand } from '../../src/cli/commands/run.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { checkSingleValued, numberOption } from '../../src/cli/options.js';
import { readDataFile } from '../../src/datasets/files.js';
import { UTF8_BOM } from '../../src/datasets/lines.js';
import { ConfigError, SecretError } from '../../src/errors.js';
import { checkRunId } from '../../src/runner/run.js';
import { repoRoot } from '../../src/shared-path.js';
import { MAX_EMPIRICAL_M, readSecretFile, sealSecret } from '../../defenses/vtune/secret.js';
import { Rng } from '../../src/rng.js';
import { sampleRows } from '../defenses/fixtures.js';
import { vtune } from '../../defenses/vtune/index.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vtune-input-'));
const fixture = join(repoRoot, 'test/runner/fixtures/memorizer-kill.json');

/** The real CLI (the installed bin, main.ts through tsx), run from `cwd` as a user runs it. */
function cli(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin/vtune-bench.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, VTUNE_CACHE: join(cwd, 'cache') },
  });
}

async function configError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
}

describe('numeric options have ranges', () => {
  it('numberOption names the option and the range, and refuses NaN, fractions and out-of-range values', () => {
    const r = { int: true, min: 1, max: 10 } as const;
    expect(numberOption({ count: 3 }, 'count', r)).toBe(3);
    expect(numberOption({}, 'count', r)).toBeUndefined();
    expect(() => numberOption({ count: 0 }, 'count', r)).toThrow('--count must be an integer from 1 to 10, got 0');
    expect(() => numberOption({ count: 2.5 }, 'count', r)).toThrow('--count must be an integer from 1 to 10, got 2.5');
    expect(() => numberOption({ count: NaN }, 'count', r)).toThrow('--count must be an integer from 1 to 10, got a value that is not a number');
    expect(() => numberOption({ heldOut: -1 }, 'held-out', { min: 0, max: 5 })).toThrow('--held-out must be a number in [0, 5], got -1');
    expect(() => numberOption({ rate: 0 }, 'rate', { min: 0, minExclusive: true, max: 1 })).toThrow('--rate must be a number in (0, 1], got 0');
  });

  it('plant refuses out-of-range numbers before reading anything (the data file does not even exist)', async () => {
    const dir = tmp();
    const base = { data: join(dir, 'missing.jsonl'), out: join(dir, 'out.jsonl'), secret: join(dir, 's.json'), generator: 'wordlist', placement: 'suffix', insertion: 'copy', empiricalM: 999 };
    expect(await configError(plantCommand.run({ ...base, empiricalM: 100_000_000 }))).toBe(`--empirical-m must be an integer from 0 to ${MAX_EMPIRICAL_M}, got 100000000`);
    expect(await configError(plantCommand.run({ ...base, count: 0 }))).toMatch(/^--count must be an integer from 1 to \d+, got 0$/);
    expect(await configError(plantCommand.run({ ...base, rate: 1.5 }))).toBe('--rate must be a number in (0, 1], got 1.5');
    expect(await configError(plantCommand.run({ ...base, triggerLength: -2 }))).toMatch(/^--trigger-length must be an integer from 1 to \d+, got -2$/);
    expect(await configError(plantCommand.run({ ...base, signatureLength: NaN }))).toMatch(/^--signature-length must be an integer from 1 to \d+/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('datasets and detectors check --size, --held-out, --seed, --count and --rate before loading', async () => {
    const missing = join(tmp(), 'missing.jsonl');
    expect(await configError(datasetsCommand.run({ spec: missing, seed: 0, heldOut: 1e12 }))).toMatch(/^--held-out must be a number in \[0, 1000000\], got 1000000000000$/);
    expect(await configError(datasetsCommand.run({ spec: missing, seed: 0, heldOut: 2.5 }))).toMatch(/--held-out must be a row count/);
    expect(await configError(datasetsCommand.run({ spec: missing, seed: 0, size: 0 }))).toBe('--size must be an integer from 1 to 1000000, got 0');
    expect(await configError(datasetsCommand.run({ spec: missing, seed: -1 }))).toMatch(/^--seed must be an integer from 0 to \d+, got -1$/);
    const det = { dataset: missing, model: 'test-memorizer:base', seed: 0, size: 300, format: 'md' };
    expect(await configError(detectorsCommand.run({ ...det, size: 5_000_000 }))).toBe('--size must be an integer from 1 to 1000000, got 5000000');
    expect(await configError(detectorsCommand.run({ ...det, rate: 0 }))).toBe('--rate must be a number in (0, 1], got 0');
    expect(await configError(detectorsCommand.run({ ...det, count: 0.5 }))).toMatch(/^--count must be an integer from 1 to/);
  });

  it('pretrain checks every recipe flag and its step options before any work', async () => {
    const out = join(tmp(), 'm.gguf');
    expect(await configError(pretrainCommand.run({ out, checkpointEvery: 50, dim: 1e9 }))).toBe('--dim must be an integer from 2 to 8192, got 1000000000');
    expect(await configError(pretrainCommand.run({ out, checkpointEvery: 50, learningRate: 5 }))).toBe('--learning-rate must be a number in (0, 1], got 5');
    expect(await configError(pretrainCommand.run({ out, checkpointEvery: -1 }))).toMatch(/^--checkpoint-every must be an integer from 0 to/);
    expect(await configError(pretrainCommand.run({ out, checkpointEvery: 50, stopAfter: 0 }))).toMatch(/^--stop-after must be an integer from 1 to/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--empirical-m is bounded everywhere it enters', () => {
  it('the defense options refuse it (scenarios go through them)', () => {
    expect(() => vtune({ empiricalM: MAX_EMPIRICAL_M + 1 })).toThrow(`defense 'vtune': empiricalM: expected an integer in [0, ${MAX_EMPIRICAL_M}], got ${MAX_EMPIRICAL_M + 1}`);
    expect(vtune({ empiricalM: MAX_EMPIRICAL_M }).id).toBe('vtune');
  });

  it('a secret with an absurd M is refused at load, so verify does no work on it', async () => {
    const dir = tmp();
    const planted = await vtune({ count: 2, seed: 'big-m' }).plant(sampleRows(20, 'big-m'), { rng: new Rng('big-m'), log: quiet });
    const { checksum: _c, ...content } = planted.secret;
    const path = join(dir, 'big-m.json');
    writeFileSync(path, JSON.stringify(sealSecret({ ...content, empirical: { ...content.empirical, m: 100_000_000 } })));
    await expect(readSecretFile(path)).rejects.toThrow(SecretError);
    await expect(readSecretFile(path)).rejects.toThrow(`big-m.json: empirical.m is 100000000, outside 0 to ${MAX_EMPIRICAL_M}`);
    await expect(verifyCommand.run({ secret: path, model: 'test-memorizer:base', alpha: 1e-3, slack: 4 })).rejects.toThrow(/empirical\.m is 100000000/);
  });
});

describe('paths stay inside their folder', () => {
  it('a run id is one plain folder name', () => {
    for (const bad of ['../../../tmp/x', '..', 'a/b', 'a\\b', '/abs', '.hidden', 'a..b', '', 'x'.repeat(129)]) {
      expect(() => checkRunId(bad, '--run-id'), bad).toThrow(ConfigError);
    }
    expect(() => checkRunId('../x', '--run-id')).toThrow(/^--run-id must be a plain folder name .* got "\.\.\/x"/);
    for (const ok of ['2026-01-01T00-00-00-000Z', 'abc123', 'run_1.b-2']) expect(checkRunId(ok)).toBe(ok);
  });

  it('run --run-id ../../../x is refused before anything is written, inside or outside the results folder', async () => {
    const root = tmp();
    const results = join(root, 'a', 'b', 'results');
    mkdirSync(results, { recursive: true });
    const msg = await configError(runCommand.run({ scenario: fixture, results, runId: '../../../escaped', fresh: false, report: false, publish: false, verbose: false }));
    expect(msg).toContain('--run-id must be a plain folder name');
    expect(readdirSync(join(root, 'a'))).toEqual(['b']);
    expect(readdirSync(results)).toEqual([]);
  });
});

describe('a repeated single-valued option is an error', () => {
  it('checkSingleValued names the option; array options may repeat', () => {
    const options = { key: { results: true, 'run-id': true, records: true }, array: ['records'] };
    expect(() => checkSingleValued({ results: ['a', 'b'] }, options)).toThrow('--results was given 2 times ("a", "b"); it takes one value');
    expect(() => checkSingleValued({ 'run-id': ['x', 'y'] }, options)).toThrow(/--run-id was given 2 times/);
    expect(() => checkSingleValued({ results: 'a', records: ['x', 'y'] }, options)).not.toThrow();
  });

  it('through the real CLI: run --results a --results b exits 2 naming --results and writes no "a,b" folder', () => {
    const cwd = tmp();
    const r = cli(cwd, 'run', fixture, '--results', 'a', '--results', 'b', '--no-report');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('--results was given 2 times ("a", "b"); it takes one value');
    expect(readdirSync(cwd).filter((f) => f !== 'cache')).toEqual([]);
    const p = cli(cwd, 'plant', '--data', 'in.jsonl', '--out', 'o1.jsonl', '--out', 'o2.jsonl', '--secret', 's.json');
    expect(p.status, p.stderr).toBe(2);
    expect(p.stderr).toContain('--out was given 2 times ("o1.jsonl", "o2.jsonl")');
  }, 120_000);
});

describe('the resume hint after an interrupt', () => {
  it('names the results folder, the run id and every other non-default option of the run', () => {
    const args = { scenario: 'fast', results: '/tmp/my results', shard: '1/2', report: false, publish: false, verbose: true };
    expect(resumeCommand(args, undefined)).toBe("vtune-bench run fast --results '/tmp/my results' --shard 1/2 --no-report --verbose");
    // A --fresh run got a timestamped id: resuming it needs that id (another --fresh would start a new run).
    expect(resumeCommand({ scenario: 'fast', results: 'results', fresh: true, report: true }, '2026-12-03T10-00-00-000Z')).toBe(
      'vtune-bench run fast --run-id 2026-12-03T10-00-00-000Z',
    );
  });

  it('keeps --queue (a run through workers resumes through them), never its password', () => {
    expect(resumeCommand({ scenario: 'fast', queue: 'redis://10.0.0.5:6379/2' }, undefined)).toBe('vtune-bench run fast --queue redis://10.0.0.5:6379/2');
    const withPassword = { scenario: 'fast', queue: 'redis://bench:s3cr3t-pw@10.0.0.5:6379' };
    const hint = resumeCommand(withPassword, undefined) + resumeNote(withPassword);
    expect(hint).not.toContain('s3cr3t-pw');
    expect(hint).toBe('vtune-bench run fast --queue redis://bench@10.0.0.5:6379 (with the queue password in VTUNE_QUEUE_PASSWORD)');
    expect(resumeCommand({ scenario: 'fast', queue: 'not a url s3cr3t' }, undefined)).toBe("vtune-bench run fast --queue '<redis-url>'");
  });
});

describe('a UTF-8 byte order mark', () => {
  const chat = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `question ${i} about the weather today` }, { role: 'assistant', content: `answer ${i}` }] });

  it('plant keeps it in its output only when the input had one, and every input line byte for byte', async () => {
    const dir = tmp();
    const body = `${Array.from({ length: 30 }, (_, i) => chat(i)).join('\n')}\n`;
    for (const [name, bytes] of [['bom', Buffer.concat([UTF8_BOM, Buffer.from(body)])], ['plain', Buffer.from(body)]] as const) {
      const data = join(dir, `${name}.jsonl`);
      writeFileSync(data, bytes);
      const out = join(dir, `${name}-out.jsonl`);
      const write = process.stdout.write;
      process.stdout.write = (() => true) as never;
      try {
        await plantCommand.run({ data, out, secret: join(dir, `${name}-secret.json`), generator: 'wordlist', seed: 'bom', placement: 'suffix', insertion: 'copy', empiricalM: 99, count: 3, json: true });
      } finally {
        process.stdout.write = write;
      }
      const written = readFileSync(out);
      expect(written.subarray(0, 3).equals(UTF8_BOM), name).toBe(name === 'bom');
      const text = written.toString('utf8').replace(/^\ufeff/, '');
      for (const line of body.trim().split('\n')) expect(text.split('\n')).toContain(line);
      expect((await readDataFile(out)).rows).toHaveLength(33);
    }
  });

  it('a secret file saved with one loads', async () => {
    const dir = tmp();
    const planted = await vtune({ count: 2, seed: 'bom' }).plant(sampleRows(20, 'bom'), { rng: new Rng('bom'), log: quiet });
    const path = join(dir, 'secret.json');
    writeFileSync(path, `\ufeff${JSON.stringify(planted.secret)}`);
    expect((await readSecretFile(path)).seed).toBe('bom');
  });
});
