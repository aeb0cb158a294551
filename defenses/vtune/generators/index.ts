/**
 * The backdoor-generator registry (DESIGN.md §5): one declared generator per file (defineGenerator), keyed by
 * its id. Each declaration is the generator's factory (`generators.get(id)(options)` validates the options:
 * ConfigError naming the option) and carries its option schema (types, defaults, help), the null modes its
 * bound supports (`meta.nullModes`) and its citation. Generators from outside the repository join through
 * `register` (src/plugins/load.ts).
 */
import type { OptionsInput } from '../../../src/plugins/define.js';
import { registryOf } from '../../../src/registry.js';
import { inPlace } from './in-place.js';
import { keyed } from './keyed.js';
import { lmSampled } from './lm-sampled.js';
import { randomTokens } from './random-tokens.js';
import { reorder } from './reorder.js';
import { splice } from './splice.js';
import { template } from './template.js';
import type { GeneratorFactory } from './types.js';
import { wordlist } from './wordlist.js';

/** Every backdoor generator, by id. */
export const generators = registryOf('generator', [randomTokens, wordlist, keyed, splice, lmSampled, template, inPlace, reorder] as const satisfies readonly GeneratorFactory[]);

/** A registered generator id. */
export type GeneratorId = (typeof generators.ids)[number];

/** The options a scenario may write for each generator id (defaults optional), from the declarations. */
export type GeneratorOptions = { [K in GeneratorId]: OptionsInput<(typeof generators.entries)[K]> };
export type { Backdoor, BackdoorGenerator, DrawContext, GeneratorFactory } from './types.js';
