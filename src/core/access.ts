/**
 * Attack access against provider capability (a leaf module): what an attack declares it needs (its access
 * list, and training unless it never trains) against what a provider and a base model can give. The runner's
 * preflight checks every attack × model of a scenario with it before any cell runs; the pipeline checks its
 * own cell again (a caller may run a cell without the runner).
 */
import type { AttackAccess, Model, Provider } from '../types.js';

/** What the check needs to know about an attack. */
export interface AccessNeeds {
  readonly id: string;
  readonly access: readonly AttackAccess[];
  readonly trains: boolean;
}

/** A need the provider or model cannot meet: 'train' or an access kind. */
export interface MissingAccess {
  readonly need: AttackAccess | 'train';
  /** e.g. "'weight-noise' needs 'weights' access, which provider 'openai' / model 'openai:gpt-4o-mini' cannot give (declares: train, generate)". */
  readonly message: string;
}

/** The first need of `attack` that `provider` / `base` cannot meet, or undefined when all are met. */
export function missingAccess(attack: AccessNeeds, provider: Provider, base: Model): MissingAccess | undefined {
  const where = `provider '${provider.id}' / model '${base.id}'`;
  const declares = `declares: ${[...new Set([...provider.capabilities, ...base.capabilities])].join(', ') || 'nothing'}`;
  if (attack.trains && (!provider.train || !provider.capabilities.has('train'))) {
    return { need: 'train', message: `'${attack.id}' trains, but ${where} cannot train (${declares})` };
  }
  for (const a of attack.access) {
    const ok =
      a === 'data' ||
      (a === 'generate' && base.capabilities.has('generate')) ||
      (a === 'logprobs' && base.capabilities.has('logprobs') && !!base.score) ||
      (a === 'embed' && base.capabilities.has('embed') && !!base.embed) ||
      (a === 'weights' && provider.capabilities.has('weights') && base.capabilities.has('weights') && !!provider.weights);
    if (!ok) return { need: a, message: `'${attack.id}' needs '${a}' access, which ${where} cannot give (${declares})` };
  }
  return undefined;
}
