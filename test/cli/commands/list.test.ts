/**
 * `vtune-bench list [kind] [id]`: every kind's ids; a kind's plugins with their description, goal and access;
 * one plugin's options with type, default and help, its citation — all read from the declarations, so a new
 * option or a plugin from outside (`--plugin`) shows without any second table.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listCommand, pluginInfo } from '../../../src/cli/commands/list.js';
import { repoRoot } from '../../../src/shared-path.js';

const out: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  out.length = 0;
});
function capture(): void {
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
}

describe('vtune-bench list', () => {
  it('a kind lists each plugin with its description, goal and access (singular or plural kind)', async () => {
    capture();
    expect(await listCommand.run({ kind: 'attack', json: false })).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^attacks \(\d+\):/);
    expect(text).toMatch(/random-subset +the lazy provider trains a uniform fraction of the rows \[goal: pass; access: data\]/);
    expect(text).toMatch(/weight-noise .*\[goal: pass, evade; access: data, weights\]/);
  });

  it("an id shows the options' types, defaults and help, and the goal, access and citation", async () => {
    capture();
    expect(await listCommand.run({ kind: 'attacks', id: 'random-subset', json: false })).toBe(0);
    expect(out.join('')).toBe(
      "attack 'random-subset': the lazy provider trains a uniform fraction of the rows\n  goal: pass\n  access: data\n  citation: attacks.md §2.3a\n  options:\n    fraction  a number in (0, 1] (default 0.5) — share of the rows trained\n",
    );
    const vtune = pluginInfo('defenses', 'vtune');
    expect(vtune.options?.find((o) => o.name === 'empiricalM')).toEqual({ name: 'empiricalM', expected: 'an integer in [0, 100000]', required: false, default: 999, description: expect.stringMatching(/empirical null/) });
    expect(vtune.citation).toMatch(/arXiv 2411\.06611/);
    const keyed = pluginInfo('generators', 'keyed');
    expect(keyed.meta).toEqual({ nullModes: ['generator', 'conditional', 'base-model', 'empirical'] });
    expect(keyed.options?.map((o) => [o.name, o.default])).toEqual([['key', undefined], ['keyFingerprint', undefined], ['triggerLength', 3], ['signatureLength', 6], ['words', undefined]]);
  });

  it('providers and datasets are declared too: options with help, capabilities, and validation through the registry', async () => {
    const openai = pluginInfo('providers', 'openai');
    expect(openai.meta).toEqual({ capabilities: ['train', 'generate', 'logprobs'] });
    expect(openai.options?.find((o) => o.name === 'api')).toMatchObject({ expected: "'chat' or 'completions'", required: false });
    expect(pluginInfo('datasets', 'qa').description).toMatch(/question/);
    const { providers } = await import('../../../src/providers/index.js');
    await expect(Promise.resolve().then(() => providers.get('local')({ thread: 2 }))).rejects.toThrow(/provider 'local': thread: unknown option 'thread'. Did you mean 'threads'/);
    await expect(Promise.resolve().then(() => providers.get('test-memorizer')({ x: 1 }))).rejects.toThrow(/provider 'test-memorizer': x: unknown option 'x'/);
    await expect(Promise.resolve().then(() => providers.get('openai')({ api: 'chatt' }))).rejects.toThrow(/provider 'openai': api: expected 'chat' or 'completions', got "chatt". Did you mean 'chat'/);
  });

  it('--json gives the same, and an unknown kind or id gets a did-you-mean', async () => {
    capture();
    await listCommand.run({ kind: 'generators', id: 'wordlist', json: true });
    expect(JSON.parse(out.join(''))).toMatchObject({ kind: 'generators', id: 'wordlist', meta: { nullModes: ['generator', 'conditional', 'base-model', 'empirical'] } });
    await expect(listCommand.run({ kind: 'atacks', json: false })).rejects.toThrow(/unknown plugin kind 'atacks'. Did you mean 'attacks'/);
    await expect(listCommand.run({ kind: 'attacks', id: 'randm-subset', json: false })).rejects.toThrow(/unknown attack 'randm-subset'. Did you mean 'random-subset'/);
  });

  it('a plugin added with --plugin is listed with its options and where it came from', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'vtune-bench.js'), 'list', 'attacks', 'shortest-rows', '--plugin', 'examples/plugins/shortest-rows.ts'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/attack 'shortest-rows': lazy: .*\n  goal: pass\n  access: data\n  registered from: examples\/plugins\/shortest-rows\.ts\n  options:\n    keepFraction  a number in \(0, 1\] \(default 0.5\)/);
  }, 60_000);
});
