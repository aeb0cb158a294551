/**
 * `vtune-bench check` in-process: the command's own `run` (src/cli/commands/check.ts) on the example plugins
 * (README "Your own plugins"), its stdout captured, so coverage counts it (test/examples/plugins.test.ts runs
 * the same through a spawned CLI, which coverage cannot see). The passing pair and the impure attack print
 * exactly what the CLI prints, and the exit code is 0 and 1. The cells run on the real vtune defense and the
 * built-in datasets against the test-memorizer provider, a fast deterministic TEST DOUBLE, as the command says.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { checkCommand, formatResults, parseCheckOptions } from '../../src/cli/commands/check.js';
import { ConfigError } from '../../src/errors.js';

const KEY_OPTIONS = JSON.stringify({ 'keyed-pseudowords': { key: 'example-public-key-not-a-secret' } });

const out: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  out.length = 0;
});
/** Runs the command as the CLI would (paths relative to the working folder, the repository root). */
async function check(args: Record<string, unknown>): Promise<{ code: number | void; text: string }> {
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const code = await checkCommand.run({ json: false, ...args });
  vi.restoreAllMocks();
  return { code, text: out.join('') };
}

/** Runs the command and expects exactly `lines` (each ended by a newline) on stdout, and the exit code `code`. */
async function expectPrinted(args: Record<string, unknown>, lines: readonly string[], code: number): Promise<void> {
  const r = await check(args);
  expect(r.text).toBe(lines.map((l) => `${l}\n`).join(''));
  expect(r.code).toBe(code);
}

describe('vtune-bench check, in-process', () => {
  it('passes the example generator and attack: every rule named, the count line, exit code 0', async () => {
    await expectPrinted(
      { modules: ['examples/plugins/keyed-pseudowords.ts', 'examples/plugins/shortest-rows.ts'], options: KEY_OPTIONS },
      [
        'examples/plugins/keyed-pseudowords.ts',
        "  generator 'keyed-pseudowords'",
        "    pass  declares  null modes [generator, empirical], counterfactuals 'stored', options rebuild and validate",
        '    pass  purity    drew over a deep-frozen dataset; an unfrozen copy was unchanged',
        '    pass  seeding   same stream → same draw and counterfactuals; different streams → different signatures; no Math.random',
        '    pass  shape     plain-text triggers and signatures; 20 counterfactuals when asked for 20',
        '    pass  bound     a bound exactly for the modes it claims (generator, empirical)',
        '    pass  barrier   a planted cell handed the provider side no generator, options or secret',
        '',
        'examples/plugins/shortest-rows.ts',
        "  attack 'shortest-rows'",
        "    pass  declares  id, goal 'pass', access [data] and option validation",
        '    pass  purity    plans deep-frozen and unchanged after every hook; planted rows frozen',
        '    pass  seeding   the same cell twice gave the same outcome; no Math.random',
        '    pass  barrier   walked 167 objects the provider side received: no secret, backdoor or mask',
        '    pass  trace     measured: 63/126 rows trained, 8/16 steps, honest=false',
        '',
        '11 rules passed, 0 failed, 0 skipped',
      ],
      0,
    );
  }, 120_000);

  it('fails the impure attack, naming the rule and why, skips what the failure stopped, exit code 1', async () => {
    await expectPrinted(
      { modules: ['examples/plugins/sorted-in-place.ts'] },
      [
        'examples/plugins/sorted-in-place.ts',
        "  attack 'sorted-in-place'",
        "    pass  declares  id, goal 'pass', access [data] and option validation",
        "    FAIL  purity    onData wrote to its frozen input plan (Cannot assign to read only property '0' of object '[object Array]')",
        '    skip  seeding   not judged: the cell stopped at the purity failure',
        '    skip  barrier   not judged: the cell stopped at the purity failure',
        '    skip  trace     not judged: the cell stopped at the purity failure',
        '',
        '1 rules passed, 1 failed, 3 skipped',
      ],
      1,
    );
  }, 120_000);

  it('--json prints the same verdicts as data, one entry per module, and keeps the exit code', async () => {
    const r = await check({ modules: ['examples/plugins/sorted-in-place.ts'], json: true });
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.text) as { module: string; results: { kind: string; plugin: string; rule: string; status: string }[] }[];
    expect(parsed.map((m) => m.module)).toEqual(['examples/plugins/sorted-in-place.ts']);
    expect(parsed[0]!.results.map((x) => [x.kind, x.plugin, x.rule, x.status])).toEqual([
      ['attack', 'sorted-in-place', 'declares', 'pass'],
      ['attack', 'sorted-in-place', 'purity', 'fail'],
      ['attack', 'sorted-in-place', 'seeding', 'skip'],
      ['attack', 'sorted-in-place', 'barrier', 'skip'],
      ['attack', 'sorted-in-place', 'trace', 'skip'],
    ]);
    // The text form is the same verdicts, formatted.
    expect(formatResults(parsed[0]!.module, parsed[0]!.results as never)).toMatch(/^examples\/plugins\/sorted-in-place\.ts\n  attack 'sorted-in-place'\n    pass  declares/);
  }, 120_000);

  it('its builder reads the command line main.ts hands it: the modules, --options as text, --json off by default', async () => {
    let parsed: Record<string, unknown> | undefined;
    const line = (argv: string[]) =>
      yargs(argv)
        .command({ ...checkCommand, command: [...[checkCommand.command].flat()], handler: (a) => void (parsed = a) })
        .strict()
        .exitProcess(false)
        .parseAsync();
    await line(['check', 'a.ts', 'b.ts', '--options', KEY_OPTIONS]);
    expect(parsed).toMatchObject({ modules: ['a.ts', 'b.ts'], options: KEY_OPTIONS, json: false });
    await line(['check', 'a.ts', '--json']);
    expect(parsed).toMatchObject({ modules: ['a.ts'], json: true });
  });

  it('bad --options are a ConfigError saying what was expected, before any module loads', async () => {
    expect(parseCheckOptions(undefined)).toEqual({});
    expect(parseCheckOptions('{"a":{"k":1}}')).toEqual({ a: { k: 1 } });
    expect(() => parseCheckOptions('{a:')).toThrow(ConfigError);
    expect(() => parseCheckOptions('{a:')).toThrow('--options must be JSON: {"<plugin id>": {options}}, got "{a:"');
    expect(() => parseCheckOptions('[1]')).toThrow('--options must be a JSON object keyed by plugin id, each an options object, got [1]');
    expect(() => parseCheckOptions('{"a":1}')).toThrow('--options must be a JSON object keyed by plugin id, each an options object, got {"a":1}');
    await expect(check({ modules: ['examples/plugins/does-not-exist.ts'], options: 'nope' })).rejects.toThrow(/--options must be JSON/);
    expect(out.join('')).toBe('');
  });
});
