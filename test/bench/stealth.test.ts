// bench/stealth.ts (the stealth table of issue 15): its options, its records and the merge of a rerun. The bench
// itself runs `vtune-bench detectors` for minutes per dataset: not run here; the command line is, on a scratch
// results folder (--table reads records only).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATASETS, GENERATORS, SCORERS, command, mergeRecord, parseArgs, parseDetectorsOutput, parseRecord, renderTable, shellLine, type Line, type StealthRecord } from '../../bench/stealth.js';
import { ConfigError, InputError } from '../../src/errors.js';

const root = resolve(__dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'stealth-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The bench as a user runs it, in `cwd` (its records are read from cwd/results/stealth). */
function bench(args: string[], cwd = scratch): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/stealth.ts'), ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const line = (generator: string, scorer: string, auroc: number | null, error?: string): Line => ({ generator, scorer, auroc, ...(error ? { error } : {}) });
const all = (generator: string, auroc: number | null, error?: string) => SCORERS.map((s) => line(generator, s, auroc, error));

describe('bench/stealth.ts: options', () => {
  it('names --only and what it takes when its value is missing', () => {
    const r = bench(['--only']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bench/stealth.ts: --only: expected a comma-separated list of <dataset> or <dataset>:<generator> (datasets: stories,');
    expect(r.stderr).toContain('got nothing');
    expect(r.stderr).not.toMatch(/TypeError|at file:/);
    expect(() => parseArgs(['--only', '--table'])).toThrow(/--only: expected .* got "--table"/);
  });

  it('reads datasets and dataset:generator pairs, and refuses unknown ones by name', () => {
    expect(parseArgs(['--only', 'stories,gsm8k:lm-sampled,gsm8k:reorder'])).toEqual({ tableOnly: false, only: new Map([['stories', undefined], ['gsm8k', ['lm-sampled', 'reorder']]]) });
    expect(parseArgs(['--only', 'gsm8k:lm-sampled,gsm8k']).only).toEqual(new Map([['gsm8k', undefined]]));
    expect(parseArgs(['--only', 'gsm8k:template,gsm8k:keyed,gsm8k:template']).only).toEqual(new Map([['gsm8k', ['keyed', 'template']]]));
    expect(parseArgs(['--table'])).toEqual({ tableOnly: true });
    expect(() => parseArgs(['--only', 'storeis'])).toThrow(ConfigError);
    expect(() => parseArgs(['--only', 'storeis'])).toThrow('bench/stealth.ts: --only: expected a comma-separated list');
    expect(() => parseArgs(['--only', 'stories:lm-sample'])).toThrow(/got "stories:lm-sample"/);
    expect(() => parseArgs(['--only', 'stories:lm-sampled:x'])).toThrow(/got "stories:lm-sampled:x"/);
    expect(() => parseArgs(['--tabel'])).toThrow('bench/stealth.ts: unknown option "--tabel"');
    expect(() => parseArgs(['--table', '--only', 'stories'])).toThrow(/--table .* runs nothing/);
  });
});

describe('bench/stealth.ts: records', () => {
  it('names the file, the parser position and what was expected when a record is not JSON', () => {
    const dir = join(scratch, 'bad-json');
    mkdirSync(join(dir, 'results/stealth'), { recursive: true });
    writeFileSync(join(dir, 'results/stealth/stories.json'), '{\n "command": "vtune-bench detectors",\n "results": [\n');
    const r = bench(['--table'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('results/stealth/stories.json: not JSON (Unexpected end of JSON input); expected a stealth record { command, results } written by bench/stealth.ts');
    expect(r.stderr).not.toMatch(/SyntaxError|at file:/);
    expect(() => parseRecord('{"command": "x",, "results": []}', 'r.json')).toThrow(/^r\.json: not JSON \(.*position 16.*\); expected a stealth record/);
  });

  it('names the field at fault in a record that is JSON of the wrong shape', () => {
    expect(() => parseRecord('[]', 'r.json')).toThrow('r.json: expected a stealth record { command, results } written by bench/stealth.ts');
    expect(() => parseRecord('{"results": []}', 'r.json')).toThrow('r.json: command: expected a string');
    expect(() => parseRecord('{"command": "c", "results": {}}', 'r.json')).toThrow('r.json: results: expected an array of detector lines');
    expect(() => parseRecord('{"command": "c", "results": [{"generator": "g", "scorer": "s", "auroc": "0.5"}]}', 'r.json')).toThrow(InputError);
    expect(() => parseRecord('{"command": "c", "results": [{"generator": "g", "scorer": "s", "auroc": "0.5"}]}', 'r.json')).toThrow('r.json: results[0]: expected a detector line');
    expect(() => parseRecord('{"command": "c", "results": [], "reruns": [{"command": "c"}]}', 'r.json')).toThrow('r.json: reruns[0]: expected { command: string, generators: string[], scorers?: string[] }');
    expect(parseRecord('{"command": "c", "results": [{"generator": "g", "scorer": "s", "auroc": null, "error": "e"}]}', 'r.json').results).toHaveLength(1);
  });

  it("reads the detectors output after its header line, and names the output when there is no table", () => {
    const lines = [line('lm-sampled', 'format', 0.5)];
    expect(parseDetectorsOutput(`dataset x (180 rows), model local:vtb-base, seed 0\n\n${JSON.stringify(lines, null, 2)}\n`, 'out.txt')).toEqual(lines);
    expect(() => parseDetectorsOutput('dataset x\n', 'out.txt')).toThrow('out.txt: expected a header line followed by a JSON array of detector lines');
    expect(() => parseDetectorsOutput('dataset x\n[{', 'out.txt')).toThrow(/^out\.txt: not JSON after the header line/);
  });
});

describe('bench/stealth.ts: one generator rerun and merged', () => {
  it('runs lm-sampled with the options the leaderboard plants it with, and only the generators asked for', () => {
    const gsm8k = DATASETS.find((d) => d.name === 'gsm8k')!;
    const one = command(gsm8k, ['lm-sampled']);
    expect(one.slice(one.indexOf('--generators'), one.indexOf('--generators') + 4)).toEqual(['--generators', 'lm-sampled', '--generator-options', '{"lm-sampled":{"fixedLength":true}}']);
    expect(command(gsm8k, ['reorder'])).not.toContain('--generator-options');
    expect(command(gsm8k)).toContain(GENERATORS.join(','));
    expect(shellLine(one)).toContain(`--generator-options '{"lm-sampled":{"fixedLength":true}}' --scorers`);
    expect(shellLine(['a', "it's"])).toBe(`a 'it'\\''s'`);
  });

  it("replaces that generator's lines only, keeps the table order, and records the rerun's command and options", () => {
    const old: StealthRecord = { command: 'vtune-bench detectors all', results: [...all('random-tokens', 0.9), ...all('lm-sampled', null, 'planting failed: empty'), ...all('in-place', 0.5)] };
    const fresh = [...SCORERS].reverse().map((s) => line('lm-sampled', s, 0.6));
    const run = { command: 'vtune-bench detectors lm', generators: ['lm-sampled'], generatorOptions: { 'lm-sampled': { fixedLength: true } } };
    const merged = mergeRecord(old, run, fresh);
    expect(merged.command).toBe('vtune-bench detectors all');
    expect(merged.results.map((l) => `${l.generator}/${l.scorer}`)).toEqual(['random-tokens', 'lm-sampled', 'in-place'].flatMap((g) => SCORERS.map((s) => `${g}/${s}`)));
    expect(merged.results.filter((l) => l.generator === 'lm-sampled').every((l) => l.auroc === 0.6 && !l.error)).toBe(true);
    expect(merged.results.filter((l) => l.generator !== 'lm-sampled')).toEqual(old.results.filter((l) => l.generator !== 'lm-sampled'));
    expect(merged.reruns).toEqual([run]);
    // A second rerun of the same generator supersedes the first; another generator's stays.
    const again = mergeRecord(mergeRecord(merged, { command: 'c2', generators: ['in-place'] }, all('in-place', 0.4)), { command: 'c3', generators: ['lm-sampled'] }, all('lm-sampled', 0.7));
    expect(again.reruns).toEqual([{ command: 'c2', generators: ['in-place'] }, { command: 'c3', generators: ['lm-sampled'] }]);
    expect(() => mergeRecord(old, run, [line('wordlist', 'format', 0.5)])).toThrow("the rerun of lm-sampled returned a line of generator 'wordlist'");
  });

  it('says in the table which options a row was planted with', () => {
    const old: StealthRecord = { command: 'c', results: [...all('random-tokens', 0.9), ...all('lm-sampled', null, 'planting failed: empty text')] };
    const before = renderTable(new Map([['stories', old]]));
    expect(before).toContain('| stories | lm-sampled | cannot plant |');
    expect(before).toContain('- stories × lm-sampled: planting failed: empty text');
    const after = renderTable(new Map([['stories', mergeRecord(old, { command: 'c', generators: ['lm-sampled'], generatorOptions: { 'lm-sampled': { fixedLength: true } } }, all('lm-sampled', 0.6))]]));
    expect(after).toContain(`| stories | lm-sampled (fixedLength: true) | ${SCORERS.map(() => '0.60').join(' | ')} | yes |`);
    expect(after).toContain('| stories | random-tokens | 0.90 ✗ |');
    expect(after).not.toContain('Cannot plant');
    expect(after).toContain('(no record yet for: self-instruct, common-gen, gsm8k, adversarial-qa, math, code, qa, extract, summarize)');
  });
});

describe('bench/stealth.ts: one scorer rerun for the generators of a dataset and merged', () => {
  it('records the arithmetic scorer among the columns of the table', () => {
    expect(SCORERS).toContain('arithmetic');
    const gsm8k = DATASETS.find((d) => d.name === 'gsm8k')!;
    expect(command(gsm8k)).toContain(SCORERS.join(','));
    expect(renderTable(new Map([['gsm8k', { command: 'c', results: all('template', 0.5) }]])).split('\n')[0]).toBe(`| data | generator | ${SCORERS.join(' | ')} | all ≤ 0.65 |`);
    // A record made before arithmetic existed: its cell is n/a, and so is the verdict of a row that no measured
    // scorer finds; a row that one finds stays 'no'.
    const before = { command: 'c', results: [...all('template', 0.5), ...all('wordlist', 0.5).map((l) => (l.scorer === 'format' ? line('wordlist', 'format', 0.9) : l))].filter((l) => l.scorer !== 'arithmetic') };
    const table = renderTable(new Map([['gsm8k', before]]));
    expect(table).toContain('| gsm8k | template | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 | n/a | n/a |');
    expect(table).toContain('| gsm8k | wordlist | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 | 0.90 ✗ | n/a | no |');
  });

  it('reads --scorers with --only, and refuses an unknown scorer or --scorers alone by name', () => {
    expect(parseArgs(['--only', 'gsm8k,stories:template', '--scorers', 'arithmetic'])).toEqual({ tableOnly: false, only: new Map([['gsm8k', undefined], ['stories', ['template']]]), scorers: ['arithmetic'] });
    expect(parseArgs(['--scorers', 'format,arithmetic', '--only', 'math']).scorers).toEqual(['format', 'arithmetic']);
    expect(() => parseArgs(['--only', 'gsm8k', '--scorers', 'arithmetik'])).toThrow(ConfigError);
    expect(() => parseArgs(['--only', 'gsm8k', '--scorers', 'arithmetik'])).toThrow(`bench/stealth.ts: --scorers: expected a comma-separated list of scorers (${SCORERS.join(', ')}), got "arithmetik"`);
    expect(() => parseArgs(['--only', 'gsm8k', '--scorers'])).toThrow(/--scorers: expected .* got nothing/);
    expect(() => parseArgs(['--scorers', 'arithmetic'])).toThrow('bench/stealth.ts: --scorers reruns some scorers of recorded datasets: name them with --only <dataset>[:<generator>],…');
    const r = bench(['--scorers', 'arithmetic']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--scorers reruns some scorers of recorded datasets');
  });

  it('runs only the scorers asked for, on the generators asked for, with their planting options', () => {
    const gsm8k = DATASETS.find((d) => d.name === 'gsm8k')!;
    const args = command(gsm8k, ['lm-sampled', 'template'], ['arithmetic']);
    expect(args.slice(args.indexOf('--generators'))).toEqual(['--generators', 'lm-sampled,template', '--generator-options', '{"lm-sampled":{"fixedLength":true}}', '--scorers', 'arithmetic', '--format', 'json']);
    // The planting arguments are those of the whole run: the same seed, sizes and insertion.
    const whole = command(gsm8k);
    expect(args.slice(0, args.indexOf('--generators'))).toEqual(whole.slice(0, whole.indexOf('--generators')));
  });

  it("replaces those scorers' lines of those generators only, keeps the table order, and records the rerun", () => {
    const old: StealthRecord = {
      command: 'vtune-bench detectors all',
      results: [...all('random-tokens', 0.9), ...all('template', 0.5), ...all('in-place', 0.4)].filter((l) => l.scorer !== 'arithmetic'),
      reruns: [{ command: 'c1', generators: ['template', 'in-place'] }],
    };
    const run = { command: 'vtune-bench detectors arithmetic', generators: ['random-tokens', 'template'], scorers: ['arithmetic'] };
    const merged = mergeRecord(old, run, [line('template', 'arithmetic', 1), line('random-tokens', 'arithmetic', 0.5)]);
    expect(merged.results.map((l) => `${l.generator}/${l.scorer}/${l.auroc}`)).toEqual([
      ...SCORERS.map((s) => `random-tokens/${s}/${s === 'arithmetic' ? 0.5 : 0.9}`),
      ...SCORERS.map((s) => `template/${s}/${s === 'arithmetic' ? 1 : 0.5}`),
      ...SCORERS.filter((s) => s !== 'arithmetic').map((s) => `in-place/${s}/0.4`),
    ]);
    // The earlier rerun still made template's other lines: it stays, and the new one is listed after it.
    expect(merged.reruns).toEqual([{ command: 'c1', generators: ['template', 'in-place'] }, run]);
    // A rerun of some scorers replaces an existing line of theirs, and supersedes an earlier rerun of only those scorers.
    const again = mergeRecord(merged, { command: 'c3', generators: ['template'], scorers: ['arithmetic', 'format'] }, [line('template', 'format', 0.3), line('template', 'arithmetic', 0.2)]);
    expect(again.results.filter((l) => l.generator === 'template').map((l) => l.auroc)).toEqual(SCORERS.map((s) => (s === 'arithmetic' ? 0.2 : s === 'format' ? 0.3 : 0.5)));
    expect(again.results.filter((l) => l.generator !== 'template')).toEqual(merged.results.filter((l) => l.generator !== 'template'));
    expect(again.reruns).toEqual([{ command: 'c1', generators: ['template', 'in-place'] }, { ...run, generators: ['random-tokens'] }, { command: 'c3', generators: ['template'], scorers: ['arithmetic', 'format'] }]);
    // A whole rerun of a generator (all scorers) supersedes every earlier rerun of it.
    expect(mergeRecord(again, { command: 'c4', generators: ['template'] }, all('template', 0.6)).reruns).toEqual([{ command: 'c1', generators: ['in-place'] }, { ...run, generators: ['random-tokens'] }, { command: 'c4', generators: ['template'] }]);
    expect(() => mergeRecord(old, run, [line('template', 'format', 0.5)])).toThrow("the rerun of scorers arithmetic on random-tokens, template returned a line of scorer 'format'");
    expect(() => parseRecord(JSON.stringify({ command: 'c', results: [], reruns: [{ command: 'c', generators: ['g'], scorers: 'arithmetic' }] }), 'r.json')).toThrow('r.json: reruns[0]: expected { command: string, generators: string[], scorers?: string[] }');
  });
});
