/**
 * The backdoor-generator registry (DESIGN.md §5): id → factory. Each generator declares the null modes its
 * bound supports.
 */
import { defineRegistry } from '../../../src/registry.js';
import { keyed } from './keyed.js';
import { lmSampled } from './lm-sampled.js';
import { randomTokens } from './random-tokens.js';
import { splice } from './splice.js';
import { template } from './template.js';
import { wordlist } from './wordlist.js';

/** Every backdoor generator, by id. */
export const generators = defineRegistry('generator', {
  'random-tokens': randomTokens,
  wordlist,
  keyed,
  splice,
  'lm-sampled': lmSampled,
  template,
});

/** A registered generator id. */
export type GeneratorId = (typeof generators.ids)[number];
export type { Backdoor, BackdoorGenerator, DrawContext, GeneratorFactory } from './types.js';
