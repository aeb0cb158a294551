/**
 * `vtune-bench check <module…>`: loads plugin modules (as `--plugin` would), then runs the contract rules of
 * each registered plugin's kind (src/check: declares, purity, seeding, barrier, trace for attacks; shape and
 * bound for generators and scorers) and prints what passes, fails and is skipped, naming the rule and the
 * plugin. Exit code 1 when any rule fails. The cells run on the real vtune defense and the built-in datasets
 * against the test-memorizer provider (a fast deterministic TEST DOUBLE), so a check takes seconds.
 */
import { checkPlugin, type RuleResult } from '../../check/index.js';
import { ConfigError } from '../../errors.js';
import { loadPlugins } from '../../plugins/load.js';
import type { CliCommand } from './types.js';

/** Parses `--options '{"<plugin id>": {…}}'`. */
export function parseCheckOptions(raw: unknown): Record<string, Record<string, unknown>> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch (err) {
    throw new ConfigError(`--options must be JSON: {"<plugin id>": {options}}, got ${JSON.stringify(raw)}`, { cause: err });
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed) || !Object.values(parsed).every(isObject)) throw new ConfigError(`--options must be a JSON object keyed by plugin id, each an options object, got ${String(raw)}`);
  return parsed as Record<string, Record<string, unknown>>;
}

/** One module's verdicts, as printed. */
export function formatResults(module: string, results: readonly RuleResult[]): string {
  const lines = [module];
  let current = '';
  for (const r of results) {
    const head = `${r.kind} '${r.plugin}'`;
    if (head !== current) lines.push(`  ${(current = head)}`);
    lines.push(`    ${r.status === 'fail' ? 'FAIL' : r.status.padEnd(4)}  ${r.rule.padEnd(8)}  ${r.detail}`);
  }
  return lines.join('\n');
}

/** `vtune-bench check <module…> [--options JSON] [--json]` */
export const checkCommand: CliCommand = {
  command: 'check <modules..>',
  describe: "Run the contract rules (purity, seeding, the information barrier, measured trace…) on a plugin module's generators, attacks and scorers",
  builder: (y) =>
    y
      .positional('modules', { type: 'string', array: true, describe: 'plugin module paths (.ts/.js) or npm package names' })
      .option('options', { type: 'string', describe: 'options per plugin id, as JSON: {"<id>": {...}} (e.g. a generator\'s key)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the verdicts as JSON' }),
  async run(args) {
    const options = parseCheckOptions(args.options);
    const modules = await loadPlugins(args.modules as string[], { from: process.cwd(), via: 'check' });
    const all: { module: string; results: RuleResult[] }[] = [];
    for (const m of modules) {
      const results: RuleResult[] = [];
      for (const p of m.plugins) results.push(...(await checkPlugin({ kind: p.kind, id: p.id, options: options[p.id] ?? {} })));
      all.push({ module: m.shown, results });
    }
    const flat = all.flatMap((m) => m.results);
    const count = (s: RuleResult['status']) => flat.filter((r) => r.status === s).length;
    if (args.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    else {
      process.stdout.write(`${all.map((m) => formatResults(m.module, m.results)).join('\n\n')}\n\n`);
      process.stdout.write(`${count('pass')} rules passed, ${count('fail')} failed, ${count('skip')} skipped\n`);
    }
    return count('fail') > 0 ? 1 : 0;
  },
};
