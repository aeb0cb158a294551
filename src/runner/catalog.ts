/**
 * What the runner needs from the rest of the project: the plugin registries (to validate a scenario with
 * "did you mean" hints), providers, datasets and the pipeline's runCell. `projectCatalog` binds the real
 * modules; tests pass their own (test/runner/fake-catalog.ts). `cellPlugins` turns a catalog into what the
 * pipeline receives through its dependencies (the pipeline itself imports no registry).
 */
import { attacks } from '../../attacks/index.js';
import { defenses } from '../../defenses/index.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { loadDataset } from '../datasets/index.js';
import type { FieldMapping } from '../datasets/formats.js';
import type { AttackFactory } from '../core/attack.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../errors.js';
import { cellKey, runCell, type CellPlugins, type DefenseFactory } from '../pipeline/cell.js';
import { providers } from '../providers/index.js';
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
  /** Opens a provider with its options; a missing API key is a ConfigError here. */
  openProvider(id: string, options?: Readonly<Record<string, unknown>>): Promise<Provider>;
  /** Loads a dataset spec as the pipeline will (used up front to check settings against its size). */
  loadDataset(spec: string, options: { seed: number; size?: number; heldOut?: number; mapping?: FieldMapping }): Promise<Dataset>;
  readonly runCell: RunCell;
  readonly cellKey: CellKeyFn;
}

/** The real project: attacks/, defenses/, src/providers, src/datasets and src/pipeline. */
export const projectCatalog: Catalog = {
  attacks,
  defenses,
  generators,
  providers,
  openProvider: async (id, options = {}) => {
    const factory = providers.get(id) as (o: Record<string, unknown>) => Provider | Promise<Provider>;
    return await factory({ ...options });
  },
  loadDataset,
  runCell,
  cellKey,
};

/**
 * The plugins a cell runs with, from a catalog's registries: what the runner and the queue worker pass to
 * runCell with their providers. Unknown ids fail with the registry's did-you-mean message.
 */
export function cellPlugins(catalog: Catalog): CellPlugins {
  return {
    attack: (id, options) => (catalog.attacks.get(id) as AttackFactory)(options),
    defense: (id) => {
      if (!catalog.defenses) throw new ConfigError(`defense '${id}': this catalog has no defenses`);
      return catalog.defenses.get(id) as DefenseFactory;
    },
    loadDataset: (spec, options) => catalog.loadDataset(spec, options),
    clock: systemClock,
  };
}
