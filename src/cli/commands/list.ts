/**
 * `vtune-bench list`: every registered plugin of every kind (providers, defenses, backdoor generators, attacks,
 * row scorers, datasets), straight from the registries, so the list can never drift from the code.
 */
import { attacks } from '../../../attacks/index.js';
import { scorers } from '../../../attacks/scorers/index.js';
import { defenses } from '../../../defenses/index.js';
import { generators } from '../../../defenses/vtune/generators/index.js';
import { datasets } from '../../datasets/index.js';
import { providers } from '../../providers/index.js';
import type { CliCommand } from './types.js';

/** Plugin ids by kind, in registry order. */
export function pluginList(): Record<string, readonly string[]> {
  return {
    providers: providers.ids,
    defenses: defenses.ids,
    generators: generators.ids,
    attacks: attacks.ids,
    scorers: scorers.ids,
    datasets: datasets.ids,
  };
}

/** `vtune-bench list [--json]` */
export const listCommand: CliCommand = {
  command: 'list',
  describe: 'List every registered plugin: providers, defenses, generators, attacks, scorers, datasets',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  async run(args) {
    const list = pluginList();
    if (args.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else process.stdout.write(`${Object.entries(list).map(([kind, ids]) => `${kind} (${ids.length}): ${ids.join(', ')}`).join('\n')}\n`);
    return 0;
  },
};
