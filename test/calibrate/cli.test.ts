/**
 * `vtune-bench calibrate` end to end through its command handler, on test-memorizer (A TEST DOUBLE) so it runs
 * in seconds: prints the Type-I table, writes records, table and plot, resumes; generator specs parse.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { calibrateCommand, parseDefenseSpec, parseGeneratorSpec } from '../../src/cli/commands/calibrate.js';

const args = (out: string, over: Record<string, unknown> = {}) => ({
  generator: ['wordlist'],
  count: 4,
  trials: 12,
  model: 'test-memorizer:base',
  fineTunes: 0,
  dataset: 'stories',
  size: 20,
  alpha: [0.1, 0.05, 0.01, 1e-3],
  empiricalM: 99,
  slack: 4,
  seed: 'cli',
  batch: 6,
  results: out,
  out,
  plot: true,
  verbose: false,
  ...over,
});

afterEach(() => vi.restoreAllMocks());

describe('vtune-bench calibrate', () => {
  it('prints the Type-I table, writes records, table and plot, and resumes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vtb-cal-cli-'));
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await calibrateCommand.run(args(out))).toBe(0);
    const text = printed.join('');
    expect(text).toContain('### Type-I error per null mode');
    expect(text).toContain("|wordlist|4|test-memorizer:base (base)|base-model (paper's; anti-conservative)|12|");
    expect(text).toContain('12 trials run now, 0 reused');
    for (const f of ['calibration.jsonl', 'type-i.md', 'type-i.csv', 'calibration.png', 'calibration.svg']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'calibration.png')).subarray(1, 4).toString()).toBe('PNG');
    printed.length = 0;
    await calibrateCommand.run(args(out, { trials: 15, plot: false }));
    expect(printed.join('')).toContain('3 trials run now, 12 reused');
  }, 60_000);

  it('calibrates any registered defense with --defense (no vTune generator then), into a folder named after it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtb-cal-cli-'));
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const a = { ...args(root, { defense: ['cue-reply:{"candidates":99}'], trials: 10 }), generator: undefined, out: undefined };
    expect(await calibrateCommand.run(a)).toBe(0);
    const text = printed.join('');
    expect(text).toContain('|cue-reply(candidates=99)|4|test-memorizer:base (base)|rank-sum|10|');
    expect(text).not.toContain('wordlist');
    expect(text).toContain('10 trials run now, 0 reused');
    expect(existsSync(join(root, 'calibration', 'cue-reply-test-memorizer_base', 'calibration.jsonl'))).toBe(true);
  }, 60_000);

  it('parses defense specs with JSON options, and names a bad one', () => {
    expect(parseDefenseSpec('cue-reply:{"cues":8}')).toEqual({ id: 'cue-reply', options: { cues: 8 } });
    expect(parseDefenseSpec('utility-gain')).toEqual({ id: 'utility-gain' });
    expect(() => parseDefenseSpec('cue-reply:{cues')).toThrow(/--defense: expected a JSON object/);
    expect(() => parseDefenseSpec('utility-gian')).toThrow(/unknown defense 'utility-gian'/);
  });

  it('parses generator specs with JSON options, and names a bad one', () => {
    expect(parseGeneratorSpec('lm-sampled:{"temperature":1,"signatureLength":8}', {})).toEqual({ id: 'lm-sampled', options: { temperature: 1, signatureLength: 8 } });
    expect(parseGeneratorSpec('wordlist', { signatureLength: 3 })).toEqual({ id: 'wordlist', options: { signatureLength: 3 } });
    expect(parseGeneratorSpec('wordlist', {})).toEqual({ id: 'wordlist' });
    expect(() => parseGeneratorSpec('lm-sampled:{temperature', {})).toThrow(/--generator: expected a JSON object/);
    expect(() => parseGeneratorSpec('wordlst', {})).toThrow(/unknown generator 'wordlst'/);
  });
});
