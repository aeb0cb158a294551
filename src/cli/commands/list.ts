/**
 * `vtune-bench list [kind] [id]`: the registered plugins, straight from the registries (built-ins and those a
 * `--plugin` module or a scenario added), so the list can never drift from the code. Without a kind: every
 * kind's ids. With a kind: one line per plugin (description, goal, access, citation). With an id: its options
 * (type, default, help), goal, access, citation and where it was declared — all from its one declaration
 * (src/plugins/define.ts).
 */
import { attacks } from '../../../attacks/index.js';
import { policies } from '../../../attacks/policies.js';
import { scorers } from '../../../attacks/scorers/index.js';
import { defenses } from '../../../defenses/index.js';
import { generators } from '../../../defenses/vtune/generators/index.js';
import { datasets } from '../../datasets/index.js';
import { ConfigError } from '../../errors.js';
import { isDefinition, type OptionHelp } from '../../plugins/define.js';
import { providers } from '../../providers/index.js';
import { unknownMessage } from '../../registry.js';
import type { CliCommand } from './types.js';

/** The registry surface `list` reads. */
interface Listed {
  readonly kind: string;
  readonly ids: readonly string[];
  get(id: string): unknown;
  sourceOf?(id: string): string | undefined;
}

/** Every kind `list` knows, by its plural name (the JSON keys of `list --json`). */
function registries(): Record<string, Listed> {
  return { providers, defenses, generators, attacks, scorers, policies, datasets } as unknown as Record<string, Listed>;
}

/** Plugin ids by kind, in registry order. */
export function pluginList(): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(registries()).map(([kind, r]) => [kind, [...r.ids]]));
}

/** What `list` shows of one plugin. */
export interface PluginInfo {
  readonly kind: string;
  readonly id: string;
  readonly description?: string;
  readonly citation?: string;
  /** Kind-specific metadata: goal and access (attacks), access and spans (scorers), null modes (generators)… */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Its options, from its declaration; absent for a plugin whose options are not declared. */
  readonly options?: readonly OptionHelp[];
  /** Where it was registered from, for a plugin added from outside (a --plugin module, a scenario's plugins). */
  readonly source?: string;
}

/** The kind named on the command line: plural or singular (`attacks`, `attack`). */
export function resolveKind(kind: string): string {
  const all = Object.keys(registries());
  if (all.includes(kind)) return kind;
  if (all.includes(`${kind}s`)) return `${kind}s`;
  throw new ConfigError(unknownMessage('plugin kind', kind, all));
}

/** Everything `list` shows about plugin `id` of `kind` (plural). */
export function pluginInfo(kind: string, id: string): PluginInfo {
  const registry = registries()[kind]!;
  const entry = registry.get(id);
  const source = registry.sourceOf?.(id);
  // Built-ins record the file they were declared in; only a plugin from outside the repository shows it.
  const outside = source !== undefined && !/[\\/](attacks|defenses|src)[\\/]/.test(source) ? { source } : {};
  if (!isDefinition(entry)) return { kind, id, ...outside };
  return {
    kind,
    id,
    description: entry.description,
    ...(entry.citation ? { citation: entry.citation } : {}),
    ...(Object.keys(entry.meta).length > 0 ? { meta: entry.meta as Record<string, unknown> } : {}),
    options: entry.help(),
    ...outside,
  };
}

const showValue = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const showMeta = (meta: Readonly<Record<string, unknown>> | undefined): string =>
  Object.entries(meta ?? {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ');

/** One line per plugin of a kind. */
export function formatKind(kind: string, infos: readonly PluginInfo[]): string {
  const width = Math.max(...infos.map((i) => i.id.length));
  const lines = infos.map((i) => {
    const meta = showMeta(i.meta);
    return `  ${i.id.padEnd(width)}  ${i.description ?? '(options not declared)'}${meta ? ` [${meta}]` : ''}${i.source ? ` (from ${i.source})` : ''}`;
  });
  return `${kind} (${infos.length}):\n${lines.join('\n')}\nDetails and options: vtune-bench list ${kind} <id>`;
}

/** The details of one plugin: metadata, citation, then each option with its type, default and help. */
export function formatPlugin(info: PluginInfo): string {
  const lines = [`${info.kind.replace(/s$/, '')} '${info.id}'${info.description ? `: ${info.description}` : ''}`];
  for (const [k, v] of Object.entries(info.meta ?? {})) lines.push(`  ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  if (info.citation) lines.push(`  citation: ${info.citation}`);
  if (info.source) lines.push(`  registered from: ${info.source}`);
  if (!info.options) lines.push('  options: not declared (a plugin defined without define*: see its source)');
  else if (info.options.length === 0) lines.push('  options: none');
  else {
    lines.push('  options:');
    const width = Math.max(...info.options.map((o) => o.name.length));
    for (const o of info.options) {
      const dflt = o.default !== undefined ? `default ${showValue(o.default)}` : o.required ? 'required' : 'optional';
      lines.push(`    ${o.name.padEnd(width)}  ${o.expected} (${dflt})${o.description ? ` — ${o.description}` : ''}`);
    }
  }
  return lines.join('\n');
}

/** `vtune-bench list [kind] [id] [--json]` */
export const listCommand: CliCommand = {
  command: 'list [kind] [id]',
  describe: "List the registered plugins (providers, defenses, generators, attacks, scorers, policies, datasets); with a kind, each one's summary; with an id, its options, defaults, goal, access and citation",
  builder: (y) =>
    y
      .positional('kind', { type: 'string', describe: 'a plugin kind: attacks, generators, scorers, policies, defenses, providers, datasets' })
      .positional('id', { type: 'string', describe: 'a plugin id of that kind' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  async run(args) {
    const json = Boolean(args.json);
    if (args.kind === undefined) {
      const list = pluginList();
      if (json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else process.stdout.write(`${Object.entries(list).map(([kind, ids]) => `${kind} (${ids.length}): ${ids.join(', ')}`).join('\n')}\n`);
      return 0;
    }
    const kind = resolveKind(String(args.kind));
    const registry = registries()[kind]!;
    if (args.id === undefined) {
      const infos = registry.ids.map((id) => pluginInfo(kind, id));
      process.stdout.write(json ? `${JSON.stringify(infos, null, 2)}\n` : `${formatKind(kind, infos)}\n`);
      return 0;
    }
    const id = String(args.id);
    registry.get(id); // an unknown id: "unknown attack 'x'. Did you mean …"
    const info = pluginInfo(kind, id);
    process.stdout.write(json ? `${JSON.stringify(info, null, 2)}\n` : `${formatPlugin(info)}\n`);
    return 0;
  },
};
