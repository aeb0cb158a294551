/**
 * Scenario → cells (DESIGN.md §4): dataset × model × defense × attack × seed, each with its stable key and
 * the labels tables group by. Also the checks that need data or providers, run before any cell starts.
 */
import { defenses } from '../../defenses/index.js';
import { missingAccess } from '../core/access.js';
import { recordedOptions, schemaOf } from '../plugins/secret.js';
import type { AnyAttack, AttackFactory } from '../core/attack.js';
import { ConfigError, VtuneError } from '../errors.js';
import type { RecordedCell } from '../records/schema.js';
import type { Provider } from '../types.js';
import type { Catalog } from './catalog.js';
import type { CellSpec } from './contract.js';
import { defenseAccessProblems, type ModelAccess } from './defense-access.js';
import { attackLabel, defenseLabel, type Scenario } from './scenario.js';

/** A cell to run: the pipeline's spec plus what the records keep about it. */
export interface PlannedCell {
  readonly spec: CellSpec;
  readonly recorded: RecordedCell;
  /** Provider id (the model's prefix), for per-provider concurrency. */
  readonly provider: string;
}

/** Every cell of a scenario, in a stable order (datasets, models, defenses, attacks, seeds). */
export function expandCells(scenario: Scenario, cellKey: Catalog['cellKey']): PlannedCell[] {
  const cells: PlannedCell[] = [];
  for (const dataset of scenario.datasets) {
    for (const model of scenario.models) {
      for (const defense of scenario.defenses) {
        for (const attack of scenario.attacks) {
          for (const seed of scenario.seeds) {
            const { label: _dl, ...datasetSpec } = dataset;
            const body: Omit<CellSpec, 'key'> = {
              dataset: datasetSpec,
              model,
              defense: { id: defense.id, options: defense.options },
              attack: { id: attack.id, options: attack.options },
              hyper: scenario.hyper,
              seed,
              ...(scenario.utility !== undefined && { utility: scenario.utility }),
            };
            // The key hashes the options as written (committed records stay valid); the records keep them as
            // recorded: a secret option (keyed's key) as its fingerprint.
            const key = cellKey(body);
            const o = defense.options;
            const recordedDefense = recordedDefenseConfig(defense);
            cells.push({
              spec: { key, ...body },
              provider: model.slice(0, model.indexOf(':')),
              recorded: {
                dataset: body.dataset,
                model: body.model,
                defense: { id: defense.id, options: recordedDefense.options },
                attack: body.attack,
                hyper: body.hyper,
                seed: body.seed,
                labels: {
                  dataset: dataset.label ?? dataset.spec,
                  model,
                  defense: defenseLabel(recordedDefense, scenario.defenses.map(recordedDefenseConfig)),
                  generator: typeof o.generator === 'string' ? o.generator : 'default',
                  nullMode: typeof o.nullMode === 'string' ? o.nullMode : 'default',
                  attack: attackLabel(attack, scenario.attacks),
                },
              },
            });
          }
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const c of cells) {
    if (seen.has(c.spec.key)) throw new ConfigError(`scenario '${scenario.name}' has two identical cells (${c.recorded.labels.attack}, seed ${c.spec.seed})`);
    seen.add(c.spec.key);
  }
  return cells;
}

/**
 * A scenario's defense entry as records, labels and messages may show it (src/plugins/secret.ts): each option
 * the defense (or its generator) declares secret replaced by its fingerprint; the same object when none is given.
 */
export function recordedDefenseConfig<D extends Scenario['defenses'][number]>(d: D): D {
  const options = recordedOptions(schemaOf(defenses, d.id), d.options);
  return options === d.options ? d : { ...d, options };
}

/** A scenario as its manifest records it: every defense entry by recordedDefenseConfig. */
export function recordedScenario(s: Scenario): Scenario {
  const list = s.defenses.map(recordedDefenseConfig);
  return list.every((d, i) => d === s.defenses[i]) ? s : { ...s, defenses: list };
}

/** Cells of shard `index` (1-based) of `count`: every count-th cell, so each shard gets a mix of everything. */
export function shardCells<T>(cells: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard) return cells.slice();
  return cells.filter((_, i) => i % shard.count === shard.index - 1);
}

/** Parses `i/n` (1 ≤ i ≤ n). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new ConfigError(`--shard: expected i/n with 1 ≤ i ≤ n (e.g. 1/2), got '${text}'`);
  return { index, count };
}

/**
 * Everything that can be known to fail before the first cell: each provider opens (a hosted provider without
 * its API key fails here), each base model opens, each attack's declared access (and training) is within what
 * each model and its provider can give (a weights attack on an `openai:` model fails here), and each dataset ×
 * defense is feasible (no more backdoors than rows).
 * Returns the opened providers for the run to share.
 */
export async function preflight(scenario: Scenario, catalog: Catalog, file: string): Promise<Map<string, Provider>> {
  const providers = new Map<string, Provider>();
  const problems: string[] = [];
  for (const [i, model] of scenario.models.entries()) {
    const id = model.slice(0, model.indexOf(':'));
    if (providers.has(id)) continue;
    try {
      providers.set(id, await catalog.openProvider(id, scenario.providers?.[id]));
    } catch (err) {
      if (!(err instanceof VtuneError)) throw err;
      problems.push(`models[${i}]: provider '${id}' cannot be used: ${err.message}`);
    }
  }
  const access: (ModelAccess | undefined)[] = [];
  const attacks: { index: number; attack: AnyAttack }[] = [];
  for (const [j, a] of scenario.attacks.entries()) {
    try {
      attacks.push({ index: j, attack: (catalog.attacks.get(a.id) as AttackFactory)(a.options) });
    } catch (err) {
      if (!(err instanceof VtuneError)) throw err;
      problems.push(`attacks[${j}]: ${err.message}`);
    }
  }
  // Open each base model once (a missing model file or an unknown hosted model fails here, not in cell 1), and
  // check every attack's access against it.
  for (const [i, model] of scenario.models.entries()) {
    const provider = providers.get(model.slice(0, model.indexOf(':')));
    if (!provider) continue;
    try {
      const opened = await provider.model(model.slice(model.indexOf(':') + 1));
      access[i] = { spec: model, capabilities: opened.capabilities, ...(opened.unavailable && { unavailable: opened.unavailable }) };
      try {
        for (const { index, attack } of attacks) {
          const missing = missingAccess(attack, provider, opened);
          if (missing) problems.push(`attacks[${index}] on models[${i}] ('${model}'): ${missing.message}`);
        }
      } finally {
        await opened.dispose?.();
      }
    } catch (err) {
      if (!(err instanceof VtuneError)) throw err;
      problems.push(`models[${i}]: ${err.message}`);
    }
  }
  problems.push(...defenseAccessProblems(scenario.defenses, access, catalog.defenses));
  for (const [i, dataset] of scenario.datasets.entries()) {
    let rows: number;
    try {
      const loaded = await catalog.loadDataset(dataset.spec, { seed: scenario.seeds[0]!, size: dataset.size, heldOut: dataset.heldOut, ...(dataset.fieldMap && { mapping: dataset.fieldMap }) });
      rows = loaded.train.length;
      if (dataset.size !== undefined && rows < dataset.size) {
        problems.push(`datasets[${i}].size: expected at most ${rows} (the rows '${dataset.spec}' has), got ${dataset.size}`);
      }
    } catch (err) {
      if (!(err instanceof VtuneError)) throw err;
      problems.push(`datasets[${i}]: ${err.message}`);
      continue;
    }
    for (const [j, defense] of scenario.defenses.entries()) {
      const count = defense.options.count;
      if (typeof count === 'number' && count > rows) {
        problems.push(`defenses[${j}].options.count: ${count} backdoors is more than the ${rows} rows of datasets[${i}] ('${dataset.spec}'); expected at most ${rows}`);
      }
      const rate = defense.options.rate;
      if (typeof rate === 'number' && Math.round(rate * rows) < 1) {
        problems.push(`defenses[${j}].options.rate: ${rate} of ${rows} rows of datasets[${i}] plants no backdoor; expected at least ${(1 / rows).toPrecision(2)}`);
      }
    }
  }
  if (problems.length > 0) {
    await Promise.all([...providers.values()].map((p) => p.close?.()));
    throw new ConfigError(`${file}: ${problems.join(`\n  ${file}: `)}`);
  }
  return providers;
}
