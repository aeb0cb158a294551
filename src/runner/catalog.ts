/**
 * What the runner needs from the rest of the project: the plugin registries (to validate a scenario with
 * "did you mean" hints), providers, datasets and the pipeline's runCell. The default catalog binds the real
 * modules; tests pass their own. `VTUNE_CATALOG=<module>` swaps the catalog of the CLI (a module exporting
 * `catalog`), which is how the kill-and-resume test drives the real CLI with a deterministic pipeline.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Dataset, Provider } from '../types.js';
import type { CellKeyFn, RunCell } from './contract.js';

/** The registry surface the scenario validator uses (src/registry.ts Registry, any entry type). */
export interface PluginRegistry {
  readonly kind: string;
  readonly ids: readonly string[];
  has(id: string): boolean;
  get(id: string): unknown;
}

/** The project's plugins, providers, datasets and pipeline, as the runner sees them. */
export interface Catalog {
  /** Attack factories: `attacks.get(id)(options)` validates options (ConfigError naming the option). */
  readonly attacks: PluginRegistry;
  /** Defense factories (`vtune`, rivals), validated the same way. */
  readonly defenses?: PluginRegistry;
  /** vTune's backdoor generators, for `defenses[i].options.generator`. */
  readonly generators?: PluginRegistry;
  /** Provider ids, for the `<provider>:` prefix of model names. */
  readonly providers: PluginRegistry;
  /** Opens (and caches nothing: the runner does) a provider; a missing API key is a ConfigError here. */
  openProvider(id: string): Promise<Provider>;
  /** Loads a dataset spec as the pipeline will (used up front to check settings against its size). */
  loadDataset(spec: string, options: { seed: number; size?: number; heldOut?: number }): Promise<Dataset>;
  readonly runCell: RunCell;
  readonly cellKey: CellKeyFn;
}

/** The catalog of the real project modules, or the module named by VTUNE_CATALOG. */
export async function loadCatalog(): Promise<Catalog> {
  const override = process.env.VTUNE_CATALOG;
  if (override) {
    const url = pathToFileURL(isAbsolute(override) ? override : resolve(override)).href;
    const mod = (await import(url)) as { catalog?: Catalog };
    if (!mod.catalog) throw new ConfigError(`VTUNE_CATALOG=${override}: the module exports no 'catalog'`);
    return mod.catalog;
  }
  return projectCatalog();
}

// The specifiers are variables so this file type-checks while sibling modules are still being written; the
// shapes are checked at run time instead, with an error that says which module is missing what.
const MODULES = {
  attacks: '../../attacks/index.js',
  defenses: '../../defenses/index.js',
  generators: '../../defenses/vtune/generators/index.js',
  providers: '../providers/index.js',
  datasets: '../datasets/index.js',
  pipeline: '../pipeline/cell.js',
};

async function importModule(name: keyof typeof MODULES): Promise<Record<string, unknown> | undefined> {
  const spec = MODULES[name];
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    if (isMissingModule(err, spec)) return undefined;
    throw err;
  }
}

function isMissingModule(err: unknown, spec: string): boolean {
  const code = (err as { code?: string }).code;
  const base = spec.replace(/^(\.\.\/)+/, '').replace(/\.js$/, '');
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(base);
}

function findRegistry(mod: Record<string, unknown> | undefined, names: readonly string[]): PluginRegistry | undefined {
  if (!mod) return undefined;
  for (const n of names) {
    const r = mod[n] as PluginRegistry | undefined;
    if (r && typeof r.has === 'function' && typeof r.get === 'function' && Array.isArray(r.ids)) return r;
  }
  return undefined;
}

async function projectCatalog(): Promise<Catalog> {
  const [attacksMod, defensesMod, generatorsMod, providersMod, datasetsMod, pipelineMod] = await Promise.all([
    importModule('attacks'),
    importModule('defenses'),
    importModule('generators'),
    importModule('providers'),
    importModule('datasets'),
    importModule('pipeline'),
  ]);
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new ConfigError(`vtune-bench is missing ${what}; this build cannot run scenarios`);
    return value;
  };
  const attacks = need(findRegistry(attacksMod, ['attacks']), "the attack registry (attacks/index.ts 'attacks')");
  const providers = need(findRegistry(providersMod, ['providers']), "the provider registry (src/providers/index.ts 'providers')");
  const openProvider = need(providersMod?.openProvider as Catalog['openProvider'] | undefined, "openProvider (src/providers/index.ts)");
  const loadDataset = need(datasetsMod?.loadDataset as Catalog['loadDataset'] | undefined, 'loadDataset (src/datasets/index.ts)');
  const runCell = need(pipelineMod?.runCell as RunCell | undefined, 'runCell (src/pipeline/cell.ts)');
  const cellKey = need(pipelineMod?.cellKey as CellKeyFn | undefined, 'cellKey (src/pipeline/cell.ts)');
  return {
    attacks,
    defenses: findRegistry(defensesMod, ['defenses']),
    generators: findRegistry(generatorsMod, ['generators']),
    providers,
    openProvider,
    loadDataset,
    runCell,
    cellKey,
  };
}
